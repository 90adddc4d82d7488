"""The dataset registry (datasets/registry.toml) as typed, validated dataclasses.

The package reads its own copy (lares_bench/data/registry.toml, a symlink to the repository
file in a checkout) so an installed package finds it without the repository around.
Unknown keys are errors, so a typo in the registry cannot silently drop a checksum.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

from lares_bench.data.errors import DataFormatError, UnknownDatasetError
from lares_bench.data.prepare import Recipe

SYNTHETIC = "synthetic"  # built in, generated on demand, not in the registry file
FORMATS = ("seq", "pairs", "atomic")
RAW_FORMATS = (
    "amazon2014-json",
    "amazon2023-last-out",
    "amazon2023-rating-only",
    "hetrec-lastfm-tags",
    "movielens-dat",
    "movielens-udata",
    "yelp-json",
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ExpectedStats:
    """Published statistics of a prepared dataset; None where not known."""

    users: int | None = None
    items: int | None = None
    interactions: int | None = None

    def known(self) -> dict[str, int]:
        return {k: v for k, v in vars(self).items() if v is not None}

    def mismatches(self, stats: Mapping[str, Any]) -> dict[str, tuple[int, Any]]:
        """{key: (expected, got)} for every known statistic that stats does not match."""
        return {k: (v, stats.get(k)) for k, v in self.known().items() if stats.get(k) != v}


@dataclass(frozen=True)
class RawFile:
    """One file to download for building a dataset from raw data."""

    url: str
    filename: str  # name under <dest>/<dataset>/raw/
    sha256: str | None = None
    bytes: int | None = None
    member: str | None = None  # file to take out of a zip archive
    role: str | None = None  # train / valid / test for split sources
    manual: bool = False  # behind a licence page: the user downloads it by hand


@dataclass(frozen=True)
class RawSource:
    """Where the raw data comes from and how it is read."""

    format: str
    files: tuple[RawFile, ...]
    date_min: str | None = None  # Yelp review date window (inclusive, string compare)
    date_max: str | None = None


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    title: str
    format: str  # how `file` is read: seq, pairs, atomic
    file: str  # relative to a data dir laid out like ../shared/datasets
    max_len: int
    expected: ExpectedStats
    recipe: Recipe
    raw: RawSource
    sha256: str | None = None
    paper_max_len: int | None = None
    licence: str = ""
    note: str = ""


def _check_keys(
    where: str, table: Mapping[str, Any], allowed: set[str], required: set[str]
) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise DataFormatError(f"{where}: unknown key(s) {', '.join(unknown)}")
    missing = sorted(required - set(table))
    if missing:
        raise DataFormatError(f"{where}: missing key(s) {', '.join(missing)}")


def _sha(where: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SHA256.match(value):
        raise DataFormatError(f"{where}: sha256 must be 64 lowercase hex digits, got {value!r}")
    return value


def _raw_file(where: str, table: Mapping[str, Any]) -> RawFile:
    _check_keys(
        where, table, {"url", "filename", "sha256", "bytes", "member", "role", "manual"}, {"url"}
    )
    url = str(table["url"])
    return RawFile(
        url=url,
        filename=str(table.get("filename") or url.rstrip("/").rsplit("/", 1)[-1]),
        sha256=_sha(where, table.get("sha256")),
        bytes=table.get("bytes"),
        member=table.get("member"),
        role=table.get("role"),
        manual=bool(table.get("manual", False)),
    )


def _entry(name: str, table: Mapping[str, Any], source: str) -> DatasetEntry:
    where = f"{source}: datasets.{name}"
    _check_keys(
        where,
        table,
        {"title", "format", "file", "sha256", "max_len", "paper_max_len", "expected",
         "licence", "note", "recipe", "raw"},
        {"title", "format", "file", "max_len", "recipe", "raw"},
    )  # fmt: skip
    if table["format"] not in FORMATS:
        raise DataFormatError(f"{where}: format must be one of {', '.join(FORMATS)}")
    expected = table.get("expected", {})
    _check_keys(f"{where}.expected", expected, {"users", "items", "interactions"}, set())
    recipe = table["recipe"]
    _check_keys(
        f"{where}.recipe",
        recipe,
        {"raw_format", "k_core", "user_core", "item_core", "min_rating", "dedup",
         "date_min", "date_max"},
        {"raw_format"},
    )  # fmt: skip
    if recipe["raw_format"] not in RAW_FORMATS:
        raise DataFormatError(f"{where}.recipe: raw_format must be one of {', '.join(RAW_FORMATS)}")
    k = int(recipe.get("k_core", 0))
    files = tuple(_raw_file(f"{where}.raw[{i}]", t) for i, t in enumerate(table["raw"]))
    return DatasetEntry(
        name=name,
        title=table["title"],
        format=table["format"],
        file=table["file"],
        max_len=int(table["max_len"]),
        paper_max_len=table.get("paper_max_len"),
        expected=ExpectedStats(**expected),
        recipe=Recipe(
            user_core=int(recipe.get("user_core", k)),
            item_core=int(recipe.get("item_core", k)),
            min_rating=recipe.get("min_rating"),
            dedup=bool(recipe.get("dedup", False)),
        ),
        raw=RawSource(
            format=recipe["raw_format"],
            files=files,
            date_min=recipe.get("date_min"),
            date_max=recipe.get("date_max"),
        ),
        sha256=_sha(where, table.get("sha256")),
        licence=table.get("licence", ""),
        note=table.get("note", ""),
    )


def parse_registry(text: str, source: str = "registry.toml") -> dict[str, DatasetEntry]:
    """Parse and validate registry text; source names the file in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DataFormatError(f"{source}: {err}") from None
    _check_keys(source, doc, {"schema", "datasets"}, {"datasets"})
    if doc.get("schema", 1) != 1:
        raise DataFormatError(f"{source}: unsupported schema {doc['schema']!r}")
    if SYNTHETIC in doc["datasets"]:
        raise DataFormatError(f"{source}: '{SYNTHETIC}' is built in and cannot be registered")
    return {name: _entry(name, t, source) for name, t in doc["datasets"].items()}


def default_registry_path() -> Path:
    return Path(str(resources.files("lares_bench.data").joinpath("registry.toml")))


@functools.lru_cache(maxsize=4)
def load_registry(path: Path | None = None) -> dict[str, DatasetEntry]:
    """All registered datasets by name (cached; the file does not change while running)."""
    path = path or default_registry_path()
    return parse_registry(path.read_text(encoding="utf-8"), source=str(path))


def dataset_names(path: Path | None = None) -> list[str]:
    """Every loadable name: the built-in synthetic set and the registry's."""
    return [SYNTHETIC, *load_registry(path)]


def get_entry(name: str, path: Path | None = None) -> DatasetEntry:
    registry = load_registry(path)
    if name not in registry:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; known: {', '.join(dataset_names(path))}"
        )
    return registry[name]


SYNTHETIC_MAX_LEN = 50  # the protocol's default; synthetic sequences are at most 30 long


def dataset_max_len(name: str, path: Path | None = None) -> int:
    """Input truncation length the protocol uses for a dataset (synthetic included)."""
    return SYNTHETIC_MAX_LEN if name == SYNTHETIC else get_entry(name, path).max_len
