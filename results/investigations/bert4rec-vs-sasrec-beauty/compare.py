"""SASRec-CE against BERT4Rec on beauty (main suite, version 0.3.0, trained to early stopping,
3 seeds each): paired tests over users of the per-user metric averaged over the seeds.

    python results/investigations/bert4rec-vs-sasrec-beauty/compare.py > .../output.txt
"""

import json
from pathlib import Path

import numpy as np

from lares_bench.runs import load_ranks
from lares_bench.stats import paired_test

RUNS = Path("results/runs/main/beauty")


def seed_ranks(model: str) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """[3, n_users] test ranks of the version-0.3.0 runs without a time budget, by seed."""
    found = {}
    for run in RUNS.joinpath(model).iterdir():
        result = json.loads((run / "result.json").read_text())
        env = json.loads((run / "env.json").read_text())
        if env["lares_bench"] != "0.3.0" or result["config"]["train"].get("max_train_seconds"):
            continue
        seed = result["config"]["train"]["seed"]
        assert seed not in found, (model, seed)
        found[seed] = (load_ranks(run / "ranks.npy"), run.name)
    seeds = sorted(found)
    return np.stack([found[s][0] for s in seeds]), [(s, found[s][1]) for s in seeds]


sasrec, sasrec_runs = seed_ranks("sasrec")
bert, bert_runs = seed_ranks("bert4rec")
print("sasrec runs (seed, dir):", sasrec_runs)
print("bert4rec runs (seed, dir):", bert_runs)
for metric in ("HR@10", "NDCG@10", "NDCG@20"):
    for test in ("ttest", "wilcoxon"):
        t = paired_test(sasrec, bert, metric, test)
        print(f"{metric} {test}: SASRec-CE {t.mean_a:.4f} BERT4Rec {t.mean_b:.4f} "
              f"ratio {t.mean_a / t.mean_b:.2f} p {t.p_value:.1e} over {t.n_users} users")
