"""How often a training batch holds look-alike rows, with and without length bucketing.

    python benchmarks/batch_duplicates.py --dataset beauty --data-dir ../shared/datasets

For every example-mode batch of one epoch (batch 1024, as LARES), counts the rows whose input
window also appears elsewhere in the batch and the rows whose target another row shares. For
models with in-batch negatives (InfoNCE) both are rows their contrastive terms cannot tell
apart, which is why those models train on random batches (README, "Models"). Prints two lines.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from lares_bench.suites import load_split
from lares_bench.training import batch_rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--cache-dir", type=Path, default=os.environ.get("LARES_BENCH_CACHE"))
    args = p.parse_args()
    _, split = load_split(args.dataset, args.data_dir, args.cache_dir, torch.device("cpu"))
    ends = split.train_example_ends()
    users = split.example_users(ends)
    lengths = (ends - split.starts[users]).clamp(max=split.max_len)
    for bucketing in (True, False):
        gen = torch.Generator().manual_seed(0)
        same_input = same_target = rows_seen = 0
        for rows in batch_rows(lengths, args.batch_size, bucketing, gen):
            windows = split.windows(users[rows], ends[rows])
            _, inv, counts = torch.unique(windows, dim=0, return_inverse=True, return_counts=True)
            same_input += int((counts[inv] > 1).sum())
            _, inv, counts = torch.unique(split.items[ends[rows]], return_inverse=True, return_counts=True)
            same_target += int((counts[inv] > 1).sum())
            rows_seen += len(rows)
        print(f"length_bucketing={bucketing}: rows with an identical input elsewhere in the batch "
              f"{same_input / rows_seen:.3f}, rows sharing their target {same_target / rows_seen:.3f}")


if __name__ == "__main__":
    main()
