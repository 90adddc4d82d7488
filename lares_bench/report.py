"""``paper_figures/``: the main table (LaTeX, Markdown), the ablation table, the depth figure
and the efficiency table, all from run records.

Main table: mean (± std) over seeds per model and metric; per dataset and metric the best
value is bold and the second underlined. The improvement row is LARES (``lares``) over the
best baseline (every model whose name does not start with ``lares``). Significance: paired
tests over users on the stored per-user ranks (seeds averaged per user, ``stats.paired_test``)
of LARES against every baseline, Holm-corrected over the baselines of one dataset and metric;
the mark on the LARES cell is that of the best baseline (* p < 0.05, ** p < 0.01), and every
comparison is in significance.csv, with ``p_seeds``: Welch's t-test over the per-seed means
(``stats.seed_level_test``), which sees the seed-to-seed spread the paired test averages away.

Efficiency: parameters, forward FLOPs per example (``torch.utils.flop_counter`` on one forward
of a model rebuilt from the stored config, one sequence of ``max_len`` items, full ranking
included, eager attention so that attention is counted; FFT filters of FMLP-Rec/BSARec are not
counted by the counter), training seconds and test-set scoring time per user. LARES appears
once per training depth of the ablation sweep.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lares_bench import ablation
from lares_bench.runs import atomic_write_bytes, load_ranks
from lares_bench.stats import holm, paired_test, seed_level_test, significance_mark
from lares_bench.tables import (
    MAIN_METRICS,
    collect_records,
    device_names,
    one_setting_per_model,
    to_markdown,
)

OURS = "lares"


def is_baseline(model: str) -> bool:
    return not model.startswith("lares")


def model_label(model: str) -> str:
    from baselines import MODELS

    return MODELS[model].label if model in MODELS else model


def model_order(models: list[str]) -> list[str]:
    """Baselines in the suites' order, then the rest, then the LARES rows (``lares`` last)."""
    from lares_bench.suites import BASELINE_MODELS, LARES_MODELS

    known = [m for m in BASELINE_MODELS if m in models]
    other = sorted(m for m in models if m not in BASELINE_MODELS and is_baseline(m))
    ours = [m for m in LARES_MODELS[::-1] if m in models]  # variants first, "lares" last
    ours = [m for m in ours if m != OURS] + ([OURS] if OURS in models else [])
    rest = sorted(m for m in models if not is_baseline(m) and m not in ours)
    return known + other + rest + ours


# --- main table ----------------------------------------------------------------------------
@dataclass
class MainTable:
    dataset: str
    models: list[str]
    mean: pd.DataFrame  # [model x metric]
    std: pd.DataFrame
    seeds: pd.Series
    metrics: tuple[str, ...]
    improvement: dict[str, float] = field(default_factory=dict)  # % of LARES over best baseline
    budget_stopped: set[str] = field(default_factory=set)  # models stopped by a time budget
    best_baseline: dict[str, str] = field(default_factory=dict)
    marks: dict[str, str] = field(default_factory=dict)  # LARES vs best baseline, Holm
    tests: pd.DataFrame = field(default_factory=pd.DataFrame)  # every LARES-vs-baseline test

    def rank_of(self, metric: str) -> dict[str, int]:
        """1 = best, 2 = second (ties share the better rank), on the rounded means."""
        col = self.mean[metric].round(4)
        values = sorted(set(col), reverse=True)
        return {m: values.index(v) + 1 for m, v in col.items()}


def stacked_ranks(root: Path, runs: pd.DataFrame) -> np.ndarray | None:
    """[n_seeds, n_users] test ranks of one model (None when some ranks.npy is missing)."""
    arrays = []
    for run in runs.sort_values("seed")["run"]:
        path = root / run / "ranks.npy"
        if not path.exists():
            return None
        arrays.append(load_ranks(path))
    if len({a.shape for a in arrays}) != 1:
        return None
    return np.stack(arrays)


def build_main_tables(
    root: Path, suite: str = "main", history_mask: str = "inf", metrics=MAIN_METRICS, test: str = "ttest"
) -> tuple[list[MainTable], list[str]]:
    df = collect_records(root, suite)
    if df.empty:
        return [], [f"no finished runs of suite {suite!r} under {root / 'runs' / suite}; run "
                    f"`lares-bench run --suite {suite}`"]
    masks = sorted(df["history_mask"].unique())
    df = df[df["history_mask"] == history_mask]
    if df.empty:
        return [], [f"suite {suite!r} has runs with history mask {', '.join(masks)}, none with {history_mask!r}"]
    df, notes = one_setting_per_model(df)
    budgeted = df[df["budget_s"] > 0]
    for (dataset, model), grp in budgeted.groupby(["dataset", "model"], sort=False):
        notes.append(f"{dataset}/{model}: trained under a {grp['budget_s'].iloc[0]:.0f} s time budget "
                     f"({int(grp['budget_stop'].sum())} of {len(grp)} run(s) stopped by it), not to early stopping")
    metrics = tuple(m for m in metrics if f"test_{m}" in df)
    tables = []
    for dataset, grp in df.groupby("dataset", sort=False):
        models = model_order(list(grp["model"].unique()))
        g = grp.groupby("model")
        mean = g[[f"test_{m}" for m in metrics]].mean().rename(columns=lambda c: c[5:]).loc[models]
        std = g[[f"test_{m}" for m in metrics]].std(ddof=1).fillna(0.0).rename(columns=lambda c: c[5:]).loc[models]
        t = MainTable(dataset, models, mean, std, g.size().loc[models], metrics)
        t.budget_stopped = set(grp.loc[grp["budget_stop"].astype(bool), "model"])
        baselines = [m for m in models if is_baseline(m)]
        if OURS not in models:
            notes.append(f"{dataset}: no `{OURS}` runs in suite {suite!r}: no improvement row or significance")
        elif not baselines:
            notes.append(f"{dataset}: no baseline runs in suite {suite!r}")
        else:
            _compare(root, grp, t, baselines, test, notes)
        tables.append(t)
    return tables, notes


def _compare(root: Path, grp: pd.DataFrame, t: MainTable, baselines: list[str], test: str, notes: list[str]) -> None:
    ours = stacked_ranks(root, grp[grp["model"] == OURS])
    ranks = {b: stacked_ranks(root, grp[grp["model"] == b]) for b in baselines}
    rows = []
    for metric in t.metrics:
        best = max(baselines, key=lambda b: t.mean.loc[b, metric])
        t.best_baseline[metric] = best
        base = t.mean.loc[best, metric]
        t.improvement[metric] = (t.mean.loc[OURS, metric] / base - 1.0) * 100 if base > 0 else float("nan")
        tested = [b for b in baselines if ours is not None and ranks[b] is not None]
        pvals = []
        for b in tested:
            try:
                pvals.append(paired_test(ours, ranks[b], metric, test).p_value)
            except ValueError:  # e.g. Wilcoxon with every difference zero
                pvals.append(1.0)
        adjusted = holm(pvals) if pvals else []
        for b, p, adj in zip(tested, pvals, adjusted, strict=True):
            rows.append({"dataset": t.dataset, "metric": metric, "baseline": b,
                         "lares_mean": t.mean.loc[OURS, metric], "baseline_mean": t.mean.loc[b, metric],
                         "test": test, "p": p, "p_holm": adj, "mark": significance_mark(adj),
                         # the seed-to-seed view (Welch over per-seed means; nan under 2 seeds)
                         "p_seeds": seed_level_test(ours, ranks[b], metric).p_value})
        if best in tested:
            t.marks[metric] = significance_mark(adjusted[tested.index(best)])
    missing = [b for b in baselines if ranks[b] is None] + ([OURS] if ours is None else [])
    if missing:
        notes.append(f"{t.dataset}: no usable ranks.npy for {', '.join(missing)}: not tested")
    t.tests = pd.DataFrame(rows)


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "_": r"\_", "#": r"\#",
                  "$": r"\$", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                  "<": r"\textless{}", ">": r"\textgreater{}", "±": r"$\pm$", "†": r"$^\dagger$",
                  "µ": r"$\mu$"}


def latex_escape(text: str) -> str:
    return re.sub(r"[\\&%_#${}~^<>±†µ]", lambda m: _LATEX_SPECIAL[m.group()], str(text))


def _latex_spread(std: float, seeds: int) -> str:
    """The small-type ``± std`` after a LaTeX cell; nothing for one seed (std undefined)."""
    return rf"{{\scriptsize$\pm${std:.4f}}}" if seeds > 1 else ""


def _cell(t: MainTable, model: str, metric: str, fmt: str) -> str:
    mean, std = t.mean.loc[model, metric], t.std.loc[model, metric]
    mark = t.marks.get(metric, "") if model == OURS else ""
    rank = t.rank_of(metric)[model]
    seeds = int(t.seeds.loc[model])  # one seed: no std to show (undefined, not 0)
    if fmt == "latex":
        body = f"{mean:.4f}"
        body = rf"\textbf{{{body}}}" if rank == 1 else (rf"\underline{{{body}}}" if rank == 2 else body)
        sup = f"$^{{{mark}}}$" if mark else ""
        return rf"{body}{sup}{_latex_spread(std, seeds)}"
    body = f"{mean:.4f}"
    body = f"**{body}**" if rank == 1 else (f"<ins>{body}</ins>" if rank == 2 else body)
    mark = mark.replace("*", r"\*")  # literal stars, not Markdown emphasis
    return f"{body}{mark}" + (f" ± {std:.4f}" if seeds > 1 else "")


def main_table_markdown(tables: list[MainTable], caption: str) -> str:
    parts = [caption, ""]
    for t in tables:
        rows = []
        for m in t.models:
            row = {"model": model_label(m) + (" †" if m in t.budget_stopped else "")}
            row.update({k: _cell(t, m, k, "md") for k in t.metrics})
            row["seeds"] = int(t.seeds[m])
            rows.append(row)
        if t.improvement:
            row = {"model": "Improv. (LARES vs best baseline)"}
            row.update({k: f"{t.improvement[k]:+.2f}%" for k in t.metrics})
            row["seeds"] = ""
            rows.append(row)
        parts += [f"### {t.dataset}", "", to_markdown(pd.DataFrame(rows))]
    return "\n".join(parts)


def main_table_latex(tables: list[MainTable], caption: str, label: str = "tab:main") -> str:
    metrics = tables[0].metrics
    lines = [
        r"\begin{table*}[t]", r"\centering",
        rf"\caption{{{latex_escape(caption)}}}", rf"\label{{{label}}}",
        r"\resizebox{\ifdim\width>\textwidth\textwidth\else\width\fi}{!}{%",  # shrink, never enlarge
        r"\begin{tabular}{l" + "c" * len(metrics) + "}", r"\toprule",
        "Model & " + " & ".join(latex_escape(m) for m in metrics) + r" \\",
    ]
    for t in tables:
        lines += [r"\midrule", rf"\multicolumn{{{len(metrics) + 1}}}{{l}}{{\textit{{{latex_escape(t.dataset)}}}}} \\"]
        for m in t.models:
            cells = " & ".join(_cell(t, m, k, "latex") for k in t.metrics)
            dagger = r"$^\dagger$" if m in t.budget_stopped else ""
            lines.append(f"{latex_escape(model_label(m))}{dagger} & {cells} \\\\")
        if t.improvement:
            imp = " & ".join(latex_escape(f"{t.improvement[k]:+.2f}%") for k in t.metrics)
            lines += [r"\cmidrule{2-" + str(len(metrics) + 1) + "}", f"Improv. & {imp} \\\\"]
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table*}", ""]
    return "\n".join(lines)


# --- ablation table ------------------------------------------------------------------------
def ablation_summary(root: Path) -> tuple[pd.DataFrame, list[str]]:
    """Rows of ``ablation.ablation_tables(...).variants`` for every dataset (latest settings)."""
    runs = ablation.load_runs(root)
    if runs.empty:
        return pd.DataFrame(), ["no finished ablation runs; run `lares-bench ablate`"]
    runs, notes = ablation.latest_settings(runs, root)
    frames = []
    for dataset, grp in runs.groupby("dataset", sort=False):
        t = ablation.ablation_tables(root, grp)
        notes += t.notes
        if t.variants.empty:
            continue
        frames.append(t.variants.assign(
            dataset=dataset, depth=t.ref_depth, scale=ablation.training_scale(root, grp)
        ))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), notes


def ablation_latex(summary: pd.DataFrame, metrics=("HR@10", "NDCG@10")) -> str:
    datasets = list(dict.fromkeys(summary["dataset"]))
    variants = list(dict.fromkeys(summary["variant"]))
    depth = ", ".join(str(d) for d in sorted(set(summary["depth"])))
    n = len(datasets) * len(metrics)
    lines = [
        r"\begin{table}[t]", r"\centering",
        rf"\caption{{Ablations of LARES at depth {depth} (mean $\pm$ std over seeds; best in bold).{_scale_text(summary, latex=True)}}}",
        r"\label{tab:ablation}", r"\resizebox{\ifdim\width>\columnwidth\columnwidth\else\width\fi}{!}{%",
        r"\begin{tabular}{l" + "c" * n + "}", r"\toprule",
        " & " + " & ".join(rf"\multicolumn{{{len(metrics)}}}{{c}}{{{latex_escape(d)}}}" for d in datasets) + r" \\",
        "".join(rf"\cmidrule(lr){{{2 + i * len(metrics)}-{1 + (i + 1) * len(metrics)}}}" for i in range(len(datasets))),
        "Variant & " + " & ".join(latex_escape(m) for _ in datasets for m in metrics) + r" \\",
        r"\midrule",
    ]
    for v in variants:
        cells = []
        for d in datasets:
            rows = summary[(summary["dataset"] == d) & (summary["variant"] == v)]
            for m in metrics:
                if rows.empty:
                    cells.append("--")
                    continue
                mean, std = rows[f"test_{m}_mean"].iloc[0], rows[f"test_{m}_std"].iloc[0]
                best = summary.loc[summary["dataset"] == d, f"test_{m}_mean"].max()
                body = f"{mean:.4f}"
                spread = _latex_spread(std, int(rows["seeds"].iloc[0]))
                cells.append((rf"\textbf{{{body}}}" if np.isclose(mean, best) else body) + spread)
        lines.append(f"{latex_escape(v)} & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}", ""]
    return "\n".join(lines)


def ablation_markdown(summary: pd.DataFrame) -> str:
    keys = ["dataset", "depth", "backbone", "variant"]
    table = ablation.pretty(summary, keys, ("HR@10", "NDCG@10", "HR@20", "NDCG@20"))
    if "NDCG@10_vs_full_pct" in summary:
        table["ΔNDCG@10 vs full"] = [f"{v:+.1f}%" if pd.notna(v) else "" for v in summary["NDCG@10_vs_full_pct"]]
    return f"Ablations of LARES (mean ± std over seeds).{_scale_text(summary)}\n\n" + to_markdown(table)


def _scale_text(summary: pd.DataFrame, latex: bool = False) -> str:
    """" <dataset>: <training scale>" for each dataset, for the ablation captions."""
    if "scale" not in summary:
        return ""
    per = summary.drop_duplicates("dataset")
    text = "".join(f" {d}: {s}" for d, s in zip(per["dataset"], per["scale"], strict=True) if s)
    return latex_escape(text) if latex else text


# --- efficiency ----------------------------------------------------------------------------
def run_flops(run_dir: Path, depth: int | None = None) -> float | None:
    """Forward FLOPs of one example (``max_len`` items) of the model a run trained, rebuilt
    from its stored config (weights are not needed for a count); LARES at ``depth`` steps."""
    res = json.loads((Path(run_dir) / "result.json").read_text())
    cfg = res["config"]
    return _flops(cfg["model"], json.dumps(cfg["model_config"], sort_keys=True), int(res["n_items"]), depth)


@functools.lru_cache(maxsize=256)
def _flops(model: str, model_config: str, n_items: int, depth: int | None) -> float | None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from baselines import build_model, get_spec

    spec = get_spec(model)
    values = json.loads(model_config)
    names = {f.name for f in dataclasses.fields(spec.config_cls)}
    cfg = spec.config_cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in values.items() if k in names})
    if "use_sdpa" in names:
        cfg = dataclasses.replace(cfg, use_sdpa=False)  # fused attention is invisible to the counter
    try:
        net = build_model(model, n_items, cfg).eval()
        length = int(getattr(cfg, "max_len", 50))
        seq = (torch.arange(length) % n_items + 1).unsqueeze(0)  # [1, L], no padding
        users = torch.zeros(1, dtype=torch.long)
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            if depth is not None and hasattr(net, "at_depth"):
                with net.at_depth(depth):
                    net.scores(seq, users)
            else:
                net.scores(seq, users)
        return float(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - a model that cannot run standalone (fit-only) has no count
        return None


def efficiency_table(root: Path, suite: str = "main", history_mask: str = "inf") -> tuple[pd.DataFrame, list[str]]:
    """One row per (dataset, model) of the suite and per (dataset, depth) of LARES (SPT+RPT)."""
    rows, notes = [], []
    main = collect_records(root, suite)
    if len(main):
        # the runs the main table uses: one setting per model, never a mean over settings
        main, left_out = one_setting_per_model(main[main["history_mask"] == history_mask])
        notes += left_out
    for dataset, dg in (main.groupby("dataset", sort=False) if len(main) else []):
        for model in model_order(list(dg["model"].unique())):
            g = dg[dg["model"] == model]
            first = g.iloc[0]
            res = json.loads((root / first["run"] / "result.json").read_text())
            rows.append(_eff_row(dataset, model_label(model), None, g, run_flops(root / first["run"]), res))
    runs = ablation.load_runs(root)
    if len(runs):
        runs, _ = ablation.latest_settings(runs, root)
        lares = runs[(runs["model"] == ablation.BASE_MODEL) & (runs["stage"] == "SPT+RPT")]
        for (dataset, depth), g in lares.groupby(["dataset", "train_depth"]):
            res = json.loads((root / g.iloc[0]["run"] / "result.json").read_text())
            flops = run_flops(root / g.iloc[0]["run"], int(depth))
            rows.append(_eff_row(dataset, f"LARES (d={depth})", int(depth), g, flops, res))
    if not rows:
        notes.append("efficiency table: no finished runs in the main suite or the ablation sweep")
    df = pd.DataFrame(rows)
    if len(df):
        df = df.sort_values(["dataset", "depth"], na_position="first", kind="stable").reset_index(drop=True)
    return df, notes


def _eff_row(dataset: str, label: str, depth: int | None, g: pd.DataFrame, flops: float | None, res: dict) -> dict:
    n_users = res.get("n_users") or np.nan
    # the test pass of the run trained (and therefore evaluated) at this depth: one depth, all
    # users (the per-depth sweep is scored in one pass of the deepest, which times no depth)
    secs = res.get("test_eval_seconds")
    return {
        "dataset": dataset,
        "model": label,
        "depth": depth,
        "params": int(g["n_params"].iloc[0]) if pd.notna(g["n_params"].iloc[0]) else None,
        "mflops_per_example": flops / 1e6 if flops else None,
        "train_seconds": float(g["train_seconds"].mean()),
        "seconds_per_epoch": float(g["seconds_per_epoch"].mean()),
        "test_us_per_user": secs / n_users * 1e6 if secs is not None and n_users else None,
        "NDCG@10": float(g["test_NDCG@10"].mean()),
        "seeds": len(g),
        "device": device_names(g["device"]),
    }


def _num(v, fmt: str) -> str:
    return "--" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, fmt)


def efficiency_text(df: pd.DataFrame, fmt: str, note: str = "") -> str:
    """The efficiency table as Markdown or LaTeX; ``note`` (e.g. the training scale of the
    ablation runs behind the LARES (d=k) rows) is appended to the caption."""
    cols = [("model", "Model", "s"), ("params", "Params", ","), ("mflops_per_example", "MFLOPs/example", ".2f"),
            ("train_seconds", "Train s", ".1f"), ("seconds_per_epoch", "s/epoch", ".2f"),
            ("test_us_per_user", "Test µs/user", ".1f"), ("NDCG@10", "NDCG@10", ".4f")]
    if fmt == "md":
        parts = ["Efficiency (forward FLOPs of one max-length example incl. full ranking; FFT filters "
                 "not counted; times are means over seeds on the device shown)." + (f" {note}" if note else ""), ""]
        for dataset, g in df.groupby("dataset", sort=False):
            t = pd.DataFrame({head: [_num(v, f) if key != "model" else v for v in g[key]] for key, head, f in cols})
            t["device"] = g["device"].values
            parts += [f"### {dataset}", "", to_markdown(t)]
        return "\n".join(parts)
    heads = [latex_escape(h) for _, h, _ in cols]  # latex_escape writes µ as $\mu$
    lines = [r"\begin{table}[t]", r"\centering",
             r"\caption{Efficiency: parameters, forward FLOPs per example (max length, full ranking), "
             r"training seconds, test-set time per user, NDCG@10 (means over seeds)."
             + (f" {latex_escape(note)}" if note else "") + "}",
             r"\label{tab:efficiency}", r"\resizebox{\ifdim\width>\columnwidth\columnwidth\else\width\fi}{!}{%",
             r"\begin{tabular}{l" + "r" * (len(cols) - 1) + "}", r"\toprule", " & ".join(heads) + r" \\"]
    for dataset, g in df.groupby("dataset", sort=False):
        lines += [r"\midrule", rf"\multicolumn{{{len(cols)}}}{{l}}{{\textit{{{latex_escape(dataset)}}}}} \\"]
        for _, r in g.iterrows():
            vals = [latex_escape(str(r[key])) if key == "model" else _num(r[key], f) for key, _, f in cols]
            lines.append(" & ".join(vals) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}}", r"\end{table}", ""]
    return "\n".join(lines)


# --- the report ----------------------------------------------------------------------------
PREVIEW = r"""\documentclass{article}
\usepackage[margin=2cm]{geometry}
\usepackage{booktabs}
\usepackage{graphicx}
\begin{document}
%s
\end{document}
"""


def _ablation_scale_note(root: Path) -> str:
    """What the LARES (d=k) rows of the efficiency table are: ablation runs, and their scale."""
    runs = ablation.load_runs(root)
    if runs.empty:
        return ""
    runs, _ = ablation.latest_settings(runs, root)
    texts = [f"{ds}: {ablation.training_scale(root, g)}" for ds, g in runs.groupby("dataset", sort=False)]
    return "LARES (d=k) rows are the SPT+RPT runs of the depth ablation; their s/epoch is per " \
           "epoch as configured there. " + " ".join(texts)


def write_report(
    root: Path, out: Path, *, suite: str = "main", history_mask: str = "inf", test: str = "ttest"
) -> tuple[list[Path], list[str]]:
    """Write every table and figure that the records allow; return (paths, notes on what is
    missing)."""
    from lares_bench import plots

    written: list[Path] = []
    notes: list[str] = []
    includes: list[str] = []

    def put(name: str, text: str) -> None:
        atomic_write_bytes(out / name, text.encode())
        written.append(out / name)

    tables, n = build_main_tables(root, suite, history_mask, test=test)
    notes += n
    if tables:
        seeds = sorted({int(s) for t in tables for s in t.seeds})
        caption = (f"Main results, suite {suite}: full ranking, history mask {history_mask}, "
                   f"mean over {', '.join(map(str, seeds))} seeds (std in small type). Best bold, "
                   f"second underlined; Improv. = LARES over the best baseline; * / ** = paired "
                   f"{test} over users against the best baseline, Holm-corrected over baselines, "
                   f"p < 0.05 / 0.01.")
        if any(t.budget_stopped for t in tables):
            caption += (" † = stopped by its time budget (train.max_train_seconds) before early "
                        "stopping: not converged.")
        put("main_table.tex", main_table_latex(tables, caption))
        put("main_table.md", main_table_markdown(tables, caption.replace("*", r"\*")))
        long = pd.concat([t.mean.add_suffix("_mean").join(t.std.add_suffix("_std")).assign(dataset=t.dataset)
                          for t in tables])
        put("main_table.csv", long.to_csv())
        tests = pd.concat([t.tests for t in tables if len(t.tests)] or [pd.DataFrame()])
        if len(tests):
            put("significance.csv", tests.to_csv(index=False))
        includes.append(r"\input{main_table.tex}")

    summary, n = ablation_summary(root)
    notes += n
    if len(summary):
        put("ablation_table.tex", ablation_latex(summary))
        put("ablation_table.md", ablation_markdown(summary))
        put("ablation_table.csv", summary.to_csv(index=False))
        includes.append(r"\input{ablation_table.tex}")

    eff, n = efficiency_table(root, suite, history_mask)
    notes += n
    if len(eff):
        note = _ablation_scale_note(root)
        put("efficiency_table.tex", efficiency_text(eff, "latex", note))
        put("efficiency_table.md", efficiency_text(eff, "md", note))
        put("efficiency_table.csv", eff.to_csv(index=False))
        includes.append(r"\input{efficiency_table.tex}")

    rec = plots.load_records(root, suite, history_mask)

    def scale_of(ds: str) -> str:
        text = ablation.training_scale(root, rec.ablation[rec.ablation["dataset"] == ds])
        return " " + latex_escape(text) if text else ""

    for ds in dict.fromkeys(rec.ablation.get("dataset", [])):
        fig = plots.depth_figure(rec, ds, out, stem=f"depth_{ds}")
        notes += fig.notes
        written += fig.paths
        if fig.drawn:
            includes.append(
                r"\begin{figure}[t]\centering"
                rf"\includegraphics[width=\textwidth]{{depth_{ds}.pdf}}"
                rf"\caption{{Depth scaling on {latex_escape(ds)}.{scale_of(ds)}}}\end{{figure}}"
            )
    if includes:
        put("preview.tex", PREVIEW % "\n\\clearpage\n".join(includes))
    return written, list(dict.fromkeys(notes))
