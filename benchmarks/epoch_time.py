"""Seconds per training epoch (and per full validation pass) of any registered model.

    python benchmarks/epoch_time.py --dataset beauty --model sasrec --epochs 2 \
        --data-dir ../shared/datasets [--device cuda] [--set train.bf16=true]

Trains ``--epochs`` real epochs with the suite's trainer and prints the time of each epoch,
the validation time and the device, as one JSON line per epoch plus a summary line. Nothing is
written under results/ (a benchmark, not a run record)."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import torch

from baselines import build_model
from lares_bench.config import parse_set_options
from lares_bench.experiment import build_run_config
from lares_bench.runs import cpu_name
from lares_bench.suites import load_split
from lares_bench.training import resolve_device, train_model


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--model", default="sasrec")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--cache-dir", type=Path, default=os.environ.get("LARES_BENCH_CACHE"))
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()

    device = resolve_device(args.device)
    t0 = time.perf_counter()
    data, split = load_split(args.dataset, args.data_dir, args.cache_dir, device)
    load_s = time.perf_counter() - t0
    overrides = parse_set_options(args.overrides)
    overrides["train"].update({"epochs": str(args.epochs), "patience": str(args.epochs + 1)})
    cfg = build_run_config(
        args.dataset, args.model, max_len=split.max_len, overrides=overrides, device=args.device
    )
    model = build_model(args.model, split.n_items, cfg.model_config).to(device)
    outcome = train_model(
        model, split, cfg.train, cfg.eval, progress=False,
        on_epoch=lambda r: print(json.dumps(r.to_dict())),
    )
    per_epoch = [r.train_seconds for r in outcome.epochs]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    print(json.dumps({
        "dataset": args.dataset, "model": args.model, "device": str(device), "device_name": name,
        "threads": torch.get_num_threads(), "load_seconds": round(load_s, 2),
        "seconds_per_epoch": [round(s, 2) for s in per_epoch],
        "valid_seconds": [round(r.eval_seconds, 2) for r in outcome.epochs],
        "bf16": cfg.train.bf16, "tf32": cfg.train.tf32, "compile": cfg.train.compile,
        "cuda_graphs": cfg.train.cuda_graphs,
        "batch_size": cfg.train.batch_size,
    }))


if __name__ == "__main__":
    main()
