"""From an interactions table to chronological per-user sequences (S3Rec's recipe).

Steps, in the order S3Rec's data_process applies them:
1. optional rating threshold;
2. optional de-duplication of (user, item), keeping the first row in input order (LastFM);
3. user order fixed = order of first appearance in the (filtered) input;
4. iterative k-core on users and items until nothing changes;
5. per-user stable sort by timestamp, so ties keep their input order;
6. item ids 1..n in order of first appearance scanning users in order, each chronologically.
Users that k-core removes keep the relative order of the others, as with a Python dict.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lares_bench.data.dataset import SequenceData
from lares_bench.data.errors import DataFormatError, EmptyDatasetError


@dataclass(frozen=True)
class Recipe:
    """How raw interactions become a benchmark dataset."""

    user_core: int = 0  # drop users with fewer interactions (iteratively, with item_core)
    item_core: int = 0  # drop items with fewer interactions
    min_rating: float | None = None  # keep rows with rating >= this; None keeps all
    dedup: bool = False  # keep each (user, item) once: its first row in input order


@dataclass(frozen=True)
class Prepared:
    """A prepared dataset plus the raw ids behind its users and items."""

    data: SequenceData
    user_ids: np.ndarray  # [n_users] raw id of user row u
    item_ids: np.ndarray  # [n_items] raw id of item id k at index k - 1


def k_core_mask(users: np.ndarray, items: np.ndarray, user_core: int, item_core: int) -> np.ndarray:
    """Rows kept by the iterative (user_core, item_core)-core; users/items are int codes.

    Removing every row of an under-count user or item can push other counts below the
    threshold, so repeat until a pass removes nothing. The fixpoint (the largest subgraph
    meeting both thresholds) does not depend on removal order, so this equals S3Rec's loop.
    """
    alive = np.arange(len(users))
    n_users = int(users.max()) + 1 if len(users) else 0
    n_items = int(items.max()) + 1 if len(items) else 0
    while len(alive):
        u, i = users[alive], items[alive]
        ok = np.ones(len(alive), dtype=bool)
        if user_core > 1:
            ok &= np.bincount(u, minlength=n_users)[u] >= user_core
        if item_core > 1:
            ok &= np.bincount(i, minlength=n_items)[i] >= item_core
        if ok.all():
            break
        alive = alive[ok]
    mask = np.zeros(len(users), dtype=bool)
    mask[alive] = True
    return mask


def _check_columns(frame: pd.DataFrame, name: str, recipe: Recipe) -> None:
    need = ["user", "item", "timestamp"] + (["rating"] if recipe.min_rating is not None else [])
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise DataFormatError(f"{name}: interactions lack column(s) {', '.join(missing)}")


def prepare_with_ids(frame: pd.DataFrame, name: str, recipe: Recipe | None = None) -> Prepared:
    """Apply the recipe to an interactions table (columns user, item, timestamp[, rating])."""
    recipe = recipe or Recipe()
    _check_columns(frame, name, recipe)
    keep = np.ones(len(frame), dtype=bool)
    if recipe.min_rating is not None:
        keep &= frame["rating"].to_numpy(dtype=np.float64) >= recipe.min_rating
    user_raw = frame["user"].to_numpy()[keep]
    item_raw = frame["item"].to_numpy()[keep]
    stamps = frame["timestamp"].to_numpy()[keep]
    # Codes in order of first appearance: the user codes are the final user order.
    users, user_uniques = pd.factorize(user_raw, sort=False)
    items, item_uniques = pd.factorize(item_raw, sort=False)
    if (users < 0).any() or (items < 0).any():  # factorize codes missing values as -1
        raise DataFormatError(f"{name}: interactions with a missing user or item id")
    if recipe.dedup and len(users):
        pair = users.astype(np.int64) * (int(items.max()) + 1) + items
        first = ~pd.Series(pair).duplicated(keep="first").to_numpy()
        users, items, stamps = users[first], items[first], stamps[first]
    core = k_core_mask(users, items, recipe.user_core, recipe.item_core)
    users, items, stamps = users[core], items[core], stamps[core]
    if len(users) == 0:
        raise EmptyDatasetError(f"{name}: no interactions left after filtering ({recipe})")
    order = np.lexsort((stamps, users))  # lexsort is stable: timestamp ties keep input order
    users, items = users[order], items[order]
    new_items, item_codes = pd.factorize(items, sort=False)
    counts = np.bincount(users)
    present = np.flatnonzero(counts)
    offsets = np.concatenate(([0], np.cumsum(counts[present]))).astype(np.int64)
    data = SequenceData(
        name=name,
        items=(new_items + 1).astype(np.int64),
        offsets=offsets,
        n_items=len(item_codes),
    )
    return Prepared(
        data=data,
        user_ids=np.asarray(user_uniques)[present],
        item_ids=np.asarray(item_uniques)[item_codes],
    )


def prepare_interactions(
    frame: pd.DataFrame, name: str, recipe: Recipe | None = None
) -> SequenceData:
    """Interactions -> SequenceData (see the module docstring for the steps)."""
    return prepare_with_ids(frame, name, recipe).data


def drop_short_users(data: SequenceData, min_len: int = 3) -> tuple[SequenceData, int]:
    """Remove users with fewer than min_len items; returns (data, number dropped).

    Leave-one-out needs a training item, a validation target and a test target. Item ids are
    kept as they are (an item seen only by dropped users stays in the catalogue), so ids stay
    aligned with the file and any side information keyed by them.
    """
    lengths = data.lengths
    keep = lengths >= min_len
    dropped = int((~keep).sum())
    if dropped == 0:
        return data, 0
    if dropped == data.n_users:
        raise EmptyDatasetError(
            f"{data.name}: all {data.n_users} users have fewer than {min_len} interactions, "
            "too few for a leave-one-out split"
        )
    items = data.items[np.repeat(keep, lengths)]
    offsets = np.concatenate(([0], np.cumsum(lengths[keep]))).astype(np.int64)
    return SequenceData(name=data.name, items=items, offsets=offsets, n_items=data.n_items), dropped
