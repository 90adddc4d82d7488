"""The model registry: name -> model class, config dataclass and per-model training defaults.

Variants (``sasrec-bce``, ``lares-nospt``) are registry entries that share a class and differ in
config overrides, so a table can hold them side by side under their own names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MODELS: dict[str, ModelSpec] = {}


@dataclass(frozen=True)
class ModelSpec:
    name: str
    cls: type
    config_cls: type
    model_overrides: dict[str, Any] = field(default_factory=dict)  # applied to config_cls()
    train_overrides: dict[str, Any] = field(default_factory=dict)  # applied to TrainConfig
    label: str = ""  # name used in tables, e.g. "GRU4Rec (CE)"

    def default_config(self) -> Any:
        return dataclasses.replace(self.config_cls(), **self.model_overrides)


def register(
    name: str,
    config_cls: type,
    *,
    label: str = "",
    train: dict[str, Any] | None = None,
    variants: dict[str, dict[str, Any]] | None = None,
):
    """Class decorator. ``variants`` maps a variant name to {"model": {...}, "train": {...},
    "label": str}."""

    def wrap(cls: type) -> type:
        for key in (name, *(variants or {})):
            if key in MODELS:
                raise ValueError(f"model {key!r} registered twice")
        MODELS[name] = ModelSpec(name, cls, config_cls, {}, dict(train or {}), label or name)
        for vname, v in (variants or {}).items():
            MODELS[vname] = ModelSpec(
                vname,
                cls,
                config_cls,
                dict(v.get("model", {})),
                {**(train or {}), **v.get("train", {})},
                v.get("label", vname),
            )
        cls.registry_name = name
        return cls

    return wrap


def get_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def build_model(name: str, n_items: int, config: Any | None = None):
    spec = get_spec(name)
    return spec.cls(config if config is not None else spec.default_config(), n_items)
