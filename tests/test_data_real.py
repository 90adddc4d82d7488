"""Real benchmark files (skipped unless LARES_BENCH_DATA points at them)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lares_bench.data.cli import data_app
from lares_bench.data.errors import ChecksumMismatchError, DatasetNotFoundError
from lares_bench.data.load import load_dataset
from lares_bench.data.prepare import Recipe, prepare_with_ids
from lares_bench.data.readers import read_seq_flat
from lares_bench.data.registry import load_registry

pytestmark = pytest.mark.realdata

# protocol.md, "Datasets"
PROTOCOL_STATS = {
    "beauty": (22363, 12101, 198502),
    "sports": (35598, 18357, 296337),
    "toys": (19412, 11924, 167597),
    "yelp": (30431, 20033, 316354),
    "lastfm": (1090, 3646, 52551),
    "ml-1m": (6040, 3416, 999611),
    "ml-100k": (943, 1682, 100000),
}


def snapshot(folder: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in folder.rglob("*")}


@pytest.mark.parametrize("name", ["beauty", "lastfm", "ml-100k"])
def test_load_matches_protocol_and_is_fast(name, data_dir, tmp_path):
    start = time.perf_counter()
    data = load_dataset(name, data_dir, tmp_path / "cache")
    first = time.perf_counter() - start
    assert (data.n_users, data.n_items, data.n_interactions) == PROTOCOL_STATS[name]
    assert data.items.min() == 1 and data.items.max() == data.n_items
    assert np.all(data.lengths >= 5)
    start = time.perf_counter()
    again = load_dataset(name, data_dir, tmp_path / "cache")
    cached = time.perf_counter() - start
    assert again.fingerprint() == data.fingerprint()
    assert first < 3.0, f"{name}: first load took {first:.2f} s"
    assert cached < 0.5, f"{name}: cached load took {cached:.2f} s"


def test_every_registered_file_present_has_the_registry_sha256_and_stats(data_dir):
    """Loads the larger files too (sports, yelp, ml-1m): the sha256 check runs on each."""
    checked = []
    for name, entry in load_registry().items():
        if not (data_dir / entry.file).is_file():
            continue
        data = load_dataset(name, data_dir, None)
        expected = entry.expected.known()
        assert {k: data.stats()[k] for k in expected} == expected, name
        checked.append(name)
    assert set(PROTOCOL_STATS) <= set(checked)


def test_items_numbered_in_order_of_first_appearance(data_dir):
    # S3Rec/SASRec files number items as first met reading users in order: the first
    # occurrence of each id comes in increasing id order. ml-1m included (its tie fix keeps it).
    for name in ("beauty", "lastfm", "ml-1m"):
        data = load_dataset(name, data_dir, None)
        _, first = np.unique(data.items, return_index=True)
        assert np.array_equal(data.items[np.sort(first)], np.arange(1, data.n_items + 1)), name


@pytest.mark.parametrize(
    "name,file",
    [("beauty", "Beauty.txt"), ("sports", "Sports_and_Outdoors.txt"), ("toys", "Toys_and_Games.txt")],
)
def test_amazon_rebuilt_from_shuffled_interactions(data_dir, name, file):
    """The S3Rec file expanded to (user, item, timestamp = position) rows, shuffled, then run
    through the k-core / sort / remap pipeline: same statistics, same sequences."""
    flat = read_seq_flat(data_dir / "s3rec" / file)
    lengths = np.diff(flat.offsets)
    users = np.repeat(np.arange(len(lengths)), lengths)
    positions = np.arange(len(flat.items)) - np.repeat(flat.offsets[:-1], lengths)
    rows = pd.DataFrame({"user": 1000 + 7 * users, "item": 5 * flat.items, "timestamp": positions})
    shuffled = rows.iloc[np.random.default_rng(0).permutation(len(rows))]
    start = time.perf_counter()
    prepared = prepare_with_ids(shuffled, name, Recipe(user_core=5, item_core=5))
    assert time.perf_counter() - start < 5.0
    data = prepared.data
    assert (data.n_users, data.n_items, data.n_interactions) == PROTOCOL_STATS[name]
    # equal up to the id remap: map users and items back to the file's ids
    row_of_user = (prepared.user_ids - 1000) // 7
    file_item = prepared.item_ids // 5
    original = np.split(flat.items, flat.offsets[1:-1])
    for u, seq in enumerate(data.sequences()):
        assert np.array_equal(file_item[seq - 1], original[row_of_user[u]])
    # with users' first appearance kept (rows grouped by user in file order, items still
    # shuffled inside each user) the remap is the identity: byte-for-byte the same data
    grouped = shuffled.sort_values("user", kind="stable")
    again = prepare_with_ids(grouped, name, Recipe(user_core=5, item_core=5)).data
    assert np.array_equal(again.items, flat.items)
    assert np.array_equal(again.offsets, flat.offsets)


def test_changed_file_fails_the_sha256_check(data_dir, tmp_path):
    copy = tmp_path / "data"
    (copy / "s3rec").mkdir(parents=True)
    text = (data_dir / "s3rec" / "LastFM.txt").read_text()
    (copy / "s3rec" / "LastFM.txt").write_text(text + "1091 1 2 3\n")
    with pytest.raises(ChecksumMismatchError) as info:
        load_dataset("lastfm", copy, None)
    assert "LastFM.txt" in str(info.value) and "9ded486adb5b0fe9" in str(info.value)
    assert load_dataset("lastfm", copy, None, verify=False).n_users == 1091


def test_data_dir_is_never_written(data_dir, tmp_path):
    before = snapshot(data_dir)
    load_dataset("ml-100k", data_dir, tmp_path / "cache")
    assert snapshot(data_dir) == before
    assert list((tmp_path / "cache" / "parsed").glob("ml-100k-*.npz"))


def test_missing_dataset_error_names_paths_and_remedies(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("beauty", tmp_path / "nowhere", tmp_path / "cache")
    message = str(info.value)
    assert str(tmp_path / "nowhere" / "s3rec" / "Beauty.txt") in message
    assert str(tmp_path / "cache" / "beauty" / "beauty.txt") in message
    for hint in ("lares-bench data fetch beauty", "--data-dir", "LARES_BENCH_DATA"):
        assert hint in message


def test_cli_list_and_stats(data_dir, tmp_path):
    runner = CliRunner()
    env = {"LARES_BENCH_DATA": str(data_dir), "LARES_BENCH_CACHE": str(tmp_path)}
    listed = runner.invoke(data_app, ["list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "beauty" in listed.output and "data dir" in listed.output
    assert "missing" in listed.output  # the Amazon 2023 sets are not in the shared folder
    stats = runner.invoke(data_app, ["stats", "lastfm"], env=env)
    assert stats.exit_code == 0, stats.output
    assert "OK" in stats.output and "MISMATCH" not in stats.output


def test_cli_stats_mismatch_exits_non_zero(data_dir, tmp_path):
    copy = tmp_path / "data" / "s3rec"
    copy.mkdir(parents=True)
    shutil.copy(data_dir / "s3rec" / "LastFM.txt", copy / "LastFM.txt")
    with open(copy / "LastFM.txt", "a") as f:
        f.write("1091 1 2 3\n")
    runner = CliRunner()
    args = ["stats", "lastfm", "--data-dir", str(tmp_path / "data"), "--cache-dir", str(tmp_path)]
    refused = runner.invoke(data_app, args)
    assert refused.exit_code == 1 and refused.output.startswith("error: ")
    assert "sha256 mismatch" in refused.output
    unchecked = runner.invoke(data_app, [*args, "--no-verify"])
    assert unchecked.exit_code == 1 and "MISMATCH" in unchecked.output
