"""Preparation: rating filter, iterative k-core, chronological order, id remap, short users."""

from __future__ import annotations

import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from lares_bench.data.dataset import SequenceData
from lares_bench.data.errors import DataFormatError, EmptyDatasetError
from lares_bench.data.prepare import (
    Recipe,
    drop_short_users,
    k_core_mask,
    prepare_interactions,
    prepare_with_ids,
)


def frame(rows: list[tuple]) -> pd.DataFrame:
    columns = ["user", "item", "timestamp", "rating"][: len(rows[0])]
    return pd.DataFrame(rows, columns=columns)


def raw_sequences(prepared) -> list[list]:
    """Sequences of raw item ids, keyed back through the id maps."""
    return [[prepared.item_ids[i - 1] for i in s] for s in prepared.data.sequences()]


def reference_k_core(rows: list[tuple], user_core: int, item_core: int) -> set[tuple]:
    """Plain-Python iterative k-core: drop one offending user or item at a time."""
    alive = set(rows)
    while True:
        users = Counter(r[0] for r in alive)
        items = Counter(r[1] for r in alive)
        bad = {r for r in alive if users[r[0]] < user_core or items[r[1]] < item_core}
        if not bad:
            return alive
        alive.discard(next(iter(sorted(bad))))


def test_k_core_needs_several_passes():
    # One pass removes u5 and c; that drops u3 and e below 2; then u4 and d go too.
    rows = [
        ("u1", "a", 1), ("u1", "b", 2), ("u2", "a", 1), ("u2", "b", 2),
        ("u3", "c", 1), ("u3", "d", 2), ("u4", "d", 1), ("u4", "e", 2), ("u5", "e", 1),
    ]  # fmt: skip
    users, _ = pd.factorize(pd.Series([r[0] for r in rows]))
    items, _ = pd.factorize(pd.Series([r[1] for r in rows]))
    one_pass = (np.bincount(users)[users] >= 2) & (np.bincount(items)[items] >= 2)
    assert one_pass.sum() == 7  # a single pass keeps u3-d, u4-d, u4-e: not yet a 2-core
    prepared = prepare_with_ids(frame(rows), "k", Recipe(user_core=2, item_core=2))
    assert prepared.user_ids.tolist() == ["u1", "u2"]
    assert raw_sequences(prepared) == [["a", "b"], ["a", "b"]]


@pytest.mark.parametrize("seed", range(5))
def test_k_core_matches_reference_on_random_data(seed):
    rng = np.random.default_rng(seed)
    rows = sorted({(int(u), int(i), 0) for u, i in rng.integers(0, 30, size=(300, 2))})
    users = np.array([r[0] for r in rows])
    items = np.array([r[1] for r in rows])
    for cores in ((3, 3), (5, 2), (2, 6)):
        kept = {r for r, k in zip(rows, k_core_mask(users, items, *cores), strict=True) if k}
        assert kept == reference_k_core(rows, *cores)


def test_k_core_is_fast_on_a_million_rows():
    rng = np.random.default_rng(0)
    n = 1_000_000
    users = rng.integers(0, 60_000, n)
    items = (rng.zipf(1.3, n) % 50_000).astype(np.int64)
    start = time.perf_counter()
    keep = k_core_mask(users, items, 5, 5)
    assert time.perf_counter() - start < 3.0
    assert np.bincount(users[keep])[np.unique(users[keep])].min() >= 5
    assert np.bincount(items[keep])[np.unique(items[keep])].min() >= 5


def test_remap_first_appearance_users_then_chronological_items():
    rows = [
        ("bob", "x", 30), ("amy", "y", 5), ("bob", "z", 10), ("amy", "x", 1), ("bob", "y", 20),
    ]  # fmt: skip
    prepared = prepare_with_ids(frame(rows), "r")
    # users in order of first appearance: bob, amy; bob's items by time: z, y, x
    assert prepared.user_ids.tolist() == ["bob", "amy"]
    assert prepared.item_ids.tolist() == ["z", "y", "x"]
    assert [s.tolist() for s in prepared.data.sequences()] == [[1, 2, 3], [3, 2]]
    assert prepared.data.n_items == 3


def test_timestamp_sort_is_stable():
    rows = [("u", item, t) for item, t in zip("abcdefgh", [5, 1, 5, 1, 5, 0, 5, 1], strict=True)]
    prepared = prepare_with_ids(frame(rows), "s")
    assert raw_sequences(prepared) == [list("fbdhaceg")]


def test_rating_threshold_and_missing_rating_column():
    rows = [("u", "a", 1, 5.0), ("u", "b", 2, 2.0), ("u", "c", 3, 4.0)]
    prepared = prepare_with_ids(frame(rows), "t", Recipe(min_rating=4.0))
    assert raw_sequences(prepared) == [["a", "c"]]
    with pytest.raises(DataFormatError, match="lack column"):
        prepare_interactions(frame([("u", "a", 1)]), "t", Recipe(min_rating=4.0))


def test_dedup_keeps_first_row_in_input_order():
    # LastFM style: the first tagging in file order survives, then sequences sort by time
    rows = [("u", "a", 9), ("u", "b", 5), ("u", "a", 1), ("u", "c", 7)]
    prepared = prepare_with_ids(frame(rows), "d", Recipe(dedup=True))
    assert raw_sequences(prepared) == [["b", "c", "a"]]


def test_missing_ids_are_an_error():
    with pytest.raises(DataFormatError, match="m: interactions with a missing user or item id"):
        prepare_interactions(frame([("u", "a", 1), ("u", None, 2)]), "m")


def test_everything_filtered_is_an_error():
    with pytest.raises(EmptyDatasetError, match="tiny: no interactions left"):
        prepare_interactions(frame([("u", "a", 1)]), "tiny", Recipe(user_core=5, item_core=5))


def test_drop_short_users_counts_and_keeps_item_ids():
    data = SequenceData.from_sequences("d", [[1, 2, 3], [4, 5], [2, 3, 1, 5], [6]], n_items=6)
    kept, dropped = drop_short_users(data, min_len=3)
    assert dropped == 2
    assert [s.tolist() for s in kept.sequences()] == [[1, 2, 3], [2, 3, 1, 5]]
    assert kept.n_items == 6  # items 4 and 6 stay in the catalogue
    same, none = drop_short_users(kept)
    assert none == 0 and same is kept


def test_drop_short_users_all_dropped_names_the_dataset():
    data = SequenceData.from_sequences("tiny", [[1, 2], [3]], n_items=3)
    with pytest.raises(EmptyDatasetError, match="tiny: all 2 users have fewer than 3"):
        drop_short_users(data)
