"""Tests of two models' beauty runs (main suite, version 0.3.0, trained to early stopping, no
time budget): a paired test over users (per-user metric averaged over each model's seeds) and
Welch's test over the per-seed means (the seed-to-seed spread the paired test does not see).

    python results/investigations/compare_models.py MODEL_A MODEL_B > <investigation>/output.txt
    # model A's runs from another results folder (a control run with --results-dir):
    python results/investigations/compare_models.py rearec-erl sasrec \
        --runs-a results/investigations/rearec-erl-vs-sasrec-beauty/no-reasoning --label-a erl-K0
"""

import argparse
import json
from pathlib import Path

import numpy as np

from lares_bench.runs import load_ranks
from lares_bench.stats import paired_test, seed_level_test

RESULTS = Path("results")


def seed_ranks(results: Path, model: str) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """[n_seeds, n_users] test ranks of the version-0.3.0 runs without a time budget, by seed."""
    found = {}
    for run in (results / "runs/main/beauty" / model).iterdir():
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


def main(model_a: str, model_b: str, runs_a: Path, runs_b: Path, label_a: str, label_b: str) -> None:
    a, a_runs = seed_ranks(runs_a, model_a)
    b, b_runs = seed_ranks(runs_b, model_b)
    model_a, model_b = label_a or model_a, label_b or model_b  # names printed below
    print(f"{model_a} runs (seed, dir) under {runs_a}:", a_runs)
    print(f"{model_b} runs (seed, dir) under {runs_b}:", b_runs)
    for metric in ("HR@10", "NDCG@10", "NDCG@20"):
        for test in ("ttest", "wilcoxon"):
            t = paired_test(a, b, metric, test)
            print(f"{metric} {test}: {model_a} {t.mean_a:.4f} {model_b} {t.mean_b:.4f} "
                  f"ratio {t.mean_a / t.mean_b:.2f} p {t.p_value:.1e} over {t.n_users} users")
        s = seed_level_test(a, b, metric)
        print(f"{metric} seed means: {model_a} {[round(x, 4) for x in s.seed_means_a]} "
              f"{model_b} {[round(x, 4) for x in s.seed_means_b]} Welch p {s.p_value:.1e}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_a")
    parser.add_argument("model_b")
    parser.add_argument("--runs-a", type=Path, default=RESULTS, help="results folder of model A")
    parser.add_argument("--runs-b", type=Path, default=RESULTS, help="results folder of model B")
    parser.add_argument("--label-a", default="", help="name printed for A (default: MODEL_A)")
    parser.add_argument("--label-b", default="", help="name printed for B (default: MODEL_B)")
    args = parser.parse_args()
    main(args.model_a, args.model_b, args.runs_a, args.runs_b, args.label_a, args.label_b)
