"""Named suites (data, not code paths) and the grid runner behind ``lares-bench run``."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from baselines import MODELS, get_spec
from lares_bench.config import ConfigError
from lares_bench.data.split import LeaveOneOutSplit
from lares_bench.experiment import build_run_config, executor_for
from lares_bench.resume import pause_deadline, refuse_start_after, state_root
from lares_bench.runs import RunRecord, execute_run, run_dir
from lares_bench.tables import write_suite_tables
from lares_bench.training import resolve_device


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    seeds: int = 3
    overrides: dict[str, dict] = field(default_factory=dict)  # {"train": {...}, "eval": {...}}
    per_model: dict[str, dict[str, dict]] = field(default_factory=dict)  # model -> overrides


BASELINE_MODELS = (
    "pop", "markov", "gru4rec", "caser", "sasrec", "sasrec-bce", "bert4rec", "cl4srec",
    "duorec", "fmlprec", "bsarec", "rearec-erl", "rearec-prl",
)
# lares writes lares-norpt and lares-nospt writes lares-ce (their no-RPT twins) on the way
LARES_MODELS = ("lares", "lares-norpt", "lares-nospt", "lares-ce")

SUITES: dict[str, Suite] = {
    "quick": Suite(
        "quick",
        "Seconds-scale smoke run on the built-in synthetic dataset (no download).",
        datasets=("synthetic",),
        models=("pop", "markov", "sasrec", "lares"),
        seeds=1,
        overrides={"train": {"epochs": "8", "patience": "3"}},
        # LARES is ~30x the compute of SASRec per example; a tiny one keeps CI in minutes
        per_model={
            "lares": {
                "model": {
                    "d": "16", "inner": "32", "n_pre": "1", "n_core": "1",
                    "mean_recurrence": "2", "test_depths": "1,2,4", "rpt_epochs": "2",
                    "rpt_filter_passes": "1",
                },
                # bucketed batches: a smoke run, where speed matters more than the random
                # batches that LARES's contrastive terms want (README, "Models")
                "train": {"epochs": "3", "length_bucketing": "true"},
            }
        },
    ),
    "anchor": Suite(
        "anchor",
        "SASRec as the S3Rec code trains and evaluates it (BCE with one negative, history "
        "scores set to 0, selection on validation NDCG@20): the protocol's published anchor.",
        datasets=("beauty",),
        models=("sasrec-bce",),
        seeds=3,
        overrides={
            "train": {"select_metric": "NDCG@20", "epochs": "200", "patience": "10"},
            "eval": {"history_mask": "zero"},
        },
    ),
    "main": Suite(
        "main",
        "The main table: every model on the five full-ranking benchmarks, 3 seeds.",
        datasets=("beauty", "sports", "toys", "yelp", "ml-1m"),
        models=BASELINE_MODELS + LARES_MODELS,
        seeds=3,
    ),
}


def get_suite(name: str) -> Suite:
    if name not in SUITES:
        raise KeyError(f"unknown suite {name!r}; known suites: {', '.join(SUITES)}")
    return SUITES[name]


def available(models: tuple[str, ...]) -> tuple[str, ...]:
    """The suite's models that are registered in this version (the rest are reported)."""
    return tuple(m for m in models if m in MODELS)


@dataclass
class GridRequest:
    suite: str
    datasets: tuple[str, ...]
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    results_root: Path
    data_dir: Path | None
    cache_dir: Path | None
    device: str = "auto"
    overrides: dict[str, dict] = field(default_factory=dict)  # the suite's, for every model
    per_model: dict[str, dict[str, dict]] = field(default_factory=dict)  # the suite's, by model
    user: dict[str, dict] = field(default_factory=dict)  # --set / options; win over the suite's
    progress: bool = True
    force: bool = False
    pause_after: float = 0.0  # seconds; runs still training then pause (0 = never)
    state_dir: Path | None = None  # paused runs' states (default: <results_root>/.resume)


def load_split(name: str, data_dir: Path | None, cache_dir: Path | None, device: torch.device):
    """Load a dataset by registry name and move its leave-one-out split to ``device``."""
    from lares_bench.data.load import load_dataset
    from lares_bench.data.registry import dataset_max_len

    data = load_dataset(name, data_dir, cache_dir)
    return data, LeaveOneOutSplit.from_data(data, dataset_max_len(name), device)


def overrides_for(model: str, req: GridRequest) -> dict[str, dict]:
    """One model's overrides: the suite's, its per-model ones, then the user's. Shared
    ``model.`` keys apply to the models whose config has them (``--set model.d=32`` sizes
    every model that has a ``d``)."""
    fields = {f.name for f in dataclasses.fields(get_spec(model).config_cls)}

    def shared(layer: dict[str, dict]) -> dict[str, dict]:
        return {**layer, "model": {k: v for k, v in layer.get("model", {}).items() if k in fields}}

    return merge_overrides(shared(req.overrides), req.per_model.get(model, {}), shared(req.user))


def check_model_keys(req: GridRequest) -> None:
    """Every shared ``model.`` override must belong to at least one model of the grid."""
    known = set()
    for model in req.models:
        known |= {f.name for f in dataclasses.fields(get_spec(model).config_cls)}
    asked = set(req.overrides.get("model", {})) | set(req.user.get("model", {}))
    unknown = sorted(asked - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) model.{', model.'.join(unknown)} for models {', '.join(req.models)}"
        )


def check_datasets(names: tuple[str, ...]) -> None:
    from lares_bench.data.registry import dataset_max_len

    for name in names:
        dataset_max_len(name)  # raises UnknownDatasetError naming the known datasets


def run_grid(req: GridRequest, on_run: Callable[[RunRecord], None] | None = None) -> list[RunRecord]:
    """Every (dataset, model, seed) of the request; finished runs are skipped; then tables."""
    check_model_keys(req)
    check_datasets(req.datasets)  # every name is known before anything trains
    device = resolve_device(req.device)
    pause_at = pause_deadline(req.pause_after)
    records: list[RunRecord] = []
    for dataset in req.datasets:
        data, split = load_split(dataset, req.data_dir, req.cache_dir, device)
        fingerprint = data.fingerprint()
        for model in req.models:
            for seed in req.seeds:
                cfg = build_run_config(
                    dataset, model, seed=seed, max_len=split.max_len, suite=req.suite,
                    overrides=overrides_for(model, req), device=req.device,
                )
                refuse_start_after(pause_at, run_dir(req.results_root, cfg, fingerprint), req.force)
                rec = execute_run(
                    cfg, split, fingerprint, req.results_root, executor_for(model),
                    progress=req.progress, force=req.force, state_root=state_root(req.results_root, req.state_dir),
                    pause_at=pause_at,
                )
                records.append(rec)
                if on_run:
                    on_run(rec)
    write_suite_tables(req.results_root, req.suite)
    return records


def merge_overrides(*layers: dict[str, dict]) -> dict[str, dict]:
    out: dict[str, dict] = {"train": {}, "model": {}, "eval": {}}
    for layer in layers:
        for section, values in layer.items():
            out.setdefault(section, {}).update(values)
    return out
