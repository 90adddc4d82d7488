"""Is a depth's difference real? Paired per-user tests along the two depth sweeps.

A depth curve from one or two seeds cannot tell an "overthinking" dip from noise by itself,
but every run stores its per-user test ranks, so each depth can be tested against the
reference depth user by user (``stats.paired_test``: seeds averaged per user, then a paired
t-test over users), Holm-corrected over the depths of one curve:

- test-depth sweep: ONE trained model (at the reference depth) scored at depth k
  (``ranks_depth_<k>.npy``) against the same model at the reference depth;
- train-depth sweep: the model trained (and tested) at depth d (``ranks.npy``) against the
  model trained at the reference depth. Between-model differences also include the seed's
  luck in training, which a test over users does not see; with one seed, read it as a test of
  these two trained models, not of the two training depths in general.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lares_bench.runs import load_ranks
from lares_bench.stats import holm, paired_test
from lares_bench.tables import to_markdown

METRIC = "NDCG@10"


def _stack(root: Path, runs: pd.Series, name: str) -> np.ndarray | None:
    """[n_seeds, n_users] ranks from file ``name`` of each run (None if one is missing)."""
    paths = [root / run / name for run in runs]
    if not paths or not all(p.exists() for p in paths):
        return None
    return np.stack([load_ranks(p) for p in paths])


def depth_significance(root: Path, lares: pd.DataFrame, ref: int, metric: str = METRIC) -> pd.DataFrame:
    """One row per (sweep, stage, depth != ref): mean ``metric`` at the depth and at ``ref``,
    relative change, raw and Holm-adjusted p (Holm over the depths of one sweep and stage).
    ``lares``: ablation run rows of one dataset (``ablation.load_runs``) of the base model."""
    rows = []
    for stage, grp in lares.groupby("stage", sort=False):
        at_ref = grp[grp["train_depth"] == ref]
        if at_ref.empty:
            continue
        # test-depth sweep: the model trained at ref, scored at every stored depth
        base = _stack(root, at_ref["run"], f"ranks_depth_{ref}.npy")
        depths = sorted({int(p.stem.rsplit("_", 1)[1])
                         for run in at_ref["run"] for p in (root / run).glob("ranks_depth_*.npy")})
        for k in depths:
            other = _stack(root, at_ref["run"], f"ranks_depth_{k}.npy")
            if k != ref and base is not None and other is not None:
                rows.append(_row("test depth", stage, k, ref, paired_test(other, base, metric)))
        # train-depth sweep: the model trained at d against the one trained at ref
        base = _stack(root, at_ref["run"], "ranks.npy")
        for d, at_d in grp.groupby("train_depth"):
            other = _stack(root, at_d["run"], "ranks.npy")
            if d != ref and base is not None and other is not None:
                rows.append(_row("train depth", stage, int(d), ref, paired_test(other, base, metric)))
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["p_holm"] = np.nan
    for _, idx in df.groupby(["sweep", "stage"]).groups.items():
        df.loc[idx, "p_holm"] = holm(df.loc[idx, "p"].tolist())
    return df.sort_values(["sweep", "stage", "depth"], ascending=[False, True, True]).reset_index(drop=True)


def _row(sweep: str, stage: str, depth: int, ref: int, t) -> dict:
    change = (t.mean_a / t.mean_b - 1.0) * 100 if t.mean_b else np.nan
    return {"sweep": sweep, "stage": stage, "depth": depth, "ref_depth": ref,
            f"{t.metric}": t.mean_a, f"{t.metric}_at_ref": t.mean_b, "change_pct": change,
            "p": t.p_value, "n_users": t.n_users}


def significance_markdown(df: pd.DataFrame, metric: str = METRIC) -> str:
    """The table with formatted numbers and a verdict column (Holm p < 0.05)."""
    out = pd.DataFrame({
        "sweep": df["sweep"], "stage": df["stage"], "depth": df["depth"],
        metric: df[metric].map("{:.4f}".format),
        f"at depth {int(df['ref_depth'].iloc[0])}": df[f"{metric}_at_ref"].map("{:.4f}".format),
        "change": df["change_pct"].map("{:+.1f}%".format),
        "p (Holm)": df["p_holm"].map("{:.2g}".format),
        "verdict": [("lower" if c < 0 else "higher") if p < 0.05 else "no significant difference"
                    for c, p in zip(df["change_pct"], df["p_holm"], strict=True)],
    })
    return to_markdown(out)
