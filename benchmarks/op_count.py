"""Operator count of one training step: a device-independent proxy for GPU launch overhead.

    python benchmarks/op_count.py --dataset beauty --model lares --batches 20 \
        --data-dir ../shared/datasets [--set model.pass_fusion=on] [--rpt]

At this model size (d = 64, at most 50 positions) a GPU step is bound by kernel launches and
the Python that issues them, not by arithmetic: on the H200 of 2026-11-27 a SASRec-CE batch
took ~10 ms and a LARES SPT batch ~62 ms. This counts the aten operators that one training
step (loss forward + backward; the optimizer step is left out, it is one fused call on CUDA)
dispatches, views excluded, averaged over ``--batches`` batches drawn as the trainer draws
them (LARES depths are random, so several batches). With ``--rpt`` it counts GRPO steps on
all training examples instead (the model is untrained; the count does not depend on it).
The count does not depend on the batch size either (except with LARES ``tla_batching=grouped``,
whose partner groups grow with it), so ``--set train.batch_size=64`` (and
``model.rpt_batch_size=64``) keeps it to seconds on a CPU.

It runs on CPU and needs no GPU. The counts are a proxy, not a timing: some operators split
into several kernels on one device and fuse on another (dropout, attention), so compare
variants with each other on one device, and time them on the GPU before claiming a speed-up.
Prints one JSON line; writes nothing.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import os
import statistics
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from baselines import build_model
from lares_bench.config import parse_set_options
from lares_bench.experiment import build_run_config
from lares_bench.lares.rpt import grpo_loss
from lares_bench.suites import load_split
from lares_bench.training import seed_everything, training_batches


class OpCounter(TorchDispatchMode):
    """Counts the non-view aten operators dispatched inside the block (backward included)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if not func.is_view:
            self.count += 1
        return func(*args, **(kwargs or {}))


def count_step(loss_fn, batch) -> int:
    with OpCounter() as counter:
        loss_fn(batch).backward()
    return counter.count


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--model", default="lares")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--rpt", action="store_true", help="count GRPO steps (LARES) instead of stage 1")
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--cache-dir", type=Path, default=os.environ.get("LARES_BENCH_CACHE"))
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()

    device = torch.device("cpu")
    _, split = load_split(args.dataset, args.data_dir, args.cache_dir, device)
    cfg = build_run_config(
        args.dataset, args.model, max_len=split.max_len,
        overrides=parse_set_options(args.overrides), device="cpu",
    )
    gen = seed_everything(cfg.train.seed)
    model = build_model(args.model, split.n_items, cfg.model_config).to(device)
    model.prepare(split)
    model.train()
    train_cfg, loss_fn = cfg.train, model.training_loss
    if args.rpt:
        ref = copy.deepcopy(model).requires_grad_(False).eval()
        train_cfg = dataclasses.replace(cfg.train, batch_size=cfg.model_config.rpt_batch_size)
        loss_fn = lambda batch: grpo_loss(model, ref, batch)  # noqa: E731
    batches = itertools.islice(training_batches(model, split, train_cfg, gen), args.batches)
    counts = [count_step(loss_fn, batch) for batch in batches]
    print(json.dumps({
        "dataset": args.dataset, "model": args.model, "stage": "rpt" if args.rpt else "train",
        "overrides": args.overrides, "batch_size": train_cfg.batch_size, "batches": len(counts),
        "ops_per_step_mean": round(statistics.mean(counts), 1),
        "ops_per_step_min_max": [min(counts), max(counts)],
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
