"""The generic training loop: batching from device tensors, Adam, early stopping on a
validation metric, best-checkpoint restore, one test read at the selected epoch.

Batching. "sequence" models get one training sequence per user (inputs s[:n-3], targets
s[1:n-2]); "example" models get one (prefix -> next item) pair per training target. With
``length_bucketing`` the rows are shuffled, then stably sorted by length and cut into batches
whose order is shuffled: every batch is padded only to its own longest row, which on Amazon
data (mean length ~9, max 50) removes most of the padding work. Rows of equal length are in
random order, so the batches differ every epoch.

Position weighting. A model's loss is a mean over the target positions of its batch. Under
random batching every position then weighs about the same over an epoch; under length
bucketing a batch of 256 one-position users would weigh each position 50x more than a batch of
256 fifty-position users. So in sequence mode each batch's loss is scaled by
(positions in the batch) / (mean positions per batch), which makes the epoch's objective the
plain mean over positions again, as in the reference implementations' random batches. Example
mode batches have equal numbers of examples and weight 1.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from baselines.base import Batch, SequentialModel
from lares_bench.config import EvalConfig, TrainConfig
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.evaluation import metrics_from_ranks, rank_part
from lares_bench.resume import RunPaused, StageState, capture_rng, restore_rng


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run stops and writes no result."""


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: CUDA is not available on this machine")
    if name not in ("cpu",) and not name.startswith("cuda"):
        raise ValueError(f"--device must be auto, cpu, cuda or cuda:N, got {name!r}")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def batch_rows(
    lengths: torch.Tensor, batch_size: int, bucketing: bool, gen: torch.Generator
) -> list[torch.Tensor]:
    """Row indices of each batch for one epoch (see the module docstring)."""
    perm = torch.randperm(len(lengths), generator=gen).to(lengths.device)
    if bucketing:
        perm = perm[torch.argsort(lengths[perm], stable=True)]
    batches = list(torch.split(perm, batch_size))
    order = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in order]


def training_batches(
    model: SequentialModel, split: LeaveOneOutSplit, cfg: TrainConfig, gen: torch.Generator
) -> Iterator[Batch]:
    if model.train_mode == "sequence":
        lengths = split.train_lengths()
        users = torch.nonzero(lengths > 0).squeeze(1)
        batches = batch_rows(lengths[users], cfg.batch_size, cfg.length_bucketing, gen)
        mean_positions = lengths[users].sum().double() / max(1, len(batches))
        for rows in batches:
            u = users[rows]
            inputs, targets = split.train_sequences(u)
            weight = (lengths[u].sum() / mean_positions).float()  # tensor: no device sync
            yield Batch(u, inputs, targets, weight=weight)
    elif model.train_mode == "example":
        ends = split.train_example_ends()
        ex_users = split.example_users(ends)
        lengths = (ends - split.starts[ex_users]).clamp(max=split.max_len)
        for rows in batch_rows(lengths, cfg.batch_size, cfg.length_bucketing, gen):
            u = ex_users[rows]
            yield Batch(u, split.windows(u, ends[rows]), split.items[ends[rows]], rows)
    else:
        raise ValueError(f"model {model.registry_name} has train_mode {model.train_mode!r}")


def n_training_batches(
    model: SequentialModel, split: LeaveOneOutSplit, batch_size: int, epoch_batches: int = 0
) -> int:
    """Batches per epoch: all of them, or at most ``epoch_batches`` when that is > 0."""
    if model.train_mode == "sequence":
        n = int((split.train_lengths() > 0).sum())
    else:
        n = len(split.train_example_ends())
    n = math.ceil(n / batch_size)
    return min(n, epoch_batches) if epoch_batches > 0 else n


def evaluate(
    model: SequentialModel,
    split: LeaveOneOutSplit,
    part: str,
    eval_cfg: EvalConfig,
    batch_size: int = 1024,
    bf16: bool = False,
) -> np.ndarray:
    """Per-user ranks of the ``part`` targets under the current model (eval mode)."""
    was_training = model.training
    model.eval()
    device_type = split.device.type

    def score(users: torch.Tensor, inputs: torch.Tensor) -> torch.Tensor:
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=bf16):
            return model.scores(inputs, users).float()

    ranks = rank_part(score, split, part, eval_cfg.history_mask, batch_size)
    model.train(was_training)
    return ranks


@dataclass
class EpochRecord:
    epoch: int
    loss: float
    train_seconds: float
    eval_seconds: float
    valid: dict[str, float]

    def to_dict(self) -> dict:
        return {
            "epoch": self.epoch,
            "loss": self.loss,
            "train_seconds": round(self.train_seconds, 4),
            "eval_seconds": round(self.eval_seconds, 4),
            "valid": self.valid,
        }


@dataclass
class TrainOutcome:
    best_epoch: int
    best_valid: dict[str, float]
    valid_ranks: np.ndarray
    epochs: list[EpochRecord] = field(default_factory=list)
    train_seconds: float = 0.0
    stop_reason: str = ""


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[info]}"),
        disable=not enabled,
        transient=True,
    )


def train_model(
    model: SequentialModel,
    split: LeaveOneOutSplit,
    cfg: TrainConfig,
    eval_cfg: EvalConfig,
    *,
    loss_fn: Callable[[Batch], torch.Tensor] | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    on_epoch: Callable[[EpochRecord], None] | None = None,
    progress: bool = True,
    description: str = "train",
    state: StageState | None = None,
) -> TrainOutcome:
    """Train with early stopping on validation ``cfg.select_metric``; on return the model holds
    the weights of the selected epoch. ``loss_fn`` defaults to ``model.training_loss``.
    With ``state`` (``lares_bench.resume``) a saved stage is resumed at its next epoch (or, if
    it had finished, returned as it ended) at the batch where it paused, and training pauses,
    raising ``RunPaused`` after saving, at the first batch's end past the run's pause time."""
    gen = seed_everything(cfg.seed)
    if model.train_mode == "fit":
        model.fit(split)
        ranks = evaluate(model, split, "valid", eval_cfg, cfg.eval_batch_size)
        valid = metrics_from_ranks(ranks, eval_cfg.ks)
        return TrainOutcome(0, valid, ranks, [EpochRecord(0, 0.0, 0.0, 0.0, valid)], 0.0, "fit")

    model.prepare(split)
    if split.device.type == "cuda":  # process-wide switch: set by every run for itself
        torch.backends.cuda.matmul.allow_tf32 = cfg.tf32
    compute_loss = loss_fn or model.training_loss
    if cfg.cuda_graphs and loss_fn is None:
        if split.device.type != "cuda":
            raise ValueError("train.cuda_graphs needs --device cuda")
        compute_loss = model.graphed_training_loss(cfg.batch_size)
    if cfg.compile:
        # compile the loss function itself: torch.compile(model) would compile only forward(),
        # which no training loss here calls. LARES's depth loop unrolls, so each sampled depth
        # compiles its own graph (minutes on CPU): measure before turning this on.
        compute_loss = torch.compile(compute_loss)
    opt = optimizer or torch.optim.Adam(
        model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay
    )
    device_type = split.device.type
    best_value, best_epoch, best_state = -math.inf, 0, None
    best_valid: dict[str, float] = {}
    best_ranks = np.zeros(0)
    records: list[EpochRecord] = []
    bad_epochs, stop_reason, total_train, steps = 0, "max epochs", 0.0, 0
    n_batches = n_training_batches(model, split, cfg.batch_size, cfg.epoch_batches)
    check_each_batch = split.device.type != "cuda"
    start_epoch = 1
    inside: dict | None = None  # a pause inside epoch start_epoch: where it fell (see below)
    saved = state.load() if state is not None else None
    if saved is not None and saved["finished"]:
        model.load_state_dict(saved["model"])
        restore_rng(saved["rng"], gen)
        return saved["outcome"]
    if saved is not None:
        model.load_state_dict(saved["model"])
        opt.load_state_dict(saved["optimizer"])
        best_value, best_epoch, best_valid, best_ranks, best_state = saved["best"]
        if best_state == "current":  # selected at the epoch it paused after: not saved twice
            best_state = copy.deepcopy(model.state_dict())
        records, bad_epochs, total_train, steps = saved["progress"]
        restore_rng(saved["rng"], gen)
        for name, (_, put) in state.extras.items():
            put(saved["extras"][name])
        start_epoch = saved["epoch"] + 1
        inside = saved.get("inside")

    def paused_state(completed: int, best_weights, **more) -> dict:
        """What a pause saves; ``completed`` is the last finished epoch, ``best_weights`` the
        selected epoch's ("current": the model's own, not saved twice)."""
        return {
            "finished": False, "epoch": completed, "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "best": (best_value, best_epoch, best_valid, best_ranks, best_weights),
            "progress": (records, bad_epochs, total_train, steps),
            "rng": capture_rng(gen),
            "extras": {name: get() for name, (get, _) in state.extras.items()},
            **more,
        }

    with _progress(progress) as bar:
        task = bar.add_task(description, total=cfg.epochs, completed=start_epoch - 1, info="")
        for epoch in range(start_epoch, cfg.epochs + 1):
            model.train()
            model.set_epoch(epoch)
            t0 = time.perf_counter()
            loss_sum = torch.zeros((), device=split.device)
            # the shuffler as the epoch starts: a pause inside the epoch saves it, so that the
            # resumed call replays the same batch order and skips the batches already done
            shuffle_state = gen.get_state()
            done, earlier_s = 0, 0.0
            # islice: with train.epoch_batches an epoch is the first batches of a fresh shuffle
            epoch_iter = itertools.islice(training_batches(model, split, cfg, gen), n_batches)
            if inside is not None:
                shuffle_state, done, earlier_s = (
                    inside["shuffle"], inside["batches"], inside["train_seconds"])
                loss_sum += inside["loss_sum"].to(split.device)
                gen.set_state(shuffle_state)
                next(itertools.islice(epoch_iter, done, done), None)  # draws the order, skips
                gen.set_state(saved["rng"]["shuffle"])  # where it stood at the pause
                inside = None
            batch_task = bar.add_task(f"epoch {epoch}", total=n_batches, completed=done, info="")
            for i, batch in enumerate(epoch_iter, start=done):
                with torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.bf16):
                    loss = compute_loss(batch) * batch.weight
                # on CUDA a per-batch check would synchronise every step: check the epoch sum
                if check_each_batch and not torch.isfinite(loss):
                    raise TrainingDiverged(
                        f"{model.registry_name}: loss is {loss.item()} at epoch {epoch}, "
                        f"batch {i + 1}; no result is written (try a lower train.lr)"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                steps += 1
                loss_sum += loss.detach()
                bar.advance(batch_task)
                if state is None:
                    continue
                state.batch_done()
                if i + 1 < n_batches and state.should_pause():  # the last batch ends the epoch
                    this_call = time.perf_counter() - t0
                    state.pause_inside(epoch, i + 1, n_batches, this_call)
                    state.save(paused_state(
                        epoch - 1, best_state,
                        inside={"batches": i + 1, "shuffle": shuffle_state,
                                "loss_sum": loss_sum.detach().cpu(),
                                "train_seconds": earlier_s + this_call},
                    ), pausing=True)
                    raise RunPaused(state.run.run_path, epoch, (i + 1, n_batches))
            bar.remove_task(batch_task)
            if not torch.isfinite(loss_sum):
                raise TrainingDiverged(
                    f"{model.registry_name}: loss is {float(loss_sum)} in epoch {epoch}; "
                    "no result is written (try a lower train.lr)"
                )
            if split.device.type == "cuda":
                torch.cuda.synchronize()
            this_call = time.perf_counter() - t0
            train_s = earlier_s + this_call
            total_train += train_s
            mean_loss = float(loss_sum) / max(1, n_batches)

            valid: dict[str, float] = {}
            eval_s = 0.0
            if epoch % cfg.eval_every == 0 or epoch == cfg.epochs:
                t1 = time.perf_counter()
                ranks = evaluate(model, split, "valid", eval_cfg, cfg.eval_batch_size, cfg.bf16)
                valid = metrics_from_ranks(ranks, eval_cfg.ks)
                eval_s = time.perf_counter() - t1
                if valid[cfg.select_metric] > best_value:
                    best_value, best_epoch, best_valid, best_ranks = (
                        valid[cfg.select_metric], epoch, valid, ranks,
                    )
                    best_state = copy.deepcopy(model.state_dict())
                    bad_epochs = 0
                else:
                    bad_epochs += cfg.eval_every
            record = EpochRecord(epoch, mean_loss, train_s, eval_s, valid)
            records.append(record)
            if on_epoch:
                on_epoch(record)
            if state is not None:
                state.epoch_done(epoch, this_call)
            info = f"loss {mean_loss:.4f}"
            if valid:
                info += f" | valid {cfg.select_metric} {valid[cfg.select_metric]:.4f}"
            bar.update(task, advance=1, info=info + f" (best {best_value:.4f} @ {best_epoch})")
            if bad_epochs >= cfg.patience and steps >= cfg.min_steps:
                stop_reason = f"early stop: no improvement in {cfg.patience} epochs"
                break
            if cfg.max_train_seconds and total_train >= cfg.max_train_seconds:
                stop_reason = f"time budget {cfg.max_train_seconds:.0f}s reached"
                break
            if state is not None and state.should_pause() and epoch < cfg.epochs:
                state.save(paused_state(epoch, "current" if best_epoch == epoch else best_state),
                           pausing=True)
                raise RunPaused(state.run.run_path, epoch)
    for depth, why in (getattr(compute_loss, "failures", None) or {}).items():
        warnings.warn(f"{model.registry_name}: no CUDA graph for depth {depth}, trained it "
                      f"eagerly: {why}", stacklevel=2)
    if best_state is not None:
        model.load_state_dict(best_state)
    outcome = TrainOutcome(best_epoch, best_valid, best_ranks, records, total_train, stop_reason)
    if state is not None and state.keeps_state:  # a later stage may pause: keep this one's end
        state.save({"finished": True, "model": model.state_dict(), "outcome": outcome,
                    "rng": capture_rng(gen)}, pausing=False)
    return outcome
