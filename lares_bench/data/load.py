"""Load a dataset by name: the built-in synthetic set or a registered one, from a data dir
laid out like ../shared/datasets or from where `lares-bench data fetch` put it.

Library code takes paths as arguments; the CLI resolves --data-dir / LARES_BENCH_DATA.
Parsed results are cached as .npz in cache_dir, keyed by the file's sha256, and never
written into data_dir (read-only in CI).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lares_bench.data.build import prepared_path, recorded_sha256
from lares_bench.data.dataset import SequenceData
from lares_bench.data.errors import ChecksumMismatchError, DatasetNotFoundError
from lares_bench.data.files import atomic_output, sha256_file
from lares_bench.data.prepare import drop_short_users, prepare_interactions
from lares_bench.data.readers import read_pairs_flat, read_recbole_inter, read_seq_flat
from lares_bench.data.registry import SYNTHETIC, DatasetEntry, get_entry
from lares_bench.data.synthetic import SyntheticConfig, generate_synthetic

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when reading or preparing a file would give different data


@dataclass(frozen=True)
class Located:
    """A copy of a dataset found on disk."""

    path: Path
    format: str  # seq, pairs or atomic
    expected_sha256: str | None  # registry's for a data-dir file, fetch's record otherwise
    fetched: bool


def candidates(entry: DatasetEntry, data_dir: Path | None, cache_dir: Path | None) -> list[Located]:
    """Where a dataset may be, in the order looked at (data dir first, then fetched copies)."""
    found = []
    if data_dir is not None:
        found.append(Located(data_dir / entry.file, entry.format, entry.sha256, fetched=False))
    for root in (cache_dir, data_dir):
        if root is not None:
            found.append(Located(prepared_path(root, entry.name), "seq", None, fetched=True))
    return found


def locate(entry: DatasetEntry, data_dir: Path | None, cache_dir: Path | None) -> Located:
    tried = candidates(entry, data_dir, cache_dir)
    for place in tried:
        if place.path.is_file():
            if place.fetched:
                return Located(place.path, "seq", recorded_sha256(place.path), fetched=True)
            return place
    paths = ", ".join(str(p.path) for p in tried) or "none (no --data-dir or cache dir given)"
    raise DatasetNotFoundError(
        f"dataset {entry.name!r} not found; tried: {paths}. Get it with "
        f"`lares-bench data fetch {entry.name}`, or point --data-dir (or the LARES_BENCH_DATA "
        f"environment variable) at a folder holding {entry.file}"
    )


def _read(entry: DatasetEntry, place: Located) -> SequenceData:
    if place.format == "atomic":
        return prepare_interactions(read_recbole_inter(place.path), entry.name, entry.recipe)
    flat = read_seq_flat(place.path) if place.format == "seq" else read_pairs_flat(place.path)
    return SequenceData(
        name=entry.name, items=flat.items, offsets=flat.offsets, n_items=int(flat.items.max())
    )


def _cache_file(cache_dir: Path, entry: DatasetEntry, place: Located, sha: str) -> Path:
    # The key covers everything that shapes the result: file content, how it is read, recipe.
    key = f"{sha}|{place.format}|{entry.recipe}|{CACHE_VERSION}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return cache_dir / "parsed" / f"{entry.name}-{digest}.npz"


def _load_cached(path: Path, name: str) -> SequenceData | None:
    try:
        with np.load(path) as z:
            return SequenceData(
                name=name, items=z["items"], offsets=z["offsets"], n_items=int(z["n_items"])
            )
    except (OSError, KeyError, ValueError) as err:
        log.warning("ignoring unreadable cache file %s (%s)", path, err)
        return None


def _save_cached(path: Path, data: SequenceData) -> None:
    try:
        with atomic_output(path) as f:
            np.savez(f, items=data.items, offsets=data.offsets, n_items=np.int64(data.n_items))
    except OSError as err:  # a read-only cache only costs speed
        log.warning("could not write cache file %s (%s)", path, err)


def read_registered(
    entry: DatasetEntry,
    data_dir: Path | None,
    cache_dir: Path | None = None,
    *,
    verify: bool = True,
) -> SequenceData:
    """The dataset as stored, before dropping short users."""
    place = locate(entry, data_dir, cache_dir)
    sha = sha256_file(place.path)
    if verify and place.expected_sha256 and sha != place.expected_sha256:
        raise ChecksumMismatchError(
            f"{place.path}: sha256 mismatch for dataset {entry.name!r}: expected "
            f"{place.expected_sha256}, got {sha} (a different or damaged copy; "
            "re-fetch it, or pass verify=False / --no-verify to use it anyway)"
        )
    cache_file = _cache_file(cache_dir, entry, place, sha) if cache_dir is not None else None
    if cache_file is not None and cache_file.is_file():
        cached = _load_cached(cache_file, entry.name)
        if cached is not None:
            return cached
    data = _read(entry, place)
    if cache_file is not None:
        _save_cached(cache_file, data)
    return data


def load_dataset(
    name: str,
    data_dir: Path | None,
    cache_dir: Path | None = None,
    *,
    verify: bool = True,
    min_len: int = 3,
    **synthetic_overrides: Any,
) -> SequenceData:
    """Load a dataset ready for a leave-one-out split.

    name: "synthetic" (built in; keyword overrides go to SyntheticConfig) or a registry name.
    data_dir: folder laid out like ../shared/datasets; cache_dir: where fetched copies and
    parse caches live. verify=False skips the sha256 check. Users with fewer than min_len
    items are dropped (and the count logged): leave-one-out needs three.
    """
    if name == SYNTHETIC:
        data = generate_synthetic(SyntheticConfig(**synthetic_overrides))
    else:
        if synthetic_overrides:
            raise TypeError(
                f"options {sorted(synthetic_overrides)} only apply to the synthetic dataset"
            )
        entry = get_entry(name)
        data = read_registered(entry, data_dir, cache_dir, verify=verify)
    data, dropped = drop_short_users(data, min_len)
    if dropped:
        log.warning("%s: dropped %d users with fewer than %d interactions", name, dropped, min_len)
    return data
