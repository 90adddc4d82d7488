"""Training-step time with torch's dropout draw ("torch": F.dropout, SDPA's own attention
dropout) against baselines/dropout.py's CPU draw ("rand"), in one process on the same batches,
sides interleaved so that load changes hit both alike.

    OMP_NUM_THREADS=1 python results/benchmarks/cpu_2026-11-28-dropout/dropout_ab.py \
        --model cl4srec --batches 20 --reps 3 --data-dir ../shared/datasets

Prints one JSON line per (rep, side) and a summary line (best rep per side, seconds per step)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import baselines.dropout as fast
import baselines.layers
import baselines.rearec
from baselines import build_model
from lares_bench.config import parse_set_options
from lares_bench.experiment import build_run_config
from lares_bench.suites import load_split
from lares_bench.training import seed_everything, training_batches

FAST = (fast.dropout, fast.attend)


def torch_dropout(x, p, training=True):
    return F.dropout(x, p, training)


def torch_attend(q, k, v, mask, p, use_sdpa=True):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)


def use(side: str) -> None:
    drop, att = FAST if side == "rand" else (torch_dropout, torch_attend)
    fast.dropout = drop
    baselines.layers.attend = att
    baselines.rearec.attend = att


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="cl4srec")
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--batches", type=int, default=20)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    dev = torch.device("cpu")
    _, split = load_split(args.dataset, args.data_dir, None, dev)
    cfg = build_run_config(args.dataset, args.model, max_len=split.max_len,
                           overrides=parse_set_options(args.overrides), device="cpu")
    model = build_model(args.model, split.n_items, cfg.model_config).to(dev)
    model.prepare(split)
    model.train()
    gen = seed_everything(0)
    batches = list(itertools.islice(training_batches(model, split, cfg.train, gen),
                                    args.batches + 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(batch) -> None:
        loss = model.training_loss(batch) * batch.weight
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    best: dict[str, float] = {}
    for rep in range(args.reps):
        for side in ("torch", "rand"):
            use(side)
            step(batches[0])  # warm-up
            t0 = time.perf_counter()
            for b in batches[1:]:
                step(b)
            s = (time.perf_counter() - t0) / args.batches
            best[side] = min(best.get(side, float("inf")), s)
            print(json.dumps({"model": args.model, "rep": rep, "side": side,
                              "s_per_step": round(s, 4)}), flush=True)
    print(json.dumps({"model": args.model, "dataset": args.dataset, "batches": args.batches,
                      "batch_size": cfg.train.batch_size, "threads": torch.get_num_threads(),
                      "best_s_per_step": {k: round(v, 4) for k, v in best.items()},
                      "speedup": round(best["torch"] / best["rand"], 3)}))


if __name__ == "__main__":
    main()
