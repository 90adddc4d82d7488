"""The LARES run: SPT, then RPT (unless ``rpt`` is off), then the test set, once per depth.

``execute(cfg, split, path, progress) -> dict`` has the signature of
``lares_bench.experiment.standard_executor`` and is attached to the model class as
``LARES.execute``, so ``executor_for`` picks it up. It writes, in the run directory:
  epochs.jsonl        one line per epoch, tagged "stage": "spt" | "rpt"; RPT lines carry the
                      mean rollout reward; the "rpt" line with epoch 0 is the validation of the
                      SPT checkpoint RPT starts from;
  ranks.npy           test ranks at ``eval_depth`` (the selected model), valid_ranks.npy beside;
  ranks_depth_<k>.npy test ranks at each of ``test_depths``.
``test_by_depth[k]`` holds the metrics at depth k. All depths come from ONE recurrent pass of
the deepest (the state after step k is the k-step run's output), whose wall time is
"test_depths_seconds"; inference latency at the trained depth is "test_eval_seconds" (the
plain test pass of ``finish_run``). Records written before 0.3.0's one-pass scoring carry a
per-depth "seconds" (one pass per depth) instead: the ranks are identical.
The result dict is ``finish_run``'s plus
  "test_by_depth": {"<k>": metrics}, "test_depths_seconds", "spt": {...}, "rpt": {...} (or
  null when RPT is off).
Result fields with a two-stage meaning: "selected_epoch" is the SPT epoch (the RPT epoch is
``rpt.selected_epoch``, 0 = SPT checkpoint kept); "seconds_per_epoch" is SPT's; "train_seconds"
covers both stages and the filter; "valid" is the validation of the final weights.
A paused run (``lares_bench.resume``) keeps SPT's end once SPT has finished, so a run paused in
RPT restarts RPT's own training where it stopped; then "rpt.seconds" and the test timings are
the last segment's wall time, while "train_seconds" and the per-epoch figures cover all.
The executor imports ``lares_bench.experiment`` lazily (that module imports the model registry,
which imports this package).

A run with RPT also writes the finished record of its no-RPT twin (``write_no_rpt_twin``): the
same config with ``rpt = False``, under the name ``no_rpt_model`` gives it ("lares-norpt" for
"lares" and "lares-ce" for "lares-nospt" in the run suites; the same name in the ablation suite,
whose tables tell runs apart by ``model.rpt``; no twin for the other variants, whose tables key
on the model name alone).
Stopping after SPT is exactly what the twin's own run would do with the same seed (evaluation
draws its noise from the model's own generator, so the global RNG that RPT continues from is
untouched), so an SPT+RPT vs SPT-only comparison costs one SPT training instead of two. An
existing finished twin is never overwritten.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from lares_bench.evaluation import metrics_from_ranks, rank_part_many
from lares_bench.lares.rpt import run_rpt
from lares_bench.runs import append_jsonl, atomic_write_json, run_hash, save_ranks
from lares_bench.training import TrainOutcome, train_model

ABLATION_SUITE = "ablation"  # lares_bench.ablation.SUITE (not imported: it imports pandas)


def _mean_epoch_seconds(outcome: TrainOutcome) -> float:
    secs = [r.train_seconds for r in outcome.epochs if r.train_seconds > 0]
    return round(float(np.mean(secs)), 4) if secs else 0.0


NO_RPT_TWINS = {"lares": "lares-norpt", "lares-nospt": "lares-ce"}


def no_rpt_model(cfg) -> str | None:
    """The registry name under which the no-RPT twin of ``cfg`` is stored (None: no twin)."""
    if cfg.suite == ABLATION_SUITE:
        return cfg.model
    return NO_RPT_TWINS.get(cfg.model)


def no_rpt_twin_dir(cfg, path: Path):
    """(twin RunConfig, its run directory) for the run of ``cfg`` stored at ``path``."""
    fingerprint = json.loads((path / "config.json").read_text())["data_fingerprint"]
    twin = dataclasses.replace(
        cfg, model=no_rpt_model(cfg),
        model_config=dataclasses.replace(cfg.model_config, rpt=False),
    )
    return twin, fingerprint, path.parent.parent / twin.model / run_hash(twin, fingerprint)


def score_at_depths(model, split, cfg, path: Path) -> tuple[dict, float]:
    """Test metrics at each of ``test_depths`` (ranks_depth_<k>.npy), all from one recurrent
    pass of the deepest (``LARES.scores_at_depths``), and that pass's seconds."""
    depths = cfg.model_config.test_depths
    device_type = split.device.type
    was_training = model.training
    model.eval()  # also restarts the evaluation noise, as every evaluation pass does

    def score(users, inputs):
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.train.bf16):
            for k, scores in model.scores_at_depths(inputs, depths):
                yield k, scores.float()

    t0 = time.perf_counter()
    ranks = rank_part_many(score, split, "test", cfg.eval.history_mask, cfg.train.eval_batch_size)
    seconds = time.perf_counter() - t0
    model.train(was_training)
    by_depth = {}
    for k in sorted(ranks):
        save_ranks(path / f"ranks_depth_{k}.npy", ranks[k], split.n_items)
        by_depth[str(k)] = metrics_from_ranks(ranks[k], cfg.eval.ks)
    return by_depth, round(seconds, 4)


def finished_result(model, split, cfg, path: Path, outcome: TrainOutcome, summary: dict) -> dict:
    """The result of a LARES run whose model holds its selected weights: the test set at
    ``eval_depth`` (ranks.npy) and at every test depth, plus the stages' ``summary``."""
    from lares_bench.experiment import finish_run

    result = finish_run(model, split, cfg, path, outcome)
    result["seconds_per_epoch"] = summary["spt"]["seconds_per_epoch"]  # SPT's (see above)
    by_depth, seconds = score_at_depths(model, split, cfg, path)
    return {**result, "test_by_depth": by_depth, "test_depths_seconds": seconds, **summary}


def write_no_rpt_twin(
    model, split, cfg, path: Path, spt: TrainOutcome, spt_summary: dict, segments: list[dict]
) -> None:
    """Write the finished record of ``cfg`` with RPT off, from the SPT checkpoint in ``model``
    (files as ``runs.execute_run`` writes them; result.json last). ``segments``: the calls
    SPT was trained in, if it was paused (else empty)."""
    if no_rpt_model(cfg) is None:
        return
    twin, fingerprint, twin_path = no_rpt_twin_dir(cfg, path)
    if (twin_path / "result.json").exists():
        return
    twin_path.mkdir(parents=True, exist_ok=True)
    atomic_write_json(twin_path / "config.json", {**twin.to_dict(), "data_fingerprint": fingerprint})
    shutil.copyfile(path / "env.json", twin_path / "env.json")
    (twin_path / "epochs.jsonl").write_text("")
    for rec in spt.epochs:
        append_jsonl(twin_path / "epochs.jsonl", {"stage": "spt", **rec.to_dict()})
    result = finished_result(model, split, twin, twin_path, spt, {"spt": spt_summary, "rpt": None})
    result = {"run": twin_path.name, "config": twin.to_dict(), **result,
              "written_by": f"{cfg.model}/{path.name} (SPT stage)"}
    if segments:
        result["segments"] = segments
    atomic_write_json(twin_path / "result.json", result)


def execute(cfg, split, path: Path, progress: bool = False, state=None) -> dict:
    from lares_bench.experiment import build_seeded_model

    c = cfg.model_config
    model = build_seeded_model(cfg, split)
    model.eval_seed = cfg.train.seed
    log = path / "epochs.jsonl"
    name = f"{cfg.dataset}/{cfg.model}/seed{cfg.train.seed}"

    spt = train_model(
        model, split, cfg.train, cfg.eval,
        on_epoch=lambda rec: append_jsonl(log, {"stage": "spt", **rec.to_dict()}),
        progress=progress, description=f"{name} spt",
        state=state.stage("spt") if state is not None else None,
    )
    summary = {
        "spt": {
            "best_epoch": spt.best_epoch,
            "valid": spt.best_valid,
            "epochs_run": len(spt.epochs),
            "seconds_per_epoch": _mean_epoch_seconds(spt),
            "train_seconds": round(spt.train_seconds, 3),
            "stop_reason": spt.stop_reason,
        },
        "rpt": None,
    }
    final = spt
    if c.rpt:
        paused_before = state.segments() if state is not None else []
        segments = [*paused_before, state.this_segment()] if paused_before else []
        write_no_rpt_twin(model, split, cfg, path, spt, summary["spt"], segments)
        t0 = time.perf_counter()
        res = run_rpt(
            model, split, cfg, progress=progress, description=f"{name} rpt",
            state=state.stage("rpt") if state is not None else None,
            on_epoch=lambda rec, extra: append_jsonl(
                log, {"stage": "rpt", **rec.to_dict(), **extra}
            ),
        )
        rpt_seconds = time.perf_counter() - t0
        summary["rpt"] = {
            "examples": res.examples,
            "kept": res.kept,
            "filter_seconds": round(res.filter_seconds, 3),
            "selected_epoch": res.selected_epoch,
            "valid_before": res.valid_before,
            "valid_after": res.valid,
            "epochs_run": len(res.outcome.epochs),
            "seconds_per_epoch": _mean_epoch_seconds(res.outcome),
            "seconds": round(rpt_seconds, 3),
            "stop_reason": res.outcome.stop_reason,
        }
        final = TrainOutcome(
            best_epoch=spt.best_epoch,
            best_valid=res.valid,
            valid_ranks=res.valid_ranks,
            epochs=spt.epochs + res.outcome.epochs,
            train_seconds=spt.train_seconds + rpt_seconds,
            stop_reason=f"spt: {spt.stop_reason}; rpt: {res.outcome.stop_reason}",
        )

    return finished_result(model, split, cfg, path, final, summary)
