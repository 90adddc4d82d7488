"""What is paused: the runs that saved a training state (resume.py) and wait to be resumed.

Read from the state directories alone (their saved epoch log and segments), so listing loads
no checkpoint. ``lares-bench paused`` prints them; the command that started a run resumes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PausedRun:
    suite: str
    dataset: str
    model: str
    run_hash: str
    seed: int | None  # from the run's config.json (None if that is missing)
    stages: tuple[str, ...]  # saved stage states ("train"; LARES "spt", "rpt")
    last_stage: str  # the stage of the last saved epoch ("" when the log has no stages)
    epochs: int  # epochs of that stage logged when the state was saved
    metric: str
    best: float | None  # best validation value of ``metric`` in that stage
    best_epoch: int | None
    segments: int  # stretches of training so far
    train_hours: float  # training time of those stretches
    devices: tuple[str, ...]
    paused_in: str = ""  # "spt epoch 3, batch 57/129" for a pause inside an epoch ("" = at its end)


def _epoch_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _inside(where: dict | None) -> str:
    if not where:
        return ""
    return f"{where['stage']} epoch {where['epoch']}, batch {where['batch']}/{where['of']}"


def list_paused(state_root: Path, results_root: Path) -> list[PausedRun]:
    """Every run under ``state_root`` (<suite>/<dataset>/<model>/<hash>/) with a saved stage."""
    found = []
    for stage_file in sorted(state_root.glob("*/*/*/*/*.pt")):
        run_dir = stage_file.parent
        if found and found[-1][0] == run_dir:
            continue
        found.append((run_dir, sorted(p.stem for p in run_dir.glob("*.pt"))))
    runs = []
    for run_dir, stages in found:
        suite, dataset, model, run_hash = run_dir.relative_to(state_root).parts
        config_file = results_root / "runs" / suite / dataset / model / run_hash / "config.json"
        config = json.loads(config_file.read_text()) if config_file.exists() else {}
        train = config.get("train", {})
        metric = train.get("select_metric", "NDCG@10")
        log = [r for r in _epoch_log(run_dir / "epochs.jsonl") if metric in r.get("valid", {})]
        last_stage = log[-1].get("stage", "") if log else ""
        log = [r for r in log if r.get("stage", "") == last_stage]  # LARES: the current stage
        best = max(log, key=lambda r: r["valid"][metric]) if log else None
        seg_file = run_dir / "segments.json"
        segments = json.loads(seg_file.read_text()) if seg_file.exists() else []
        runs.append(PausedRun(
            suite=suite, dataset=dataset, model=model, run_hash=run_hash,
            seed=train.get("seed"), stages=tuple(stages),
            last_stage=last_stage,
            epochs=len(log), metric=metric,
            best=best["valid"][metric] if best else None,
            best_epoch=best["epoch"] if best else None,
            segments=len(segments),
            train_hours=sum(s.get("train_seconds", 0.0) for s in segments) / 3600,
            devices=tuple(dict.fromkeys(s.get("device", "?") for s in segments)),
            paused_in=_inside(segments[-1].get("paused_in")) if segments else "",
        ))
    return runs
