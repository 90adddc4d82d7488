"""The in-memory form of a prepared dataset: one chronological item sequence per user."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SequenceData:
    """Per-user chronological item sequences, stored flat (CSR style) for vectorised slicing.

    Item ids are 1..n_items (0 is reserved for padding); users are rows 0..n_users-1.
    """

    name: str
    items: np.ndarray  # int64 [n_interactions], all users' sequences concatenated
    offsets: np.ndarray  # int64 [n_users + 1], user u owns items[offsets[u]:offsets[u+1]]
    n_items: int

    def __post_init__(self) -> None:
        if self.offsets.ndim != 1 or self.offsets[0] != 0 or self.offsets[-1] != len(self.items):
            raise ValueError(f"{self.name}: offsets do not describe the item array")
        if len(self.items) and (self.items.min() < 1 or self.items.max() > self.n_items):
            raise ValueError(f"{self.name}: item ids must lie in 1..{self.n_items}")

    @classmethod
    def from_sequences(
        cls, name: str, sequences: Sequence[Sequence[int]], n_items: int | None = None
    ) -> SequenceData:
        lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        items = (
            np.concatenate([np.asarray(s, dtype=np.int64) for s in sequences])
            if len(sequences)
            else np.zeros(0, dtype=np.int64)
        )
        if n_items is None:
            n_items = int(items.max()) if len(items) else 0
        return cls(name=name, items=items, offsets=offsets, n_items=int(n_items))

    @property
    def n_users(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_interactions(self) -> int:
        return len(self.items)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def sequence(self, user: int) -> np.ndarray:
        return self.items[self.offsets[user] : self.offsets[user + 1]]

    def sequences(self) -> list[np.ndarray]:
        return [self.sequence(u) for u in range(self.n_users)]

    def fingerprint(self) -> str:
        """sha256 of the content (items, offsets, n_items): names runs, independent of file format."""
        h = hashlib.sha256()
        h.update(np.int64(self.n_items).tobytes())
        h.update(np.ascontiguousarray(self.offsets, dtype=np.int64).tobytes())
        h.update(np.ascontiguousarray(self.items, dtype=np.int64).tobytes())
        return h.hexdigest()

    def stats(self) -> dict[str, float | int]:
        lengths = self.lengths
        return {
            "users": self.n_users,
            "items": self.n_items,
            "interactions": self.n_interactions,
            "avg_len": round(float(lengths.mean()), 4) if len(lengths) else 0.0,
            "min_len": int(lengths.min()) if len(lengths) else 0,
            "max_len": int(lengths.max()) if len(lengths) else 0,
            "density": round(self.n_interactions / max(1, self.n_users * self.n_items), 6),
        }
