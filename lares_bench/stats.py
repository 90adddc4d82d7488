"""Paired significance tests over users from stored rank arrays, with Holm-Bonferroni.

Every run keeps its per-user test ranks (``ranks.npy``), so any two runs on the same dataset
can be compared user by user without retraining. Seeds are averaged per user first (the
per-user metric of a model is its mean over seeds), then a paired test runs over users."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps


def per_user_metric(ranks: np.ndarray, metric: str = "NDCG@10") -> np.ndarray:
    """Per-user value of HR@k, NDCG@k or MRR from ranks (one target per user)."""
    r = np.asarray(ranks, dtype=np.float64)
    if metric == "MRR":
        return 1.0 / r
    name, k = metric.split("@")
    hit = r <= int(k)
    if name == "HR":
        return hit.astype(np.float64)
    if name == "NDCG":
        return np.where(hit, 1.0 / np.log2(r + 1.0), 0.0)
    raise ValueError(f"unknown metric {metric!r}")


@dataclass
class PairedTest:
    metric: str
    mean_a: float
    mean_b: float
    statistic: float
    p_value: float
    test: str
    n_users: int


def paired_test(
    ranks_a: np.ndarray, ranks_b: np.ndarray, metric: str = "NDCG@10", test: str = "ttest"
) -> PairedTest:
    """Two-sided paired test of model A against model B over users.

    ranks_*: [n_users] or [n_seeds, n_users] (averaged over seeds per user first)."""
    a = per_user_metric(np.atleast_2d(ranks_a), metric).mean(0)
    b = per_user_metric(np.atleast_2d(ranks_b), metric).mean(0)
    if a.shape != b.shape:
        raise ValueError(f"rank arrays cover different users: {a.shape} vs {b.shape}")
    if test == "ttest":
        res = sps.ttest_rel(a, b)
    elif test == "wilcoxon":
        res = sps.wilcoxon(a, b, zero_method="wilcox")
    else:
        raise ValueError(f"test must be 'ttest' or 'wilcoxon', got {test!r}")
    p = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
    return PairedTest(metric, float(a.mean()), float(b.mean()), float(res.statistic), p, test, len(a))


@dataclass
class SeedTest:
    metric: str
    seed_means_a: list[float]
    seed_means_b: list[float]
    p_value: float  # nan with fewer than 2 seeds on a side (no variance to test against)


def seed_level_test(ranks_a: np.ndarray, ranks_b: np.ndarray, metric: str = "NDCG@10") -> SeedTest:
    """Welch's t-test between the two models' per-seed means (one number per seed and model).

    The paired test over users averages seeds first, so it sees how users differ but not how
    much a model moves from one seed to the next; with few seeds, a gap the size of that
    seed-to-seed spread can still give a tiny user-level p. This test is the other view: it
    asks whether the seed means of A and B differ, and has little power with 2-3 seeds.
    ranks_*: [n_seeds, n_users]."""
    a = per_user_metric(np.atleast_2d(ranks_a), metric).mean(1)
    b = per_user_metric(np.atleast_2d(ranks_b), metric).mean(1)
    p = float("nan")
    if len(a) >= 2 and len(b) >= 2:
        res = sps.ttest_ind(a, b, equal_var=False)
        p = float(res.pvalue) if np.isfinite(res.pvalue) else 1.0
    return SeedTest(metric, a.tolist(), b.tolist(), p)


def holm(p_values: list[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1)."""
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for i, idx in enumerate(order):
        running = max(running, min(1.0, (m - i) * p[idx]))
        adjusted[idx] = running
    return adjusted.tolist()


def significance_mark(p: float) -> str:
    return "**" if p < 0.01 else ("*" if p < 0.05 else "")
