"""The model contract every sequential recommender follows (design.md, "The model contract").

A model is built from ``(config, n_items)`` alone. It exposes
  encode(seq [B, L]) -> [B, L, d]          left-padded input, see layers.py
  item_embeddings() -> [n_items + 1, d]    row 0 = padding
  final_state(seq) -> [B, d]               the state that scores the next item
  scores(seq, users) -> [B, n_items + 1]   full-ranking scores, padding column -inf
  training_loss(batch) -> scalar tensor
``train_mode`` tells the trainer how to batch: "sequence" (one left-padded training sequence
per user with shifted targets at every position), "example" (one prefix -> next item per
training target) or "fit" (no gradient training: ``fit(split)`` once, e.g. popularity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from baselines.row_groups import grouped_rows, row_groups_on


@dataclass
class Batch:
    """One training batch. Sequence mode: inputs/targets [B, L]; example mode: inputs [B, L],
    targets [B]. ``users`` are split rows (for user-embedding models such as Caser)."""

    users: torch.Tensor
    inputs: torch.Tensor
    targets: torch.Tensor
    example_ids: torch.Tensor | None = None  # example mode: rows of split.train_example_ends()
    weight: torch.Tensor | float = 1.0  # the trainer scales the (mean) loss by it, see training.py


class SequentialModel(nn.Module):
    train_mode: ClassVar[str] = "sequence"
    registry_name: ClassVar[str] = ""
    # the final state of a row does not depend on its left padding (row_groups.py); such
    # models have a ``row_groups`` config field and call ``training_final_state``
    row_groupable: ClassVar[bool] = False

    def __init__(self, config, n_items: int):
        super().__init__()
        self.config = config
        self.n_items = n_items

    # --- to implement ---------------------------------------------------------------------
    def encode(self, seq: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def item_embeddings(self) -> torch.Tensor:
        raise NotImplementedError

    def training_loss(self, batch: Batch) -> torch.Tensor:
        raise NotImplementedError

    def graphed_training_loss(self, batch_size: int):
        """``training_loss`` replayed from CUDA graphs (``train.cuda_graphs``); only models that
        implement it accept the option."""
        raise ValueError(f"train.cuda_graphs: {self.registry_name} has no CUDA-graph training "
                         "step (only LARES's SPT stage does)")

    # --- shared ---------------------------------------------------------------------------
    def final_state(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        return self.encode(seq)[:, -1]

    def training_final_state(self, seq: torch.Tensor) -> torch.Tensor:
        """``final_state`` of training rows [B, L] -> [B, d], in length groups when the model
        is ``row_groupable`` and its ``row_groups`` setting is on for this device (the same
        function; evaluation is never grouped)."""
        if self.row_groupable and row_groups_on(self.config.row_groups, seq.device):
            return grouped_rows(self.final_state, seq)
        return self.final_state(seq)

    def scores(self, seq: torch.Tensor, users: torch.Tensor | None = None) -> torch.Tensor:
        h = self.final_state(seq, users)  # [B, d]
        s = h @ self.item_embeddings()[: self.n_items + 1].T  # [B, n_items + 1]
        s[:, 0] = float("-inf")
        return s

    def fit(self, split) -> None:  # for train_mode == "fit"
        raise NotImplementedError

    def prepare(self, split) -> None:
        """Called once by the trainer before the first epoch with the LeaveOneOutSplit, for
        models that need data-wide structures (a same-target index, item popularity)."""

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    def set_epoch(self, epoch: int) -> None:
        """Hook for schedules that depend on the epoch (augmentation warm-up, annealing)."""
