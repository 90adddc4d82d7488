"""ReaRec-ERL training-step time with the step-diversity KL through autograd ("before": the
version of bd9892f, pairwise products of probabilities and detached log-probabilities) against
baselines/rearec.py's ``PairwiseStepKL`` ("after": gradient formed in the forward pass), in one
process on the same batches, sides interleaved so that load changes hit both alike.

    OMP_NUM_THREADS=1 python results/benchmarks/cpu_2026-12-07-rearec/erl_kl_ab.py \
        --batches 4 --reps 3 --data-dir ../shared/datasets

Prints one JSON line per (rep, side) and a summary line (best rep per side, seconds per step);
also checks that the two sides give the same loss and the same gradients on the first batch
(eval mode, no dropout)."""

from __future__ import annotations

import argparse
import itertools
import json
import os
import time
from pathlib import Path

import torch

from baselines import build_model
from baselines.rearec import ReaRec
from lares_bench.config import parse_set_options
from lares_bench.experiment import build_run_config
from lares_bench.suites import load_split
from lares_bench.training import seed_everything, training_batches

AFTER = ReaRec.step_divergence


def before(self, states: torch.Tensor) -> torch.Tensor:
    """The version of bd9892f."""
    T = states.shape[1]
    logits = (states / self.config.temperature) @ self.item_embeddings()[1:].T
    logp = logits.float().log_softmax(-1)
    p = logp.exp()
    cross = torch.einsum("bjn,bin->bij", p, logp.detach())
    kl = cross.diagonal(dim1=1, dim2=2).unsqueeze(1) - cross
    off = ~torch.eye(T, dtype=torch.bool, device=states.device)
    return kl[:, off].mean()


def use(side: str) -> None:
    ReaRec.step_divergence = before if side == "before" else AFTER


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--dataset", default="beauty")
    p.add_argument("--batches", type=int, default=4)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--data-dir", type=Path, default=os.environ.get("LARES_BENCH_DATA"))
    p.add_argument("--set", dest="overrides", action="append", default=[])
    args = p.parse_args()
    dev = torch.device("cpu")
    _, split = load_split(args.dataset, args.data_dir, None, dev)
    cfg = build_run_config(args.dataset, "rearec-erl", max_len=split.max_len,
                           overrides=parse_set_options(args.overrides), device="cpu")
    model = build_model("rearec-erl", split.n_items, cfg.model_config).to(dev)
    model.prepare(split)
    gen = seed_everything(0)
    batches = list(itertools.islice(training_batches(model, split, cfg.train, gen),
                                    args.batches + 1))
    model.eval()  # same-loss check without dropout draws
    check = {}
    for side in ("before", "after"):
        use(side)
        model.zero_grad(set_to_none=True)
        loss = model.training_loss(batches[0])
        loss.backward()
        check[side] = (loss.item(), [q.grad.clone() for q in model.parameters()])
    grad_diff = max((a - b).abs().max().item() / max(b.abs().max().item(), 1e-30)
                    for a, b in zip(check["after"][1], check["before"][1], strict=True))
    print(json.dumps({"loss_first_batch_eval": {k: v[0] for k, v in check.items()},
                      "max_relative_grad_difference": grad_diff}), flush=True)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(batch) -> None:
        loss = model.training_loss(batch) * batch.weight
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    best: dict[str, float] = {}
    for rep in range(args.reps):
        for side in ("before", "after"):
            use(side)
            step(batches[0])  # warm-up
            t0 = time.perf_counter()
            for b in batches[1:]:
                step(b)
            s = (time.perf_counter() - t0) / args.batches
            best[side] = min(best.get(side, float("inf")), s)
            print(json.dumps({"rep": rep, "side": side, "s_per_step": round(s, 4)}), flush=True)
    print(json.dumps({"model": "rearec-erl", "dataset": args.dataset, "batches": args.batches,
                      "batch_size": cfg.train.batch_size, "threads": torch.get_num_threads(),
                      "torch": torch.__version__,
                      "best_s_per_step": {k: round(v, 4) for k, v in best.items()},
                      "speedup": round(best["before"] / best["after"], 3)}))


if __name__ == "__main__":
    main()
