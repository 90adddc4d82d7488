"""Paired tests over users of two models' beauty runs (main suite, version 0.3.0, trained to
early stopping, no time budget): the per-user metric averaged over each model's seeds.

    python results/investigations/compare_models.py MODEL_A MODEL_B > <investigation>/output.txt
"""

import json
import sys
from pathlib import Path

import numpy as np

from lares_bench.runs import load_ranks
from lares_bench.stats import paired_test

RUNS = Path("results/runs/main/beauty")


def seed_ranks(model: str) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """[n_seeds, n_users] test ranks of the version-0.3.0 runs without a time budget, by seed."""
    found = {}
    for run in RUNS.joinpath(model).iterdir():
        if not (run / "result.json").exists():  # paused or running: no result yet
            continue
        result = json.loads((run / "result.json").read_text())
        env = json.loads((run / "env.json").read_text())
        if env["lares_bench"] != "0.3.0" or result["config"]["train"].get("max_train_seconds"):
            continue
        seed = result["config"]["train"]["seed"]
        assert seed not in found, (model, seed)
        found[seed] = (load_ranks(run / "ranks.npy"), run.name)
    seeds = sorted(found)
    return np.stack([found[s][0] for s in seeds]), [(s, found[s][1]) for s in seeds]


def main(model_a: str, model_b: str) -> None:
    a, a_runs = seed_ranks(model_a)
    b, b_runs = seed_ranks(model_b)
    print(f"{model_a} runs (seed, dir):", a_runs)
    print(f"{model_b} runs (seed, dir):", b_runs)
    for metric in ("HR@10", "NDCG@10", "NDCG@20"):
        for test in ("ttest", "wilcoxon"):
            t = paired_test(a, b, metric, test)
            print(f"{metric} {test}: {model_a} {t.mean_a:.4f} {model_b} {t.mean_b:.4f} "
                  f"ratio {t.mean_a / t.mean_b:.2f} p {t.p_value:.1e} over {t.n_users} users")


if __name__ == "__main__":
    main(*sys.argv[1:3])
