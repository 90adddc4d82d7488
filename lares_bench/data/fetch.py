"""Download a registered dataset's raw files and build its prepared file.

Layout under dest_dir (normally the cache dir): <name>/raw/<raw files> and the prepared
<name>/<name>.txt (+ .stats.json, .items.tsv) that load_dataset finds. Raw files already in
place are used as they are after their sha256 check, which is also how an offline user
installs a dataset by hand: put the files where the error message says and run again.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from lares_bench import __version__
from lares_bench.data.build import BuildResult, build_dataset
from lares_bench.data.errors import ChecksumMismatchError, DataFormatError, FetchError
from lares_bench.data.files import atomic_output, sha256_file
from lares_bench.data.registry import SYNTHETIC, DatasetEntry, RawFile, get_entry

_CHUNK = 1 << 20


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _check_download(
    url: str, name: str, got_sha: str, got_size: int, sha256: str | None, size: int | None
) -> None:
    wrong_size = size is not None and got_size != size
    sizes = f"; size: expected {size} bytes, got {got_size}" if wrong_size else ""
    if sha256 is not None and got_sha != sha256:
        raise ChecksumMismatchError(
            f"{name}: sha256 mismatch: expected {sha256}, got {got_sha}{sizes} "
            f"(from {url}); the file was not kept"
        )
    if wrong_size:
        raise ChecksumMismatchError(
            f"{name}: size mismatch: expected {size} bytes, got {got_size} "
            f"(from {url}); the file was not kept"
        )


def download(
    url: str,
    path: Path,
    *,
    sha256: str | None = None,
    size: int | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> Path:
    """Stream url to path through a temporary file, checking sha256 (and size) if given.

    On any failure nothing is left at path. Network failures raise FetchError; a checksum
    or size mismatch raises ChecksumMismatchError naming the file and both values.
    """
    request = urllib.request.Request(url, headers={"User-Agent": f"lares-bench/{__version__}"})
    digest = hashlib.sha256()
    got_size = 0
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            atomic_output(path) as out,
            _progress(progress) as bar,
        ):
            total = response.headers.get("Content-Length")
            task = bar.add_task(path.name, total=int(total) if total else size)
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                got_size += len(chunk)
                bar.update(task, advance=len(chunk))
            # Raising inside the with-block makes atomic_output delete the temporary file.
            _check_download(url, path.name, digest.hexdigest(), got_size, sha256, size)
    except urllib.error.HTTPError as err:
        raise FetchError(f"could not download {url}: HTTP {err.code} {err.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as err:
        reason = getattr(err, "reason", None) or err
        raise FetchError(f"could not download {url}: {reason}") from None
    return path


def _urls(entry: DatasetEntry, url_override: str | None) -> list[str]:
    """The URL of each raw file. An override ending in '/' is a base URL to which each
    file's name is appended; otherwise it replaces the URL of a single-file dataset."""
    if url_override is None:
        return [f.url for f in entry.raw.files]
    if url_override.endswith("/"):
        return [url_override + f.filename for f in entry.raw.files]
    if len(entry.raw.files) != 1:
        names = ", ".join(f.filename for f in entry.raw.files)
        raise FetchError(
            f"{entry.name} has {len(entry.raw.files)} raw files ({names}): give a base URL "
            "ending in '/' instead of one file's URL"
        )
    return [url_override]


def _by_hand(entry: DatasetEntry, urls: list[str], raw_dir: Path) -> str:
    places = "; ".join(
        f"{url} -> {raw_dir / f.filename}" for f, url in zip(entry.raw.files, urls, strict=True)
    )
    return (
        f"To install {entry.name!r} by hand, download {places}; then run "
        f"`lares-bench data fetch {entry.name}` again (files in place are checked and used)."
    )


def _check_present(raw: RawFile, path: Path) -> None:
    if raw.sha256 is not None:
        got = sha256_file(path)
        if got != raw.sha256:
            raise ChecksumMismatchError(
                f"{path}: sha256 mismatch: expected {raw.sha256}, got {got}; "
                "delete it and fetch again"
            )


def _extract(archive: Path, member: str, raw_dir: Path) -> Path:
    target = raw_dir / Path(member).name
    try:
        with zipfile.ZipFile(archive) as z, z.open(member) as src, atomic_output(target) as out:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
    except (zipfile.BadZipFile, KeyError) as err:
        raise DataFormatError(f"{archive}: cannot extract {member!r} ({err})") from None
    return target


def fetch_dataset(
    name: str | DatasetEntry,
    dest_dir: Path,
    *,
    url_override: str | None = None,
    progress: bool = True,
    timeout: float = 30.0,
) -> BuildResult:
    """Download (or reuse) the raw files of a registered dataset, verify them, build it.

    The result says where the prepared file is and whether its statistics match the
    registry (mismatches are reported, not raised: an upstream re-release may differ).
    name may also be a DatasetEntry, for a dataset described outside the registry.
    """
    if name == SYNTHETIC:
        raise FetchError("'synthetic' is built in: there is nothing to fetch")
    entry = name if isinstance(name, DatasetEntry) else get_entry(name)
    name = entry.name
    urls = _urls(entry, url_override)
    raw_dir = dest_dir / name / "raw"
    raw_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for raw, url in zip(entry.raw.files, urls, strict=True):
        path = raw_dir / raw.filename
        if path.is_file():
            _check_present(raw, path)
        elif raw.manual and url_override is None:
            raise FetchError(
                f"{raw.filename} must be downloaded by hand (licence terms) from {url}. "
                + _by_hand(entry, urls, raw_dir)
            )
        else:
            try:
                download(
                    url, path, sha256=raw.sha256, size=raw.bytes, progress=progress, timeout=timeout
                )
            except FetchError as err:
                raise FetchError(f"{err}. {_by_hand(entry, urls, raw_dir)}") from None
        paths.append(_extract(path, raw.member, raw_dir) if raw.member else path)
    return build_dataset(entry, paths, dest_dir)
