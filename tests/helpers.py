"""Small random datasets for tests (no files, seconds to train)."""

from __future__ import annotations

import numpy as np

from lares_bench.data.dataset import SequenceData


def random_data(n_users=40, n_items=30, min_len=3, max_len=12, seed=0, unique=False):
    """Random sequences; with ``unique`` every interaction gets its own item id, so an item
    identifies its (user, position) — handy for leak tests."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_len, max_len + 1, n_users)
    if unique:
        ids = np.arange(1, lengths.sum() + 1)
        seqs = np.split(ids, np.cumsum(lengths)[:-1])
        return SequenceData.from_sequences("unique", seqs, int(lengths.sum()))
    seqs = [rng.integers(1, n_items + 1, n) for n in lengths]
    return SequenceData.from_sequences("random", seqs, n_items)


def patterned_data(n_users=200, n_items=40, length=12, seed=0):
    """Each user walks a fixed cycle with a random start: next item = (item + step) mod n,
    step per user in {1, 2}; learnable by any sequential model."""
    rng = np.random.default_rng(seed)
    seqs = []
    for _ in range(n_users):
        start, step = rng.integers(0, n_items), rng.integers(1, 3)
        seqs.append((start + step * np.arange(length)) % n_items + 1)
    return SequenceData.from_sequences("patterned", seqs, n_items)
