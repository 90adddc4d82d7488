"""Paired per-user tests along the depth sweeps (lares_bench/depth_stats.py), on hand-made ranks."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from lares_bench.depth_stats import depth_significance, significance_markdown
from lares_bench.stats import holm, per_user_metric

N_USERS = 400


def _write_run(root: Path, name: str, ranks: np.ndarray, by_depth: dict[int, np.ndarray]) -> str:
    path = root / name
    path.mkdir(parents=True)
    np.save(path / "ranks.npy", ranks)
    for k, r in by_depth.items():
        np.save(path / f"ranks_depth_{k}.npy", r)
    return name


def _ranks(rng, p_hit: float) -> np.ndarray:
    return np.minimum(rng.geometric(p_hit, N_USERS), 500).astype(np.int32)


def test_each_depth_is_tested_against_the_reference_as_scipy_does(tmp_path):
    rng = np.random.default_rng(0)
    rows = []
    for d in (1, 4, 8):
        for seed in (0, 1):
            # test depth 8 much worse (an "overthinking" dip of the model trained at 4)
            by_depth = {k: _ranks(rng, {1: 0.05, 4: 0.2, 8: 0.02}[k]) for k in (1, 4, 8)}
            own = by_depth[d]
            rows.append({"stage": "SPT+RPT", "train_depth": d, "seed": seed,
                         "run": _write_run(tmp_path, f"d{d}s{seed}", own, by_depth)})
    runs = pd.DataFrame(rows)
    df = depth_significance(tmp_path, runs, ref=4)
    assert set(zip(df["sweep"], df["depth"], strict=True)) == {
        ("test depth", 1), ("test depth", 8), ("train depth", 1), ("train depth", 8)}

    def seed_mean(names, file):
        return np.mean([per_user_metric(np.load(tmp_path / n / file)) for n in names], axis=0)

    ref_runs = ["d4s0", "d4s1"]
    a, b = seed_mean(ref_runs, "ranks_depth_8.npy"), seed_mean(ref_runs, "ranks_depth_4.npy")
    raw = [sps.ttest_rel(seed_mean(ref_runs, f"ranks_depth_{k}.npy"), b).pvalue for k in (1, 8)]
    test_rows = df[df["sweep"] == "test depth"].set_index("depth")
    assert test_rows.loc[8, "p"] == pytest.approx(sps.ttest_rel(a, b).pvalue)
    assert test_rows.loc[8, "NDCG@10"] == pytest.approx(a.mean())
    assert test_rows.loc[8, "change_pct"] == pytest.approx((a.mean() / b.mean() - 1) * 100)
    assert test_rows["p_holm"].tolist() == pytest.approx(holm(raw))
    train_8 = df[(df["sweep"] == "train depth") & (df["depth"] == 8)].iloc[0]
    want = sps.ttest_rel(seed_mean(["d8s0", "d8s1"], "ranks.npy"), seed_mean(ref_runs, "ranks.npy"))
    assert train_8["p"] == pytest.approx(want.pvalue)
    md = significance_markdown(df)
    assert "lower" in md and "| test depth | SPT+RPT | 8 |" in md


def test_no_runs_at_the_reference_depth_gives_no_rows(tmp_path):
    rng = np.random.default_rng(1)
    run = _write_run(tmp_path, "d2", _ranks(rng, 0.1), {2: _ranks(rng, 0.1)})
    runs = pd.DataFrame([{"stage": "SPT only", "train_depth": 2, "seed": 0, "run": run}])
    assert depth_significance(tmp_path, runs, ref=4).empty
