"""Typed run configuration and ``key=value`` overrides.

A run is fully described by a ``RunConfig``: dataset, model name, the model's own config
dataclass, training and evaluation settings. Overrides like ``train.lr=5e-4`` or
``model.n_layers=3`` are parsed against the dataclass field types; an unknown key or a value
of the wrong type is an error that names the key."""

from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any

from lares_bench.evaluation import DEFAULT_KS, HISTORY_MASKS


class ConfigError(ValueError):
    pass


@dataclass
class TrainConfig:
    epochs: int = 200  # upper bound; early stopping usually ends sooner
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 10  # epochs without improvement of select_metric on validation
    # no early stop before this many optimizer steps: on ml-100k an epoch of a per-user model is
    # 4 steps, and patience 10 then ends GRU4Rec on a loss plateau (results/investigations/)
    min_steps: int = 0
    select_metric: str = "NDCG@10"  # validation metric for early stopping / model selection
    eval_every: int = 1
    eval_batch_size: int = 1024
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    bf16: bool = False  # autocast to bfloat16 (measure first: d=64 models can get slower)
    compile: bool = False  # torch.compile the training loss
    # CUDA only: TF32 tensor cores for float32 matrix products (PyTorch's default is off; the
    # reference implementations never turn it on). Measure first, as for bf16.
    tf32: bool = False
    length_bucketing: bool = True  # batch users of similar length together (see training.py)
    max_train_seconds: float = 0.0  # stop after this many seconds of training (0 = no limit)
    # 0: an epoch is every training row. N > 0: an epoch is the first N batches of a fresh
    # shuffle, so validation, early stopping and max_train_seconds act every N batches
    # (reduced-scale CPU runs, where one LARES epoch on beauty takes about an hour)
    epoch_batches: int = 0
    # CUDA only, experimental (LARES SPT): replay each training step from a CUDA graph instead of
    # launching its operators one by one (lares_bench/lares/graphs.py); not with bf16
    cuda_graphs: bool = False


@dataclass
class EvalConfig:
    history_mask: str = "inf"  # inf | none | zero (see evaluation.py)
    ks: tuple[int, ...] = DEFAULT_KS


@dataclass
class RunConfig:
    dataset: str
    model: str
    model_config: Any  # the model's config dataclass
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    suite: str = "adhoc"

    def to_dict(self) -> dict:
        return {
            "suite": self.suite,
            "dataset": self.dataset,
            "model": self.model,
            "model_config": dataclasses.asdict(self.model_config),
            "train": dataclasses.asdict(self.train),
            "eval": dataclasses.asdict(self.eval),
        }

    def validate(self) -> None:
        if self.eval.history_mask not in HISTORY_MASKS:
            raise ConfigError(f"eval.history_mask must be one of {HISTORY_MASKS}")
        metric = self.train.select_metric
        allowed = {f"{m}@{k}" for m in ("HR", "NDCG") for k in self.eval.ks} | {"MRR"}
        if metric not in allowed:
            raise ConfigError(f"train.select_metric {metric!r} not in {sorted(allowed)}")
        for name in ("epochs", "batch_size", "patience", "eval_every", "eval_batch_size"):
            if getattr(self.train, name) < 1:
                raise ConfigError(f"train.{name} must be >= 1")
        if self.train.epoch_batches < 0:
            raise ConfigError("train.epoch_batches must be >= 0 (0 = all batches)")
        if self.train.cuda_graphs and self.train.bf16:
            raise ConfigError("train.cuda_graphs cannot be combined with train.bf16 (CUDA graphs "
                              "need autocast without its weight cache)")
        if self.train.lr <= 0:
            raise ConfigError("train.lr must be > 0")


def _convert(key: str, raw: str, typ: Any) -> Any:
    """Parse ``raw`` as ``typ`` (bool, int, float, str, tuple[int, ...], Optional)."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin is typing.Union or (origin is not None and type(None) in args):
        if raw.lower() in ("none", "null"):
            return None
        typ = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(typ), typing.get_args(typ)
    try:
        if typ is bool:
            low = raw.lower()
            if low in ("1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if typ is int:
            return int(raw)
        if typ is float:
            return float(raw)
        if origin in (tuple, list):
            inner = args[0] if args else str
            parts = [p for p in raw.replace("[", "").replace("]", "").split(",") if p.strip()]
            vals = [_convert(key, p.strip(), inner) for p in parts]
            return tuple(vals) if origin is tuple else vals
        return raw
    except ValueError:
        name = getattr(typ, "__name__", str(typ))
        raise ConfigError(f"{key}: cannot parse {raw!r} as {name}") from None


def _field_types(obj: Any) -> dict[str, Any]:
    hints = typing.get_type_hints(type(obj))
    return {f.name: hints[f.name] for f in dataclasses.fields(obj)}


def apply_overrides(obj: Any, overrides: dict[str, Any], prefix: str = "") -> Any:
    """Return a copy of dataclass ``obj`` with ``overrides`` (field -> str or value) applied."""
    types = _field_types(obj)
    changes = {}
    for key, value in overrides.items():
        if key not in types:
            raise ConfigError(
                f"unknown key {prefix}{key!r}; valid keys: {', '.join(prefix + k for k in types)}"
            )
        changes[key] = _convert(prefix + key, value, types[key]) if isinstance(value, str) else value
    return dataclasses.replace(obj, **changes)


def parse_set_options(items: list[str]) -> dict[str, dict[str, str]]:
    """``["train.lr=1e-3", "model.d=32"]`` -> {"train": {"lr": "1e-3"}, "model": {"d": "32"}}."""
    out: dict[str, dict[str, str]] = {"train": {}, "model": {}, "eval": {}}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected SECTION.KEY=VALUE")
        key, value = item.split("=", 1)
        if "." not in key:
            raise ConfigError(f"--set {item!r}: key must start with train., model. or eval.")
        section, name = key.split(".", 1)
        if section not in out:
            raise ConfigError(f"--set {item!r}: unknown section {section!r} (train, model, eval)")
        out[section][name] = value
    return out


def config_from_dict(d: dict, model_config_cls: type) -> RunConfig:
    """Rebuild a RunConfig from ``to_dict`` output (run records)."""
    ev = dict(d["eval"])
    ev["ks"] = tuple(ev["ks"])
    return RunConfig(
        dataset=d["dataset"],
        model=d["model"],
        model_config=model_config_cls(**d["model_config"]),
        train=TrainConfig(**d["train"]),
        eval=EvalConfig(**ev),
        suite=d.get("suite", "adhoc"),
    )


def canonical_json(d: dict) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), default=str)
