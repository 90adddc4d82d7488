"""From (dataset, model, seed, overrides) to a finished run record.

``build_run_config`` resolves defaults in this order: the model's config dataclass, the
registry variant's overrides, the dataset's max length, the suite's overrides, then the user's
``--set`` overrides. ``standard_executor`` trains any registered model with the generic loop;
a model class may define its own ``execute`` (LARES: SPT then RPT) with the same signature."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np

from baselines import build_model, get_spec
from lares_bench.config import ConfigError, RunConfig, TrainConfig, apply_overrides
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.evaluation import metrics_from_ranks
from lares_bench.resume import RunState
from lares_bench.runs import append_jsonl, save_ranks
from lares_bench.training import evaluate, seed_everything, train_model


def build_run_config(
    dataset: str,
    model: str,
    *,
    seed: int = 0,
    max_len: int | None = None,
    suite: str = "adhoc",
    overrides: dict[str, dict] | None = None,
    device: str = "auto",
) -> RunConfig:
    spec = get_spec(model)
    overrides = overrides or {}
    model_cfg = spec.default_config()
    if max_len is not None and any(f.name == "max_len" for f in dataclasses.fields(model_cfg)):
        model_cfg = dataclasses.replace(model_cfg, max_len=max_len)
    model_cfg = apply_overrides(model_cfg, overrides.get("model", {}), "model.")
    if max_len is not None and getattr(model_cfg, "max_len", max_len) != max_len:
        # the split's windows are cut at the dataset's max_len: a model with fewer positions
        # would index past its position table deep inside training
        raise ConfigError(
            f"model.max_len={model_cfg.max_len} differs from {dataset}'s max_len {max_len}, "
            "which the split uses; set max_len for the dataset in datasets/registry.toml instead"
        )
    train = apply_overrides(TrainConfig(), spec.train_overrides, "train.")
    train = apply_overrides(train, {"seed": seed, "device": device}, "train.")
    train = apply_overrides(train, overrides.get("train", {}), "train.")
    cfg = RunConfig(dataset=dataset, model=model, model_config=model_cfg, train=train, suite=suite)
    cfg.eval = apply_overrides(cfg.eval, overrides.get("eval", {}), "eval.")
    cfg.validate()
    return cfg


def finish_run(model, split: LeaveOneOutSplit, cfg: RunConfig, path: Path, outcome) -> dict:
    """Read the test set once at the selected checkpoint; store ranks; summarise timings."""
    t0 = time.perf_counter()
    test_ranks = evaluate(model, split, "test", cfg.eval, cfg.train.eval_batch_size, cfg.train.bf16)
    test_seconds = time.perf_counter() - t0
    save_ranks(path / "ranks.npy", test_ranks, split.n_items)
    save_ranks(path / "valid_ranks.npy", outcome.valid_ranks, split.n_items)
    train_epochs = [r.train_seconds for r in outcome.epochs if r.train_seconds > 0]
    return {
        "selected_epoch": outcome.best_epoch,
        "epochs_run": len(outcome.epochs),
        "stop_reason": outcome.stop_reason,
        "valid": outcome.best_valid,
        "test": metrics_from_ranks(test_ranks, cfg.eval.ks),
        "train_seconds": round(outcome.train_seconds, 3),
        "seconds_per_epoch": round(float(np.mean(train_epochs)), 4) if train_epochs else 0.0,
        "test_eval_seconds": round(test_seconds, 4),
        "n_params": model.n_parameters(),
        "n_users": split.n_users,
        "n_items": split.n_items,
    }


def build_seeded_model(cfg: RunConfig, split: LeaveOneOutSplit):
    """The run's model on the split's device, its initial weights drawn after seeding with the
    run seed: a run's result must not depend on what ran before it in the same process."""
    seed_everything(cfg.train.seed)
    return build_model(cfg.model, split.n_items, cfg.model_config).to(split.device)


def standard_executor(
    cfg: RunConfig, split: LeaveOneOutSplit, path: Path, progress: bool,
    state: RunState | None = None,
) -> dict:
    model = build_seeded_model(cfg, split)
    outcome = train_model(
        model, split, cfg.train, cfg.eval,
        on_epoch=lambda rec: append_jsonl(path / "epochs.jsonl", rec.to_dict()),
        progress=progress, description=f"{cfg.dataset}/{cfg.model}/seed{cfg.train.seed}",
        state=state.stage("train") if state is not None else None,
    )
    return finish_run(model, split, cfg, path, outcome)


def executor_for(model: str):
    cls = get_spec(model).cls
    return getattr(cls, "execute", None) or standard_executor
