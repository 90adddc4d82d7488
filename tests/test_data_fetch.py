"""The downloader and fetch_dataset against a local HTTP server (no network needed)."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import shutil
import socket
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lares_bench.data.cli import data_app
from lares_bench.data.errors import ChecksumMismatchError, FetchError
from lares_bench.data.fetch import download, fetch_dataset
from lares_bench.data.load import load_dataset
from lares_bench.data.readers import read_seq_file
from lares_bench.data.registry import ExpectedStats, RawFile, get_entry

LASTFM_SHA256 = "9ded486adb5b0fe9dc761950afa0a9a05e93ff018992e0c52bf11afec529f802"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[str, Path]]:
    """(base URL, served folder): an HTTP server on 127.0.0.1, a free port, in a thread."""
    root = tmp_path / "served"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def dead_url() -> str:
    """A URL on a port that nothing listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/nothing.zip"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_download_real_file_with_matching_sha256(server, data_dir, tmp_path):
    base, root = server
    shutil.copy(data_dir / "s3rec" / "LastFM.txt", root / "LastFM.txt")
    dest = tmp_path / "dest" / "LastFM.txt"
    download(base + "LastFM.txt", dest, sha256=LASTFM_SHA256, progress=True)
    assert dest.read_bytes() == (data_dir / "s3rec" / "LastFM.txt").read_bytes()
    assert len(read_seq_file(dest)) == 1090
    assert leftovers(dest.parent) == ["LastFM.txt"]  # no temporary file left


def test_download_checksum_mismatch_leaves_nothing(server, tmp_path):
    base, root = server
    (root / "f.bin").write_bytes(b"not what you expected\n" * 1000)
    got = hashlib.sha256((root / "f.bin").read_bytes()).hexdigest()
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumMismatchError) as info:
        download(base + "f.bin", dest / "f.bin", sha256="0" * 64, progress=False)
    message = str(info.value)
    assert "f.bin" in message and "0" * 64 in message and got in message
    assert leftovers(dest) == []


def test_download_size_mismatch(server, tmp_path):
    base, root = server
    (root / "f.bin").write_bytes(b"12345")
    with pytest.raises(ChecksumMismatchError, match="expected 6 bytes, got 5"):
        download(base + "f.bin", tmp_path / "f.bin", size=6, progress=False)
    assert not (tmp_path / "f.bin").exists()


def test_download_unreachable_and_missing(server, dead_url, tmp_path):
    with pytest.raises(FetchError, match=f"could not download {dead_url}"):
        download(dead_url, tmp_path / "x.zip", progress=False)
    base, _ = server
    with pytest.raises(FetchError, match="404"):
        download(base + "absent.zip", tmp_path / "x.zip", progress=False)
    assert leftovers(tmp_path) == []


def _ml100k_like_zip(folder: Path, n_users: int = 30, n_items: int = 40) -> Path:
    rng = np.random.default_rng(0)
    lines = [
        f"{u}\t{i}\t{rng.integers(1, 6)}\t{880000000 + rng.integers(0, 10**6)}"
        for u in range(1, n_users + 1)
        for i in rng.choice(np.arange(1, n_items + 1), size=int(rng.integers(3, 12)), replace=False)
    ]
    path = folder / "ml-100k.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("ml-100k/u.data", "\n".join(lines) + "\n")
    return path


def _entry_served(name: str, url: str, archive: Path, expected: ExpectedStats):
    entry = get_entry(name)
    raw = RawFile(
        url=url,
        filename=archive.name,
        sha256=hashlib.sha256(archive.read_bytes()).hexdigest(),
        member="ml-100k/u.data",
    )
    files = dataclasses.replace(entry.raw, files=(raw,))
    return dataclasses.replace(entry, raw=files, expected=expected, sha256=None)


def test_fetch_builds_a_dataset_that_load_finds(server, tmp_path):
    base, root = server
    archive = _ml100k_like_zip(root)
    entry = _entry_served("ml-100k", base + archive.name, archive, ExpectedStats(users=30))
    cache = tmp_path / "cache"
    result = fetch_dataset(entry, cache, progress=False)
    assert result.path == cache / "ml-100k" / "ml-100k.txt"
    assert result.mismatches == {} and result.stats["users"] == 30
    assert (cache / "ml-100k" / "ml-100k.stats.json").is_file()
    loaded = load_dataset("ml-100k", None, cache)
    assert loaded.n_users == 30
    # fetching again reuses the verified raw file (the server may be gone by then)
    (root / archive.name).unlink()
    again = fetch_dataset(entry, cache, progress=False)
    assert again.sha256 == result.sha256
    # the prepared file is checked against the sha256 that fetch recorded
    with open(result.path, "a") as f:
        f.write("31 1 2 3\n")
    with pytest.raises(ChecksumMismatchError, match="ml-100k.txt: sha256 mismatch"):
        load_dataset("ml-100k", None, cache)
    assert load_dataset("ml-100k", None, cache, verify=False).n_users == 31


def test_fetch_real_ml100k_equals_the_shared_atomic_file(server, data_dir, tmp_path):
    base, root = server
    body = (data_dir / "recbole-wheel" / "ml-100k.inter").read_bytes().split(b"\n", 1)[1]
    with zipfile.ZipFile(root / "ml-100k.zip", "w") as z:
        z.writestr("ml-100k/u.data", body)  # the .inter body is u.data with a header
    entry = get_entry("ml-100k")
    entry = _entry_served("ml-100k", base + "ml-100k.zip", root / "ml-100k.zip", entry.expected)
    result = fetch_dataset(entry, tmp_path / "cache", progress=False)
    assert result.mismatches == {}
    fetched = load_dataset("ml-100k", None, tmp_path / "cache")
    shared = load_dataset("ml-100k", data_dir, None)
    assert fetched.fingerprint() == shared.fingerprint()


def test_fetch_checksum_mismatch_names_file_and_keeps_nothing(server, tmp_path):
    base, root = server
    for split in ("train", "valid", "test"):
        (root / f"Musical_Instruments.{split}.csv").write_text(
            "user_id,parent_asin,rating,timestamp,history\nU,B,5,1,\n"
        )
    with pytest.raises(ChecksumMismatchError) as info:
        fetch_dataset("instruments", tmp_path / "cache", url_override=base, progress=False)
    message = str(info.value)
    assert "Musical_Instruments.train.csv" in message
    assert "79539d2759a653f1f1e882a07bf7f2984cdd9326a7cbb3276d9f7084fe5f0527" in message
    assert leftovers(tmp_path / "cache") == []


def test_fetch_unreachable_says_where_to_put_files(dead_url, tmp_path):
    with pytest.raises(FetchError) as info:
        fetch_dataset("ml-1m", tmp_path / "cache", url_override=dead_url, progress=False)
    message = str(info.value)
    assert dead_url in message
    assert str(tmp_path / "cache" / "ml-1m" / "raw" / "ml-1m.zip") in message
    assert "lares-bench data fetch ml-1m" in message


def test_fetch_single_url_for_a_multi_file_dataset_is_refused(tmp_path):
    with pytest.raises(FetchError, match="base URL ending in '/'"):
        fetch_dataset("games", tmp_path, url_override="http://127.0.0.1:9/x.csv")


def test_fetch_manual_and_synthetic(tmp_path):
    with pytest.raises(FetchError, match="downloaded by hand.*yelp_academic_dataset_review.json"):
        fetch_dataset("yelp", tmp_path, progress=False)
    with pytest.raises(FetchError, match="built in"):
        fetch_dataset("synthetic", tmp_path)


def test_cli_fetch_error_is_one_red_line(dead_url, tmp_path):
    result = CliRunner().invoke(
        data_app, ["fetch", "ml-1m", "--url", dead_url, "--dest", str(tmp_path), "--no-progress"]
    )
    assert result.exit_code == 1
    assert result.output.startswith("error: could not download")
    assert result.output.count("\n") == 1
    assert "Traceback" not in result.output
