"""Most-popular baseline: every user gets the same ranking, by training frequency.

The score of an item is the number of times it occurs in the users' training prefixes
s[:n-2] (protocol.md, "Split"): validation and test targets are never counted. No parameters,
no gradient training (train_mode "fit"); ``fit`` is one bincount on the device.

Deviations: none to speak of; items with equal counts tie and are ranked pessimistically by the
evaluation (no arbitrary tie-breaking by id).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from baselines.base import SequentialModel
from baselines.registry import register


@dataclass
class PopConfig:
    pass  # nothing to configure


def training_item_counts(split) -> torch.Tensor:
    """Occurrences of each item in the training prefixes s[:n-2]. [n_items + 1] float, 0 = pad.

    ``history_items("valid", ...)`` lists exactly the items before the validation target, i.e.
    the training prefix of every user (vectorised, no per-user loop)."""
    users = torch.arange(split.n_users, device=split.device)
    _, items = split.history_items("valid", users)
    return torch.bincount(items, minlength=split.n_items + 1).float()


@register("pop", PopConfig, label="Pop")
class Popularity(SequentialModel):
    train_mode = "fit"

    def __init__(self, config: PopConfig, n_items: int):
        super().__init__(config, n_items)
        self.register_buffer("counts", torch.zeros(n_items + 1))

    @torch.no_grad()
    def fit(self, split) -> None:
        self.counts = training_item_counts(split).to(self.counts.device)

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        s = self.counts.unsqueeze(0).repeat(len(seq), 1)  # [B, n_items + 1]
        s[:, 0] = float("-inf")
        return s
