"""Seconds per LARES epoch (SPT and RPT), extrapolated from the first batches of an epoch.

    python benchmarks/lares_epoch.py --dataset beauty --data-dir ../shared/datasets \
        [--device cpu] [--batches 20] [--rpt-batches 5] [--set model.mean_recurrence=4]

A full LARES epoch on CPU takes minutes, so this times the first ``--batches`` SPT batches
(forward + backward + Adam step, batches drawn exactly as the trainer draws them) and the
first ``--rpt-batches`` GRPO batches, and extrapolates each to a full epoch. Depths are random,
so a few batches give a rough figure (the spread is printed). Also timed: building the
same-target index (``prepare``), one filter pass over every training example (extrapolated
from its first batches too) and one validation pass. The model is untrained: the RPT
extrapolation is for ALL training examples (``rpt_filter`` off); with the filter on, multiply
by the kept fraction of a trained model. Prints one JSON line; writes nothing.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from baselines import build_model
from lares_bench.config import parse_set_options
from lares_bench.experiment import build_run_config
from lares_bench.lares.rpt import grpo_loss, target_ranks
from lares_bench.suites import load_split
from lares_bench.training import evaluate, resolve_device, seed_everything, training_batches


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_steps(model, batches, loss_fn, opt, device, bf16: bool = False) -> list[float]:
    """Seconds of each (loss, backward, step); the first batch is a warm-up, not counted.
    ``bf16`` autocasts the loss as the trainer does with ``train.bf16``."""
    out = []
    for i, batch in enumerate(batches):
        _sync(device)
        t0 = time.perf_counter()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = loss_fn(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(device)
        if i > 0:
            out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--model", default="lares")
    p.add_argument("--device", default="cpu")
    p.add_argument("--batches", type=int, default=20, help="SPT batches timed")
    p.add_argument("--rpt-batches", type=int, default=5, help="GRPO batches timed")
    p.add_argument("--filter-batches", type=int, default=5, help="filter batches timed")
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--cache-dir", type=Path, default=os.environ.get("LARES_BENCH_CACHE"))
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()

    device = resolve_device(args.device)
    t0 = time.perf_counter()
    _, split = load_split(args.dataset, args.data_dir, args.cache_dir, device)
    load_s = time.perf_counter() - t0
    cfg = build_run_config(
        args.dataset, args.model, max_len=split.max_len,
        overrides=parse_set_options(args.overrides), device=args.device,
    )
    c = cfg.model_config
    gen = seed_everything(0)
    model = build_model(args.model, split.n_items, c).to(device)
    n_examples = len(split.train_example_ends())

    t0 = time.perf_counter()
    model.prepare(split)
    prepare_s = time.perf_counter() - t0

    # --- SPT ---
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=cfg.train.lr)
    it = training_batches(model, split, cfg.train, gen)
    spt = time_steps(model, itertools.islice(it, args.batches + 1), model.training_loss, opt, device,
                     cfg.train.bf16)
    spt_batches = -(-n_examples // cfg.train.batch_size)

    # --- RPT (GRPO over all examples; filter pass timed separately) ---
    ref = build_model(args.model, split.n_items, c).to(device)
    ref.load_state_dict(model.state_dict())
    ref.requires_grad_(False).eval()
    rpt_train = cfg.train.__class__(**{**cfg.train.__dict__, "batch_size": c.rpt_batch_size})
    it = training_batches(model, split, rpt_train, gen)
    model.train()
    ropt = torch.optim.Adam(model.parameters(), lr=c.rpt_lr)
    rpt = time_steps(
        model, itertools.islice(it, args.rpt_batches + 1),
        lambda b: grpo_loss(model, ref, b), ropt, device, cfg.train.bf16,
    )
    rpt_batches = -(-n_examples // c.rpt_batch_size)

    # --- one filter pass (eval depth), first batches ---
    model.eval()
    ends = split.train_example_ends()
    users = split.example_users(ends)
    fb = cfg.train.eval_batch_size
    # the filter batches examples in order of window length: time randomly chosen such batches
    chunks = torch.split(torch.argsort(ends - split.starts[users], stable=True), fb)
    pick = torch.randperm(len(chunks), generator=gen)[: args.filter_batches].tolist()
    filt = []
    with torch.no_grad():
        for i in pick:
            idx = chunks[i]
            _sync(device)
            t1 = time.perf_counter()
            s = model.scores(split.windows(users[idx], ends[idx]))[:, 1:]
            target_ranks(s, split.items[ends[idx]])
            _sync(device)
            filt.append(time.perf_counter() - t1)
    t1 = time.perf_counter()
    evaluate(model, split, "valid", cfg.eval, cfg.train.eval_batch_size)
    valid_s = time.perf_counter() - t1

    def summary(times: list[float], batch: int, n_batches: int) -> dict:
        mean = statistics.mean(times)
        return {
            "batch_size": batch,
            "batches_timed": len(times),
            "seconds_per_batch": round(mean, 4),
            "batch_seconds_min_max": [round(min(times), 4), round(max(times), 4)],
            "examples_per_second": round(batch / mean, 1),
            "batches_per_epoch": n_batches,
            "seconds_per_epoch_extrapolated": round(mean * n_batches, 1),
        }

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    print(json.dumps({
        "dataset": args.dataset, "model": args.model, "device": str(device),
        "device_name": name or "cpu", "threads": torch.get_num_threads(),
        "examples": n_examples, "max_len": split.max_len, "load_seconds": round(load_s, 2),
        "prepare_seconds": round(prepare_s, 3),
        "spt": summary(spt, cfg.train.batch_size, spt_batches),
        "rpt_all_examples": summary(rpt, c.rpt_batch_size, rpt_batches),
        "filter_pass_seconds_extrapolated": round(statistics.mean(filt) * -(-n_examples // fb), 1),
        "valid_seconds": round(valid_s, 2),
        "mean_recurrence": c.mean_recurrence, "bf16": cfg.train.bf16, "rpt_group": c.rpt_group,
    }))


if __name__ == "__main__":
    main()
