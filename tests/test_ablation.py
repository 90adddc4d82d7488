"""`lares-bench ablate`: depth parser, sweep construction, end-to-end on synthetic data, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lares_bench import suites
from lares_bench.ablation import (
    AblationRequest,
    DepthRangeError,
    parse_depths,
    parse_shard,
    parse_variants,
    plan_runs,
    shard_plan,
)
from lares_bench.cli import app
from lares_bench.config import ConfigError, parse_set_options
from lares_bench.data.load import load_dataset
from lares_bench.data.split import LeaveOneOutSplit


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("1..8", (1, 2, 3, 4, 5, 6, 7, 8)),
        ("1,2,4,8", (1, 2, 4, 8)),
        ("4", (4,)),
        (" 2 .. 3 ", (2, 3)),
        ("8,1..2,2", (1, 2, 8)),
        ("3..3", (3,)),
    ],
)
def test_parse_depths_good(text, want):
    assert parse_depths(text) == want


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8..1", "runs backwards"),
        ("0..3", "depth 0 outside"),
        ("a..b", "'a' is not an integer"),
        ("", "empty"),
        ("1,,2", "empty item"),
        ("1..", "'' is not an integer"),
        ("-2", "outside"),
        ("1.5", "not an integer"),
        ("1..100", "outside"),
    ],
)
def test_parse_depths_bad(text, message):
    with pytest.raises(DepthRangeError, match=message):
        parse_depths(text)


def test_parse_variants():
    assert parse_variants("all")[:3] == ("nopre", "notla", "nosla")
    assert parse_variants("none") == ()
    assert parse_variants("lares-notla, ndcg,notla") == ("notla", "ndcg")
    with pytest.raises(ConfigError, match="unknown nope"):
        parse_variants("nope")


def _req(**kw) -> AblationRequest:
    base = dict(datasets=("synthetic",), depths=tuple(range(1, 9)), results_root=Path("unused"))
    return AblationRequest(**{**base, **kw})


def test_plan_shares_runs_between_sweeps_and_variants():
    plan = plan_runs(_req(variants=parse_variants("all"), seeds=(0, 1, 2)))
    # 8 train depths (SPT+RPT) + w/o RPT at depth 4 + 7 registry variants; the full model at
    # depth 4 is the depth-4 run of the sweep, not a second training
    assert len(plan) == (8 + 1 + 7) * 3
    full_at_4 = [r for r in plan if r.model == "lares" and r.overrides["model"]["mean_recurrence"] == 4]
    assert len(full_at_4) == 2 * 3  # SPT+RPT and SPT only (w/o RPT)
    grid = plan_runs(_req(spt_values=(True, False), rpt_values=(True, False), variants=parse_variants("all")))
    assert len(grid) == (4 * 8 + 7) * 3
    for r in plan:
        m = r.overrides["model"]
        assert m["test_depths"] == list(range(1, 9)) and m["eval_depth"] == m["mean_recurrence"]


def test_plan_rejects_set_on_swept_keys():
    with pytest.raises(ConfigError, match="model.mean_recurrence"):
        plan_runs(_req(overrides=parse_set_options(["model.mean_recurrence=3"])))



def tiny_synthetic(name, data_dir, cache_dir, device):
    """The synthetic generator at a tenth of its default size (the CLI's is 2000 users)."""
    data = load_dataset(name, None, None, n_users=120, n_items=60, n_clusters=6, max_len=12)
    return data, LeaveOneOutSplit.from_data(data, 20, device)


TINY = [
    "--datasets", "synthetic", "--depth", "1..2", "--seeds", "1", "--variants", "notla,norpt",
    "--ref-depth", "2", "--device", "cpu", "--no-progress",
    "--set", "train.epochs=1", "--set", "model.d=16", "--set", "model.inner=32",
    "--set", "model.rpt_epochs=1",
]


def test_ablate_end_to_end_and_resume(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "load_split", tiny_synthetic)
    runner = CliRunner()
    res = runner.invoke(app, ["ablate", *TINY, "--results-dir", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "4 runs planned" in res.output
    runs = sorted((tmp_path / "runs" / "ablation" / "synthetic").glob("*/*/result.json"))
    models = sorted(p.parent.parent.name for p in runs)
    # 4 planned runs (full at depths 1 and 2, w/o RPT at 2, w/o TLA at 2), plus the no-RPT twins
    # that the depth-1 and w/o-TLA runs write for free
    assert models == ["lares"] * 4 + ["lares-notla"] * 2
    twins = [p for p in runs if "written_by" in json.loads(p.read_text())]
    assert len(twins) == 3 and all(
        json.loads(p.read_text())["config"]["model_config"]["rpt"] is False for p in twins
    )
    for p in runs:
        r = json.loads(p.read_text())
        mc = r["config"]["model_config"]
        assert sorted(r["test_by_depth"]) == ["1", "2"] and mc["test_depths"] == [1, 2]
        assert (p.parent / "ranks_depth_1.npy").exists()
    tables = tmp_path / "ablation" / "synthetic"
    for name in ("runs.csv", "depth_train.md", "depth_train.csv", "depth_test.md", "depth_matrix.md", "variants.md"):
        assert (tables / name).exists(), name
    variants = (tables / "variants.md").read_text()
    for label in ("LARES (full)", "LARES w/o RPT", "LARES w/o TLA"):
        assert label in variants
    assert "±" not in (tables / "depth_train.md").read_text().split("\n\n", 1)[1]  # 1 seed: no std
    assert "Training: SPT up to 1 epochs" in (tables / "depth_train.md").read_text()
    sig = (tables / "depth_significance.md").read_text()  # depth 1 against the reference, 2
    assert "| test depth | SPT+RPT | 1 |" in sig and "| train depth | SPT+RPT | 1 |" in sig

    stamps = {p: p.stat().st_mtime_ns for p in runs}
    assert res.output.count("(cached)") == 1  # w/o RPT at depth 2: written by the full run
    again = runner.invoke(app, ["ablate", *TINY, "--results-dir", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert again.output.count("(cached)") == 4
    assert {p: p.stat().st_mtime_ns for p in runs} == stamps


def test_ablate_toggles_and_errors(tmp_path):
    runner = CliRunner()
    both = runner.invoke(app, ["ablate", "--depth", "1,2", "--spt", "--no-spt", "--variants", "none",
                               "--seeds", "2", "--dry-run", "--results-dir", str(tmp_path)])
    assert both.exit_code == 0, both.output
    assert "8 runs planned" in both.output and "spt=False rpt=True" in both.output
    grid = runner.invoke(app, ["ablate", "--depth", "4", "--grid", "--variants", "none", "--seeds", "1",
                               "--dry-run", "--results-dir", str(tmp_path)])
    assert "4 runs planned" in grid.output
    for bad, message in (("8..1", "runs backwards"), ("0..3", "outside"), ("a..b", "not an integer")):
        res = runner.invoke(app, ["ablate", "--depth", bad, "--results-dir", str(tmp_path)])
        assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    res = runner.invoke(app, ["ablate", "--set", "model.rpt=false", "--results-dir", str(tmp_path)])
    assert res.exit_code == 2 and "set by ablate itself" in res.output
    assert not any(tmp_path.iterdir())  # nothing ran, nothing written


def test_parse_shard():
    assert parse_shard("2/4") == (2, 4) and parse_shard("1/1") == (1, 1)
    for bad in ("0/2", "3/2", "a/b", "2", "1/2/3", "-1/2"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)


def test_shards_partition_the_plan_and_keep_twins_together():
    plan = plan_runs(_req(rpt_values=(True, False), variants=parse_variants("all"), seeds=(0, 1)))
    parts = [shard_plan(plan, (k, 3)) for k in (1, 2, 3)]
    keys = [r.key() for part in parts for r in part]
    assert sorted(keys) == sorted(r.key() for r in plan) and len(set(keys)) == len(plan)
    assert all(len(part) >= len(plan) // 3 - 4 for part in parts)  # roughly balanced
    for part in parts:
        seen_with_rpt = set()
        for r in part:
            m = dict(r.overrides["model"])
            twin_key = (r.model, r.seed, tuple(sorted((k, str(v)) for k, v in m.items() if k != "rpt")))
            if m.get("rpt", True):
                seen_with_rpt.add(twin_key)
            elif r.model == "lares":  # its RPT twin, if planned, ran earlier in this part
                assert twin_key in seen_with_rpt
    assert shard_plan(plan, None) == plan


def test_shards_split_every_seed_and_balance_depths():
    plan = plan_runs(_req(depths=(1, 2, 4, 8), spt_values=(True, False), rpt_values=(True, False),
                          variants=(), seeds=(0, 1)))
    parts = [shard_plan(plan, (k, 2)) for k in (1, 2)]
    for seed in (0, 1):  # a seed added later is shared by both parts, not given to one
        counts = [sum(r.seed == seed for r in p) for p in parts]
        assert counts[0] == counts[1] == 8
        # snake order: part 1 gets depths 1 and 8, part 2 depths 2 and 4 (not 1, 4 and 2, 8)
        depths = [{r.overrides["model"]["mean_recurrence"] for r in p if r.seed == seed} for p in parts]
        assert depths == [{1, 8}, {2, 4}]
    assert shard_plan(plan, (1, 2)) == parts[0]  # depends on the plan alone


def test_ablate_in_parts_then_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(suites, "load_split", tiny_synthetic)
    runner = CliRunner()
    # sub-epoch training (reduced scale): the tables' captions say so
    args = [*TINY, "--results-dir", str(tmp_path), "--set", "train.epoch_batches=1"]
    for k in (1, 2):
        res = runner.invoke(app, ["ablate", *args, "--shard", f"{k}/2"])
        assert res.exit_code == 0, res.output
        assert f"part {k}/2 done" in res.output
    assert not (tmp_path / "ablation").exists()  # parts write no tables
    # a second seed at one depth only, tested at the first call's depths: same configs
    more = list(args)
    more[more.index("--depth") + 1] = "2"
    res = runner.invoke(app, ["ablate", *more, "--first-seed", "1", "--test-depths", "1..2",
                              "--variants", "none", "--shard", "1/1"])
    assert res.exit_code == 0, res.output
    assert "seed1" in res.output and "seed0" not in res.output
    res = runner.invoke(app, ["ablate", *args, "--tables-only"])
    assert res.exit_code == 0, res.output
    depth_train = (tmp_path / "ablation" / "synthetic" / "depth_train.md").read_text()
    rows = {line.split("|")[3].strip(): line for line in depth_train.splitlines()
            if line.startswith("| transformer | SPT+RPT |")}
    assert rows["2"].endswith("| 2 |") and rows["1"].endswith("| 1 |")  # seeds per depth
    res = runner.invoke(app, ["ablate", *args])
    assert res.exit_code == 0, res.output
    assert res.output.count("(cached)") == 4  # every run was done by a part
    caption = (tmp_path / "ablation" / "synthetic" / "depth_train.md").read_text()
    assert "Reduced scale (not trained to convergence): SPT 1 epochs x 1 batches x " in caption
    assert "RPT 1 epochs x 1 batches" in caption
    empty = runner.invoke(app, ["ablate", *TINY, "--results-dir", str(tmp_path / "none"), "--tables-only"])
    assert empty.exit_code == 2 and "no finished ablation runs" in empty.output
    bad = runner.invoke(app, ["ablate", *args, "--shard", "3/2"])
    assert bad.exit_code == 2 and "--shard" in bad.output


def test_a_named_variants_no_rpt_twin_gets_its_own_row():
    from lares_bench.ablation import variant_label

    # the twin is the same seed's SPT checkpoint: never averaged with the variant as a 2nd seed
    assert variant_label("lares-notla", True, True) == "LARES w/o TLA"
    assert variant_label("lares-notla", True, False) == "LARES w/o TLA, w/o RPT"
    assert variant_label("lares", True, False) == "LARES w/o RPT"


def test_ablate_pauses_and_the_same_command_resumes(tmp_path, monkeypatch):
    from lares_bench.resume import RunState

    monkeypatch.setattr(suites, "load_split", tiny_synthetic)
    runner = CliRunner()
    args = ["ablate", *TINY, "--set", "train.epochs=2", "--results-dir", str(tmp_path)]
    with monkeypatch.context() as m:  # the pause time comes during the first run's first epoch
        m.setattr(RunState, "should_pause", lambda self: True)
        paused = runner.invoke(app, [*args, "--pause-after", "3600"])
    assert paused.exit_code == 3, paused.output
    assert "paused after epoch 1" in " ".join(paused.output.split())
    assert list((tmp_path / ".resume").rglob("*.pt"))
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    resumed = [json.loads(p.read_text()) for p in tmp_path.glob("runs/ablation/**/result.json")]
    split = [r for r in resumed if "segments" in r]  # trained over both calls
    assert [r["segments"][0]["epochs"] for r in split] == [{"spt": [1, 1]}] * 2
    assert sum("written_by" in r for r in split) == 1  # the paused run and its no-RPT twin
