"""`plot` and `report` on a fixture of run records, empty/partial results, significance marks.

TEST FIXTURE: ``make_records`` writes fake but well-formed run records (config.json from the
real config builder, env.json, epochs.jsonl, ranks.npy, result.json) into a tmp_path. The
numbers are drawn from geometric rank distributions, not from training; nothing here is ever
written under results/."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from scipy import stats as sps
from typer.testing import CliRunner

from lares_bench.cli import app
from lares_bench.evaluation import metrics_from_ranks
from lares_bench.experiment import build_run_config
from lares_bench.plots import plot_all
from lares_bench.report import build_main_tables, write_report
from lares_bench.runs import atomic_write_json, atomic_write_npy, run_hash
from lares_bench.stats import holm, per_user_metric

N_USERS, N_ITEMS, DATASET = 300, 50, "toy"
MAIN_QUALITY = {"pop": 0.03, "sasrec": 0.09, "duorec": 0.10, "lares-norpt": 0.105, "lares": 0.12}
DEPTH_QUALITY = {1: 0.08, 2: 0.10, 4: 0.12, 8: 0.11}  # an "overthinking" dip after 4


def fake_ranks(quality: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.minimum(rng.geometric(quality, N_USERS), N_ITEMS).astype(np.int32)


def write_fake_run(root: Path, suite: str, model: str, seed: int, ranks: np.ndarray,
                   model_overrides: dict | None = None, by_depth: dict | None = None,
                   train_seconds: float = 10.0, train_overrides: dict | None = None) -> Path:
    """TEST FIXTURE: one fake finished run directory."""
    overrides = {"model": {"d": 16, **(model_overrides or {})}} if model.startswith("lares") else {}
    if train_overrides:
        overrides["train"] = train_overrides
    cfg = build_run_config(DATASET, model, seed=seed, max_len=20, suite=suite, overrides=overrides, device="cpu")
    path = root / "runs" / suite / DATASET / model / run_hash(cfg, "fixture")
    path.mkdir(parents=True)
    atomic_write_json(path / "config.json", {**cfg.to_dict(), "data_fingerprint": "fixture"})
    atomic_write_json(path / "env.json", {"device": "cpu", "device_name": "fixture-cpu"})
    lines = []
    for e in range(1, 6):
        valid = metrics_from_ranks(np.maximum(1, ranks + 6 - e), cfg.eval.ks)
        lines.append({"stage": "spt", "epoch": e, "loss": 5.0 - e * 0.3, "train_seconds": 1.0,
                      "eval_seconds": 0.1, "valid": valid})
    if model.startswith("lares") and cfg.model_config.rpt:
        lines.append({"stage": "rpt", "epoch": 1, "loss": 0.01, "train_seconds": 1.0,
                      "eval_seconds": 0.1, "valid": metrics_from_ranks(ranks, cfg.eval.ks), "reward": 0.2})
        lines.append({"stage": "rpt", "epoch": 0, "valid": lines[4]["valid"], "note": "SPT"})
    (path / "epochs.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    atomic_write_npy(path / "ranks.npy", ranks)
    atomic_write_npy(path / "valid_ranks.npy", ranks)
    result = {
        "run": path.name, "config": cfg.to_dict(), "selected_epoch": 5, "epochs_run": len(lines),
        "valid": lines[-1]["valid"], "test": metrics_from_ranks(ranks, cfg.eval.ks),
        "train_seconds": train_seconds, "seconds_per_epoch": 1.0, "test_eval_seconds": 0.05,
        "n_params": 12345, "n_users": N_USERS, "n_items": N_ITEMS,
    }
    if by_depth is not None:
        result["test_by_depth"] = {str(k): metrics_from_ranks(r, cfg.eval.ks) for k, r in by_depth.items()}
    atomic_write_json(path / "result.json", result)
    return path


def make_records(root: Path, main: bool = True, ablation: bool = True) -> None:
    """TEST FIXTURE: a main suite (5 models x 3 seeds) and an ablation sweep (depths 1, 2, 4, 8
    x {SPT+RPT, SPT only} x 2 seeds, test depths 1..8 each, two named variants)."""
    if main:
        for i, (model, q) in enumerate(MAIN_QUALITY.items()):
            for seed in range(3):
                write_fake_run(root, "main", model, seed, fake_ranks(q, 100 * i + seed),
                               train_seconds=5.0 * (i + 1))
    if not ablation:
        return
    depths = list(DEPTH_QUALITY)
    for rpt in (True, False):
        for d, q in DEPTH_QUALITY.items():
            for seed in range(2):
                q_run = q if rpt else q * 0.9
                ranks = fake_ranks(q_run, 2000 + 10 * d + seed + 500 * rpt)
                by_depth = {k: fake_ranks(q_run * (1 - 0.02 * abs(k - d)), 1000 + 10 * k + seed) for k in depths}
                by_depth[d] = ranks  # the selected model at its own depth, as the executor scores it
                write_fake_run(
                    root, "ablation", "lares", seed, ranks,
                    {"rpt": rpt, "mean_recurrence": d, "eval_depth": d, "test_depths": depths},
                    by_depth=by_depth, train_seconds=3.0 * d,
                )
    for j, model in enumerate(("lares-notla", "lares-nopre")):
        for seed in range(2):
            write_fake_run(root, "ablation", model, seed, fake_ranks(0.10 - 0.01 * j, 3000 + 10 * j + seed),
                           {"mean_recurrence": 4, "eval_depth": 4, "test_depths": depths})


def check_png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(path)
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert img[..., :3].std() > 0.01  # not a blank canvas


def check_pdf(path: Path) -> None:
    data = path.read_bytes()
    assert data[:5] == b"%PDF-" and b"%%EOF" in data[-64:]


def test_plot_all_on_fixture(tmp_path):
    make_records(tmp_path)
    out = tmp_path / "plots"
    figures, notes = plot_all(tmp_path, out)
    drawn = {f.name for f in figures if f.drawn}
    assert drawn == {"depth", "depth_train_test", "ablation", "main", "valid_main", "valid_ablation", "compute"}
    for f in figures:
        assert [p.suffix for p in f.paths] == [".png", ".pdf"]
        check_png(f.paths[0])
        check_pdf(f.paths[1])
    assert notes == []


def test_plot_compute_with_flops(tmp_path):
    make_records(tmp_path)
    figures, _ = plot_all(tmp_path, tmp_path / "plots", compute_x="flops", formats=("png",))
    compute = next(f for f in figures if f.name == "compute")
    assert compute.drawn, compute.notes


def test_plot_empty_and_partial_results_explain_what_is_missing(tmp_path):
    figures, notes = plot_all(tmp_path, tmp_path / "plots")
    assert figures == [] and "no finished runs" in notes[0]

    make_records(tmp_path, ablation=False)  # main suite only
    figures, _ = plot_all(tmp_path, tmp_path / "plots")
    by_name = {f.name: f for f in figures}
    assert by_name["main"].drawn and not by_name["depth"].drawn
    assert "lares-bench ablate --datasets toy" in by_name["depth"].notes[-1]
    assert not (tmp_path / "plots" / DATASET / "depth.png").exists()


def test_plot_reports_unfinished_and_missing_cells(tmp_path):
    make_records(tmp_path, main=False)
    # one cell lost a seed (result.json gone = the run was killed midway)
    runs = sorted((tmp_path / "runs" / "ablation" / DATASET / "lares").iterdir())
    killed = next(r for r in runs if json.loads((r / "result.json").read_text())["config"]["model_config"]["mean_recurrence"] == 8)
    (killed / "result.json").unlink()
    figures, _ = plot_all(tmp_path, tmp_path / "plots", formats=("png",))
    depth = next(f for f in figures if f.name == "depth")
    assert depth.drawn
    assert any("unfinished run" in n and killed.name in n for n in depth.notes)
    assert any("depth 8: 1 of 2 seeds" in n for n in depth.notes)


def test_plots_use_one_setting_per_model_like_the_report(tmp_path):
    from lares_bench import plots

    make_records(tmp_path, ablation=False)  # sasrec: 3 seeds trained to early stopping
    write_fake_run(tmp_path, "main", "sasrec", 7, fake_ranks(0.5, 7),
                   train_overrides={"max_train_seconds": "60"})  # one time-budgeted run
    rec = plots.load_records(tmp_path)
    sasrec = rec.main[rec.main["model"] == "sasrec"]
    assert len(sasrec) == 3 and (sasrec["budget_s"] == 0).all()
    assert any("sasrec" in n and "60 s budget" in n and "left out" in n for n in rec.notes)


def test_validation_figure_draws_one_panel_per_model_when_there_are_many(tmp_path, monkeypatch):
    from lares_bench import plots

    make_records(tmp_path, ablation=False)  # 5 models
    rec = plots.load_records(tmp_path)
    calls = []
    real = plots._validation_panels
    monkeypatch.setattr(plots, "_validation_panels", lambda *a: calls.append(a[1]) or real(*a))
    monkeypatch.setattr(plots, "SINGLE_PANEL_MAX", 3)
    fig = plots.validation_figure(rec, DATASET, tmp_path / "p", formats=("png",))
    assert fig.drawn and len(calls) == 1 and len(calls[0]) == 5
    check_png(fig.paths[0])
    monkeypatch.setattr(plots, "SINGLE_PANEL_MAX", 6)
    assert plots.validation_figure(rec, DATASET, tmp_path / "q", formats=("png",)).drawn
    assert len(calls) == 1  # five curves fit one axes


def test_significance_matches_scipy_with_holm(tmp_path):
    make_records(tmp_path, ablation=False)
    tables, _ = build_main_tables(tmp_path, "main")
    t = tables[0]
    runs = tmp_path / "runs" / "main" / DATASET

    def ranks(model):  # seeds stacked in seed order
        paths = sorted((runs / model).iterdir(), key=lambda p: json.loads((p / "result.json").read_text())["config"]["train"]["seed"])
        return np.stack([np.load(p / "ranks.npy") for p in paths])

    ours = per_user_metric(ranks("lares"), "NDCG@10").mean(0)
    baselines = ["pop", "sasrec", "duorec"]
    pvals = [sps.ttest_rel(ours, per_user_metric(ranks(b), "NDCG@10").mean(0)).pvalue for b in baselines]
    want = dict(zip(baselines, holm(pvals), strict=True))
    got = t.tests[t.tests["metric"] == "NDCG@10"].set_index("baseline")["p_holm"]
    for b in baselines:
        assert got[b] == pytest.approx(want[b])
    seed_means = lambda m: per_user_metric(ranks(m), "NDCG@10").mean(1)  # noqa: E731
    p_seeds = t.tests[t.tests["metric"] == "NDCG@10"].set_index("baseline")["p_seeds"]
    want_duo = sps.ttest_ind(seed_means("lares"), seed_means("duorec"), equal_var=False).pvalue
    assert p_seeds["duorec"] == pytest.approx(want_duo)
    assert t.best_baseline["NDCG@10"] == "duorec"
    lares, duo = t.mean.loc["lares", "NDCG@10"], t.mean.loc["duorec", "NDCG@10"]
    assert t.improvement["NDCG@10"] == pytest.approx((lares / duo - 1) * 100)
    assert t.marks["NDCG@10"] == ("**" if want["duorec"] < 0.01 else "*" if want["duorec"] < 0.05 else "")


def test_report_on_fixture(tmp_path):
    make_records(tmp_path)
    out = tmp_path / "paper_figures"
    written, notes = write_report(tmp_path, out)
    names = {p.name for p in written}
    for name in ("main_table.tex", "main_table.md", "significance.csv", "ablation_table.tex",
                 "ablation_table.md", "efficiency_table.tex", "efficiency_table.md",
                 "depth_toy.png", "depth_toy.pdf", "preview.tex"):
        assert name in names, name
    tex = (out / "main_table.tex").read_text()
    assert r"\textbf{" in tex and r"\underline{" in tex and "Improv." in tex
    md = (out / "main_table.md").read_text()
    assert "**" in md and "<ins>" in md and "LARES" in md
    eff = (out / "efficiency_table.md").read_text()
    assert "LARES (d=8)" in eff and "MFLOPs" in eff
    check_png(out / "depth_toy.png")
    assert notes == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_report_latex_compiles(tmp_path):
    make_records(tmp_path)
    out = tmp_path / "paper_figures"
    write_report(tmp_path, out)
    proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "preview.tex"],
                          cwd=out, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:]
    check_pdf(out / "preview.pdf")


def test_cli_plot_and_report(tmp_path):
    runner = CliRunner()
    empty = runner.invoke(app, ["plot", "--results-dir", str(tmp_path), "--out", str(tmp_path / "p")])
    assert empty.exit_code == 1 and "no finished runs" in empty.output
    assert "Traceback" not in empty.output
    make_records(tmp_path)
    res = runner.invoke(app, ["plot", "--results-dir", str(tmp_path), "--out", str(tmp_path / "p"), "--formats", "png"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "p" / DATASET / "depth.png").exists()
    res = runner.invoke(app, ["report", "--results-dir", str(tmp_path), "--out", str(tmp_path / "pf")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "pf" / "main_table.tex").exists()
