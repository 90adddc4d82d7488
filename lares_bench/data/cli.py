"""`lares-bench data ...`: list, check and fetch datasets.

The only place of the data layer that reads the environment: --data-dir defaults to
LARES_BENCH_DATA and --cache-dir to LARES_BENCH_CACHE or ~/.cache/lares-bench; the library
functions receive plain paths. Data errors end the command with one red line, exit code 1.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table
from rich.text import Text

from lares_bench.data.errors import DataError
from lares_bench.data.fetch import fetch_dataset
from lares_bench.data.load import candidates, load_dataset
from lares_bench.data.registry import SYNTHETIC, SYNTHETIC_MAX_LEN, get_entry, load_registry
from lares_bench.data.synthetic import generate_synthetic

data_app = typer.Typer(
    help="List, check and fetch benchmark datasets.", no_args_is_help=True, add_completion=False
)
out = Console()
err = Console(stderr=True)

P = ParamSpec("P")
R = TypeVar("R")

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="LARES_BENCH_DATA",
        help="Folder laid out like ../shared/datasets (env LARES_BENCH_DATA).",
    ),
]
CacheDir = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        envvar="LARES_BENCH_CACHE",
        help="Fetched datasets and parse caches (env LARES_BENCH_CACHE; "
        "default ~/.cache/lares-bench).",
    ),
]


def default_cache_dir(cache_dir: Path | None) -> Path:
    return cache_dir if cache_dir is not None else Path.home() / ".cache" / "lares-bench"


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn data errors into one red line and exit code 1 instead of a traceback."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (DataError, OSError) as error:
            err.print(Text(f"error: {error}", style="red"), soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper


def _setup_logging() -> None:
    # Library warnings (e.g. users dropped) reach the terminal; set up once per process.
    root = logging.getLogger("lares_bench")
    if not root.handlers:
        root.addHandler(RichHandler(console=err, show_time=False, show_path=False))
        root.setLevel(logging.INFO)


def _count(value: int | None) -> str:
    return f"{value:,}" if value is not None else "?"


@data_app.command("list")
@one_line_errors
def list_datasets(data_dir: DataDir = None, cache_dir: CacheDir = None) -> None:
    """Registered datasets, their expected size, and whether a copy is present."""
    cache = default_cache_dir(cache_dir)
    table = Table(title="datasets")
    for column in ("name", "format", "users", "items", "interactions", "max_len", "present"):
        numeric = column in {"users", "items", "interactions", "max_len"}
        table.add_column(column, justify="right" if numeric else "left", no_wrap=True)
    synthetic = generate_synthetic().stats()
    table.add_row(
        SYNTHETIC, "built in", _count(synthetic["users"]), _count(synthetic["items"]),
        _count(synthetic["interactions"]), str(SYNTHETIC_MAX_LEN), "built in",
    )  # fmt: skip
    for name, entry in load_registry().items():
        found = next((c for c in candidates(entry, data_dir, cache) if c.path.is_file()), None)
        where = "fetched" if found and found.fetched else "data dir"
        table.add_row(
            name,
            entry.format,
            _count(entry.expected.users),
            _count(entry.expected.items),
            _count(entry.expected.interactions),
            str(entry.max_len),
            Text(where, style="green") if found else Text("missing", style="yellow"),
        )
    out.print(table)


@data_app.command("stats")
@one_line_errors
def stats(
    name: Annotated[str, typer.Argument(help="Dataset name (see `data list`).")],
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    verify: Annotated[bool, typer.Option(help="Check the file's sha256.")] = True,
) -> None:
    """Load a dataset and compare its statistics with the registry (exit 1 on a mismatch)."""
    _setup_logging()
    data = load_dataset(name, data_dir, default_cache_dir(cache_dir), verify=verify)
    computed = data.stats()
    expected = {} if name == SYNTHETIC else get_entry(name).expected.known()
    table = Table(title=f"{name}: {data.fingerprint()[:12]}")
    for column in ("statistic", "computed", "expected", "check"):
        table.add_column(column)
    bad = False
    for key, value in computed.items():
        want = expected.get(key)
        if want is None:
            check = Text("")
        elif want == value:
            check = Text("OK", style="green")
        else:
            check, bad = Text("MISMATCH", style="bold red"), True
        shown = f"{value:,}" if isinstance(value, int) else str(value)
        table.add_row(key, shown, "" if want is None else f"{want:,}", check)
    out.print(table)
    if bad:
        raise typer.Exit(1)


@data_app.command("fetch")
@one_line_errors
def fetch(
    name: Annotated[str, typer.Argument(help="Dataset name (see `data list`).")],
    dest: Annotated[
        Path | None, typer.Option(help="Where to put it (default: the cache dir).")
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Download from this URL instead (ending in '/': a base URL)."),
    ] = None,
    data_dir: DataDir = None,
    cache_dir: CacheDir = None,
    progress: Annotated[bool, typer.Option(help="Show a progress bar.")] = True,
) -> None:
    """Download a dataset's raw files, verify them and build the prepared file."""
    _setup_logging()
    target = dest if dest is not None else default_cache_dir(cache_dir)
    result = fetch_dataset(name, target, url_override=url, progress=progress)
    out.print(f"{name}: wrote {result.path} (sha256 {result.sha256})")
    if result.mismatches:
        for key, (want, got) in result.mismatches.items():
            err.print(Text(f"{name}: {key} = {got}, expected {want}", style="yellow"))
        err.print(Text(f"{name}: statistics differ from the registry", style="red"))
        raise typer.Exit(1)
