"""Leave-one-out split as device tensors (protocol.md, "Split").

For a user with chronological items s[0..n-1]:
  test:  input s[:n-1] -> target s[n-1]
  valid: input s[:n-2] -> target s[n-2]
  train: the prefix s[:n-2]; every position t >= 1 of it is a next-item target with input s[:t].
Inputs are the last ``max_len`` items of the prefix, left-padded with 0.

Everything lives in one flat item tensor plus per-user offsets so that a batch of windows is a
single gather; no per-user Python runs while training or evaluating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lares_bench.data.dataset import SequenceData


@dataclass
class LeaveOneOutSplit:
    """Flat tensors for one dataset on one device."""

    name: str
    n_items: int
    max_len: int
    items: torch.Tensor  # int64 [n_interactions], flat chronological items
    starts: torch.Tensor  # int64 [n_users], first index of each user in ``items``
    ends: torch.Tensor  # int64 [n_users], one past the last index

    @classmethod
    def from_data(cls, data: SequenceData, max_len: int, device: torch.device | str = "cpu"):
        lengths = data.lengths
        if len(lengths) == 0:
            raise ValueError(f"{data.name}: no users")
        if lengths.min() < 3:
            raise ValueError(
                f"{data.name}: {int((lengths < 3).sum())} users have fewer than 3 interactions; "
                "leave-one-out needs 3 (drop them when loading)"
            )
        dev = torch.device(device)
        return cls(
            name=data.name,
            n_items=data.n_items,
            max_len=max_len,
            items=torch.as_tensor(data.items, dtype=torch.long, device=dev),
            starts=torch.as_tensor(data.offsets[:-1], dtype=torch.long, device=dev),
            ends=torch.as_tensor(data.offsets[1:], dtype=torch.long, device=dev),
        )

    @property
    def n_users(self) -> int:
        return len(self.starts)

    @property
    def device(self) -> torch.device:
        return self.items.device

    # --- the three parts -------------------------------------------------------------------
    def train_end(self) -> torch.Tensor:
        """One past the last training item of each user (the training prefix is s[:n-2])."""
        return self.ends - 2

    def input_end(self, part: str) -> torch.Tensor:
        """One past the last input item for ``part`` in {"train", "valid", "test"}.

        For "train" this is the input of the user's training sequence (s[:n-3]), whose shifted
        targets are s[1:n-2]."""
        offset = {"train": 3, "valid": 2, "test": 1}[part]
        return self.ends - offset

    def targets(self, part: str, users: torch.Tensor | None = None) -> torch.Tensor:
        """Target item of ``part`` in {"valid", "test"} per user."""
        ends = self.ends if users is None else self.ends[users]
        offset = {"valid": 2, "test": 1}[part]
        return self.items[ends - offset]

    def windows(
        self, users: torch.Tensor, end: torch.Tensor, length: int | None = None
    ) -> torch.Tensor:
        """Left-padded windows of the items before ``end`` (exclusive) for each user.

        users: [B] user rows; end: [B] absolute end indices into ``items``. Returns [B, L] with
        L = ``length`` or the longest window in the batch (capped at max_len)."""
        start = self.starts[users]
        avail = (end - start).clamp(min=0)
        cap = self.max_len if length is None else length
        if length is None:
            cap = int(min(self.max_len, int(avail.max()) if len(avail) else 1))
            cap = max(cap, 1)
        pos = end.unsqueeze(1) - cap + torch.arange(cap, device=end.device)  # [B, L]
        valid = pos >= (end - avail.clamp(max=cap)).unsqueeze(1)
        gathered = self.items[pos.clamp(min=0)]
        return torch.where(valid, gathered, torch.zeros_like(gathered))

    def part_inputs(self, part: str, users: torch.Tensor, length: int | None = None):
        """(input windows [B, L], targets [B]) for ``part`` in {"valid", "test"}."""
        end = self.input_end(part)[users]
        return self.windows(users, end, length), self.targets(part, users)

    def train_sequences(self, users: torch.Tensor, length: int | None = None):
        """SASRec-style training pairs: inputs s[:n-3] and shifted targets s[1:n-2], both the
        last ``max_len`` positions, left-padded (targets 0 where the input is padding)."""
        end = self.input_end("train")[users]
        inputs = self.windows(users, end, length)
        targets = self.windows(users, end + 1, inputs.shape[1])
        targets = torch.where(inputs > 0, targets, torch.zeros_like(targets))
        return inputs, targets

    def train_lengths(self) -> torch.Tensor:
        """Number of training targets of each user (the training input length, capped)."""
        return (self.input_end("train") - self.starts).clamp(min=0, max=self.max_len)

    def history_items(self, part: str, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """All items the user interacted with before ``part``'s target (not only the window):
        returns (row index, item id) pairs for a scatter into a [B, n_items+1] mask."""
        start = self.starts[users]
        end = self.input_end(part)[users]
        counts = end - start
        rows = torch.repeat_interleave(torch.arange(len(users), device=users.device), counts)
        # position of each entry inside its row, then absolute index into ``items``
        first = torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts)
        within = torch.arange(int(counts.sum()), device=users.device) - first
        idx = torch.repeat_interleave(start, counts) + within
        return rows, self.items[idx]

    # --- training examples (one per target) -------------------------------------------------
    def train_example_ends(self) -> torch.Tensor:
        """Absolute index of every training target (positions 1..n-3 of each user's sequence):
        input = items[start:idx] (last max_len), target = items[idx]."""
        first = self.starts + 1
        counts = (self.train_end() - first).clamp(min=0)
        base = torch.repeat_interleave(first, counts)
        offs = torch.arange(int(counts.sum()), device=self.device) - torch.repeat_interleave(
            torch.cumsum(counts, 0) - counts, counts
        )
        return base + offs

    def example_users(self, example_ends: torch.Tensor) -> torch.Tensor:
        """User row of each training example (by binary search over the offsets)."""
        return torch.searchsorted(self.starts, example_ends, right=True) - 1


def lengths_numpy(split: LeaveOneOutSplit) -> np.ndarray:
    return (split.ends - split.starts).cpu().numpy()
