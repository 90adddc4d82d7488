"""Raw files -> the prepared sequence file of a registered dataset.

`fetch` downloads the raw files and calls `build_dataset`; a user who put the raw files in
place by hand gets the same result. The prepared file is written in S3Rec seq format
(`user item_1 ... item_n`, users 1..N), beside a `<name>.stats.json` that records its
sha256 (checked when it is loaded) and its statistics against the registry's, and a
`<name>.items.tsv` mapping item ids back to raw ids.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from lares_bench.data.dataset import SequenceData
from lares_bench.data.errors import DataFormatError
from lares_bench.data.files import atomic_output, atomic_write_bytes, sha256_file
from lares_bench.data.prepare import prepare_with_ids
from lares_bench.data.readers import (
    read_amazon2014_reviews,
    read_amazon2023_csv,
    read_amazon2023_last_out,
    read_lastfm_tags,
    read_movielens_ratings,
    read_movielens_udata,
    read_yelp_reviews,
)
from lares_bench.data.registry import DatasetEntry


@dataclass(frozen=True)
class BuildResult:
    name: str
    path: Path  # the prepared seq file
    stats_path: Path
    stats: dict[str, Any]
    mismatches: dict[str, tuple[int, Any]]  # {stat: (expected, got)}; empty when all match
    sha256: str


def prepared_path(dest_dir: Path, name: str) -> Path:
    """Where fetch/build put a dataset's prepared file: <dest>/<name>/<name>.txt."""
    return dest_dir / name / f"{name}.txt"


def stats_path_for(prepared: Path) -> Path:
    return prepared.with_name(prepared.stem + ".stats.json")


def read_raw(entry: DatasetEntry, paths: list[Path]) -> pd.DataFrame:
    """Interactions from the raw files (paths in the registry's [[raw]] order)."""
    fmt = entry.raw.format
    if fmt == "amazon2023-last-out":
        by_role = {f.role: p for f, p in zip(entry.raw.files, paths, strict=True)}
        missing = {"train", "valid", "test"} - set(by_role)
        if missing:
            raise DataFormatError(f"{entry.name}: registry lacks raw role(s) {sorted(missing)}")
        return read_amazon2023_last_out(by_role["train"], by_role["valid"], by_role["test"])
    if len(paths) != 1:
        raise DataFormatError(f"{entry.name}: raw format {fmt} takes one file, got {len(paths)}")
    path = paths[0]
    if fmt == "amazon2014-json":
        return read_amazon2014_reviews(path)
    if fmt == "amazon2023-rating-only":
        return read_amazon2023_csv(path)
    if fmt == "hetrec-lastfm-tags":
        return read_lastfm_tags(path)
    if fmt == "movielens-dat":
        return read_movielens_ratings(path)
    if fmt == "movielens-udata":
        return read_movielens_udata(path)
    if fmt == "yelp-json":
        if entry.raw.date_min is None or entry.raw.date_max is None:
            raise DataFormatError(f"{entry.name}: yelp-json needs date_min and date_max")
        return read_yelp_reviews(path, entry.raw.date_min, entry.raw.date_max)
    raise DataFormatError(f"{entry.name}: no reader for raw format {fmt!r}")


def write_seq_file(data: SequenceData, path: Path) -> None:
    """S3Rec seq format, users numbered 1..N; atomic."""
    with atomic_output(path) as f:
        for u, seq in enumerate(data.sequences(), start=1):
            f.write(f"{u} {' '.join(map(str, seq.tolist()))}\n".encode())


def build_dataset(entry: DatasetEntry, raw_paths: list[Path], dest_dir: Path) -> BuildResult:
    """Read the raw files, apply the registry recipe and write the prepared files."""
    prepared = prepare_with_ids(read_raw(entry, raw_paths), entry.name, entry.recipe)
    data = prepared.data
    out = prepared_path(dest_dir, entry.name)
    write_seq_file(data, out)
    items_tsv = "".join(f"{i}\t{raw}\n" for i, raw in enumerate(prepared.item_ids.tolist(), 1))
    atomic_write_bytes(out.with_name(f"{entry.name}.items.tsv"), items_tsv.encode())
    sha = sha256_file(out)
    stats = data.stats()
    mismatches = entry.expected.mismatches(stats)
    record = {
        "name": entry.name,
        "file": out.name,
        "sha256": sha,
        # Only a seq-format registry file can be byte-identical to what build writes.
        "matches_registry_sha256": (
            sha == entry.sha256 if entry.sha256 and entry.format == "seq" else None
        ),
        "stats": stats,
        "expected": entry.expected.known(),
        "mismatches": {k: {"expected": e, "got": g} for k, (e, g) in mismatches.items()},
        "recipe": asdict(entry.recipe),
        "raw": [
            {"file": p.name, "url": f.url, "sha256": sha256_file(p)}
            for f, p in zip(entry.raw.files, raw_paths, strict=True)
        ],
        "fingerprint": data.fingerprint(),
    }
    stats_file = stats_path_for(out)
    atomic_write_bytes(stats_file, (json.dumps(record, indent=1) + "\n").encode())
    return BuildResult(entry.name, out, stats_file, stats, mismatches, sha)


def recorded_sha256(prepared: Path) -> str | None:
    """The sha256 that build wrote beside a prepared file, if any."""
    stats_file = stats_path_for(prepared)
    if not stats_file.exists():
        return None
    try:
        value = json.loads(stats_file.read_text()).get("sha256")
    except (ValueError, AttributeError):
        raise DataFormatError(f"{stats_file}: not a stats record written by fetch") from None
    return value if isinstance(value, str) else None
