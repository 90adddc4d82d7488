"""Pausing a run after any batch and resuming it later, as if it had never stopped.

A lent GPU comes for minutes at a time, while a converged run needs more: with
``lares-bench run --pause-after SECONDS`` a run that is still training when the time is up
saves its whole training state after its current batch and stops without a result; the same
command run again (here or on another machine) picks it up at the next batch. Pausing inside
an epoch matters for LARES on a CPU, whose SPT epochs on beauty take 9 to 10 minutes (RPT's,
extrapolated, about 55): pausing only at an epoch's end would leave up to an epoch of every
call's time unused.

    <state root>/<suite>/<dataset>/<model>/<hash>/   (the run directory's path under runs/)
        <stage>.pt      one per training stage ("train"; LARES: "spt", then "rpt")
        epochs.jsonl    the run's epoch log as it was when the state was saved
        segments.json   one entry per stretch of training: device, code (git_sha, git_dirty),
                        start, seconds, epochs

A stage's state holds the model, the optimiser, the selection state (best weights, epoch,
metrics, validation ranks, patience count), the epoch records, the step count and every
random generator the trainer draws from (Python, NumPy, torch CPU and CUDA, the batch
shuffler); paused inside an epoch, also the shuffler's state at that epoch's start (to replay
its batch order), the batches done and the epoch's loss sum and seconds so far. On the same
device a paused-and-resumed run gives the same numbers as one that ran through (tested). A
finished stage keeps a smaller state (its selected weights, outcome and generators) until the
run is written, so that a run paused in its second stage repeats nothing of the first. The run's state directory is deleted once its result.json is written.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lares_bench.data.files import atomic_write_bytes


class RunPaused(Exception):
    """Raised by the trainer after it saved a run's state because its pause time had passed."""

    def __init__(self, run_path: Path, epoch: int, batch: tuple[int, int] | None = None):
        if batch is not None:  # inside epoch ``epoch``: (batches done, batches in the epoch)
            what = f"paused in epoch {epoch} after batch {batch[0]} of {batch[1]}"
        elif epoch:
            what = f"paused after epoch {epoch}"
        else:
            what = "not started (past the pause time)"
        super().__init__(f"{run_path}: {what}; run the same command again to go on")
        self.run_path, self.epoch, self.batch = run_path, epoch, batch


def state_root(results_root: Path, state_dir: Path | None) -> Path:
    """Where paused runs keep their states: ``--state-dir``, else RESULTS_DIR/.resume."""
    return state_dir or results_root / ".resume"


def pause_deadline(pause_after: float) -> float | None:
    """The ``time.time()`` at which runs pause, for ``--pause-after`` seconds (0 = never)."""
    return time.time() + pause_after if pause_after > 0 else None


def refuse_start_after(deadline: float | None, path: Path, force: bool) -> None:
    """Past the pause time a grid starts no run that is not finished (it would only pause)."""
    finished = (path / "result.json").exists() and not force
    if deadline is not None and time.time() >= deadline and not finished:
        raise RunPaused(path, 0)


def capture_rng(gen: torch.Generator) -> dict[str, Any]:
    state = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
        "shuffle": gen.get_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict[str, Any], gen: torch.Generator) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    gen.set_state(state["shuffle"])
    if "cuda" in state and torch.cuda.is_available():  # a CPU resume of a CUDA run skips it
        torch.cuda.set_rng_state_all(state["cuda"])


@dataclass
class RunState:
    """Where one run keeps its training state, and when it must pause (``pause_at`` is a
    ``time.time()`` value; None = never pause, and keep no state)."""

    dir: Path
    run_path: Path
    pause_at: float | None = None
    device_name: str = ""
    code: dict = field(default_factory=dict)  # git_sha and git_dirty of this call's code
    started: float = field(default_factory=time.time)
    train_seconds: float = 0.0  # trained in this segment, all stages
    epochs: dict[str, list[int]] = field(default_factory=dict)  # stage: [first, last] here
    batches: dict[str, int] = field(default_factory=dict)  # stage: training batches run here
    paused_in: dict | None = None  # stage, epoch, batch, of: where a pause inside an epoch fell

    def stage(self, name: str) -> StageState:
        return StageState(self, name)

    def should_pause(self) -> bool:
        return self.pause_at is not None and time.time() >= self.pause_at

    def segments(self) -> list[dict]:
        """The stretches of training before this one (empty for a run never paused)."""
        path = self.dir / "segments.json"
        return json.loads(path.read_text()) if path.exists() else []

    def this_segment(self) -> dict:
        return {
            "device": self.device_name,
            **self.code,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started)),
            "train_seconds": round(self.train_seconds, 3),
            "epochs": {stage: list(span) for stage, span in self.epochs.items()},
            "batches": dict(self.batches),
            **({"paused_in": self.paused_in} if self.paused_in else {}),
        }

    def restore_log(self) -> bool:
        """Put back the epoch log saved with the state (a later, killed segment may have
        appended lines past it). False if there is no saved state."""
        saved = self.dir / "epochs.jsonl"
        if not saved.exists():
            return False
        shutil.copyfile(saved, self.run_path / "epochs.jsonl")
        return True

    def save(self, stage: str, payload: dict, *, pausing: bool) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        buf = io.BytesIO()
        torch.save(payload, buf)
        atomic_write_bytes(self.dir / f"{stage}.pt", buf.getvalue())
        atomic_write_bytes(self.dir / "epochs.jsonl", (self.run_path / "epochs.jsonl").read_bytes())
        if pausing:
            segments = [*self.segments(), self.this_segment()]
            atomic_write_bytes(self.dir / "segments.json", json.dumps(segments, indent=1).encode())

    def finish(self) -> list[dict]:
        """Every segment of a run that was paused at least once (else []); drops the state."""
        earlier = self.segments()
        self.discard()
        return [*earlier, self.this_segment()] if earlier else []

    def discard(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class StageState:
    """One training stage's state. ``extras`` names more state the trainer cannot see, as
    (get, set) pairs saved and restored with it (LARES RPT: the frozen reference's noise)."""

    run: RunState
    name: str
    extras: dict[str, tuple[Callable[[], Any], Callable[[Any], None]]] = field(default_factory=dict)

    @property
    def file(self) -> Path:
        return self.run.dir / f"{self.name}.pt"

    @property
    def keeps_state(self) -> bool:
        return self.run.pause_at is not None

    def load(self) -> dict | None:
        """The saved state, every tensor on the CPU (generator states must be CPU tensors;
        weights and optimiser moments are copied to the model's device when loaded)."""
        if not self.file.exists():
            return None
        # our own file, holding numpy arrays and generator states: not weights-only
        return torch.load(self.file, map_location="cpu", weights_only=False)

    def epoch_done(self, epoch: int, seconds: float) -> None:
        self.run.epochs.setdefault(self.name, [epoch, epoch])[1] = epoch
        self.run.train_seconds += seconds

    def should_pause(self) -> bool:
        return self.run.should_pause()

    def batch_done(self) -> None:
        self.run.batches[self.name] = self.run.batches.get(self.name, 0) + 1

    def pause_inside(self, epoch: int, batch: int, of: int, seconds: float) -> None:
        """Note a pause after ``batch`` of ``of`` batches of ``epoch`` (``seconds`` of that
        epoch's training ran in this call); the next save then records it."""
        self.run.train_seconds += seconds
        self.run.paused_in = {"stage": self.name, "epoch": epoch, "batch": batch, "of": of}

    def save(self, payload: dict, *, pausing: bool) -> None:
        self.run.save(self.name, payload, pausing=pausing)
