"""One directory per run, named by a content hash; resume, atomic writes, aggregation.

    <root>/runs/<suite>/<dataset>/<model>/<hash>/
        config.json   the full resolved RunConfig
        env.json      git sha, versions, device, threads
        epochs.jsonl  per-epoch loss, validation metrics, seconds (rewritten from scratch on rerun)
        ranks.npy     per-user test ranks at the selected epoch (valid_ranks.npy beside it);
                      uint16 where n_items fits (read them with ``load_ranks``)
        result.json   written last: selected epoch, valid and test metrics, timings, parameters

A run paused by ``--pause-after`` keeps its training state under the state root
(``lares_bench.resume``) and is resumed by the same call; its result then lists its "segments".

The hash covers the config (minus the device, which is recorded in env.json), the dataset's
content fingerprint and the package version, so an identical finished run is skipped. A run
killed midway has no result.json and is simply run again.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import lares_bench
from lares_bench.config import RunConfig, canonical_json
from lares_bench.data.files import atomic_write_bytes  # noqa: F401  (re-exported for callers)
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.resume import RunState


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, default=str) + "\n").encode())


def atomic_write_npy(path: Path, array: np.ndarray) -> None:
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    atomic_write_bytes(path, buf.getvalue())


def rank_dtype(n_items: int) -> type:
    """Ranks run from 1 to n_items: two bytes each where that fits (halves the records,
    which travel with the checkout), else four."""
    return np.uint16 if n_items <= np.iinfo(np.uint16).max else np.int32


def save_ranks(path: Path, ranks: np.ndarray, n_items: int) -> None:
    ranks = np.asarray(ranks)
    if ranks.size and (ranks.min() < 1 or ranks.max() > n_items):
        raise ValueError(f"{path.name}: ranks outside 1..{n_items}")
    atomic_write_npy(path, ranks.astype(rank_dtype(n_items)))


def load_ranks(path: Path) -> np.ndarray:
    """Stored ranks as int64, whatever their width on disk (int32 before 0.3.0's uint16):
    differences of unsigned ranks would wrap."""
    return np.load(path).astype(np.int64)


# Config fields added after a release, with the value that reproduces the old behaviour. At
# that value they are left out of the hash, so the records written before they existed keep
# their directories (and a rerun still skips them); any other value is hashed as usual.
HASH_NEUTRAL_DEFAULTS: dict[str, dict[str, Any]] = {
    "train": {"tf32": False, "min_steps": 0, "epoch_batches": 0},  # 0.3.0
    "model_config": {"rpt_epoch_batches": 0},
}


# How a run executes, not what it computes: recorded in config.json, left out of the hash (and
# of the tables' settings), so that one run can be paused on a machine with CUDA graphs and
# resumed on one without, and graphed runs share the rows of eager ones. Like the device,
# they change only the order of random draws (graph replay of dropout) and rounding. The same
# holds for how a model groups its passes: ``pass_fusion`` (LARES's independent runs stacked in
# one recurrent pass, 0.3.0) and ``row_groups`` (rows of a pass run in length groups), so a GPU
# session can train with whichever layout it timed fastest and a run paused on a GPU resumes on
# a CPU. (Records written before these fields existed, or at their "auto" default, hash alike.)
EXECUTION_FIELDS: dict[str, tuple[str, ...]] = {
    "train": ("device", "cuda_graphs"),
    "model_config": ("pass_fusion", "row_groups"),
}


def drop_execution_fields(config: dict) -> dict:
    for section, keys in EXECUTION_FIELDS.items():
        for key in keys:
            config.get(section, {}).pop(key, None)
    return config


def run_hash(cfg: RunConfig, data_fingerprint: str) -> str:
    d = drop_execution_fields(cfg.to_dict())
    for section, neutral in HASH_NEUTRAL_DEFAULTS.items():
        for key, value in neutral.items():
            if key in d[section] and d[section][key] == value:
                del d[section][key]
    payload = canonical_json({"config": d, "data": data_fingerprint, "version": lares_bench.__version__})
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def run_dir(root: Path, cfg: RunConfig, data_fingerprint: str) -> Path:
    return root / "runs" / cfg.suite / cfg.dataset / cfg.model / run_hash(cfg, data_fingerprint)


CHECKOUT = Path(lares_bench.__file__).parent.parent  # the checkout this package runs from


def _git(args: list[str], cwd: Path) -> str | None:
    """stdout of ``git *args`` in ``cwd``; None when git is missing, fails or times out."""
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=5, cwd=cwd)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def git_sha() -> str:
    return (_git(["rev-parse", "HEAD"], CHECKOUT) or "").strip() or "unknown"


def git_dirty(root: Path | None = None) -> list[str] | None:
    """The code files (lares_bench/, baselines/, pyproject.toml) that differ from ``git_sha``:
    modified, staged or untracked. A run record with a non-empty list was not produced by the
    commit it names alone. None when git cannot tell (no git, not a checkout). ``root``: the
    checkout (default: ``CHECKOUT``)."""
    out = _git(["status", "--porcelain", "--untracked-files=all", "--",
                "lares_bench", "baselines", "pyproject.toml"], root or CHECKOUT)
    if out is None:
        return None
    return sorted(line[3:] for line in out.splitlines() if line.strip())


def cpu_name() -> str:
    """The CPU model (Linux /proc/cpuinfo), else platform.processor(), else "cpu"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"cpu: {line.split(':', 1)[1].strip()}"
    except OSError:
        pass
    return platform.processor() or "cpu"


def environment(device: torch.device) -> dict:
    env = {
        "git_sha": git_sha(),
        "git_dirty": git_dirty(),
        "lares_bench": lares_bench.__version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    return env


@dataclass
class RunRecord:
    path: Path
    result: dict
    skipped: bool = False


def load_record(path: Path) -> RunRecord | None:
    result = path / "result.json"
    if not result.exists():
        return None
    return RunRecord(path, json.loads(result.read_text()), skipped=True)


Executor = Callable[[RunConfig, LeaveOneOutSplit, Path, bool, "RunState | None"], dict]
"""(config, split, run directory, progress, state) -> result dict; writes epochs.jsonl and
ranks; hands ``state.stage(name)`` (if a state is given) to each training stage."""


def execute_run(
    cfg: RunConfig,
    split: LeaveOneOutSplit,
    data_fingerprint: str,
    root: Path,
    executor: Executor,
    *,
    progress: bool = True,
    force: bool = False,
    state_root: Path | None = None,
    pause_at: float | None = None,
) -> RunRecord:
    """Run ``cfg`` unless an identical finished run exists under ``root``. With ``state_root``
    a run paused earlier is resumed, and one still training at ``pause_at`` (a ``time.time()``
    value) is paused: ``RunPaused`` is raised and no result is written."""
    path = run_dir(root, cfg, data_fingerprint)
    if not force and (done := load_record(path)) is not None:
        return done
    env = environment(split.device)
    state = None
    if state_root is not None:
        state = RunState(state_root / path.relative_to(root / "runs"), path, pause_at,
                         device_name=env["device_name"],
                         code={k: env[k] for k in ("git_sha", "git_dirty")})
        if force:
            state.discard()
    path.mkdir(parents=True, exist_ok=True)
    (path / "result.json").unlink(missing_ok=True)
    atomic_write_json(path / "config.json", {**cfg.to_dict(), "data_fingerprint": data_fingerprint})
    atomic_write_json(path / "env.json", env)
    if state is None or not state.restore_log():
        (path / "epochs.jsonl").write_text("")
    result = executor(cfg, split, path, progress, state)
    segments = state.finish() if state is not None else []
    result = {"run": path.name, "config": cfg.to_dict(), **result}
    if segments:  # trained in several calls: where and how long each stretch ran
        result["segments"] = segments
    atomic_write_json(path / "result.json", result)  # last: marks the run finished
    return RunRecord(path, result)


def append_jsonl(path: Path, obj: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(obj) + "\n")
