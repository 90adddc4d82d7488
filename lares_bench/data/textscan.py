"""Vectorised scanning of text files made of integer tokens (seq, pairs, ratings.dat).

Benchmark files hold up to millions of ids; a per-line Python loop costs seconds, so the
tokens are found and converted with numpy on the raw bytes. Errors still name the 1-based
line, recovered from the byte offset of the first offending character.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lares_bench.data.errors import DataFormatError

_IS_SPACE = np.zeros(256, dtype=bool)  # lookup table: much faster than np.isin on bytes
_IS_SPACE[[ord(c) for c in " \t\r\n\v\f"]] = True
_MAX_DIGITS = 18  # 10**18 still fits in int64


@dataclass(frozen=True)
class IntTokens:
    """All integer tokens of a text, with the line each came from."""

    values: np.ndarray  # int64 [n_tokens]
    line: np.ndarray  # int64 [n_tokens], 0-based line index of each token
    counts: np.ndarray  # int64 [n_lines], tokens on each line (0 for blank lines)


def read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when the name ends in .gz."""
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def line_at(data: bytes, pos: int, first_line: int = 1) -> int:
    """1-based line number (offset by first_line - 1) of byte position pos."""
    return data.count(b"\n", 0, pos) + first_line


def _token_around(data: bytes, pos: int) -> str:
    space = b" \t\r\n\v\f"
    start = pos
    while start > 0 and data[start - 1] not in space:
        start -= 1
    end = pos
    while end < len(data) and data[end] not in space:
        end += 1
    return data[start:end].decode("utf-8", errors="replace")[:40]


def n_lines(data: bytes) -> int:
    return data.count(b"\n") + (0 if not data or data.endswith(b"\n") else 1)


def scan_int_tokens(data: bytes, path: Path | str, first_line: int = 1) -> IntTokens:
    """Parse whitespace-separated non-negative integers; anything else is a DataFormatError.

    first_line is the file line number of data's first line (2 when a header was cut off).
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    is_digit = (buf >= 48) & (buf <= 57)
    bad = ~(is_digit | _IS_SPACE[buf])
    if bad.any():
        pos = int(np.argmax(bad))
        raise DataFormatError(
            f"{path}: line {line_at(data, pos, first_line)}: "
            f"non-integer id {_token_around(data, pos)!r}"
        )
    step = np.diff(is_digit.astype(np.int8), prepend=np.int8(0), append=np.int8(0))
    starts = np.flatnonzero(step == 1)
    ends = np.flatnonzero(step == -1)
    if len(starts) == 0:
        raise DataFormatError(f"{path}: empty file")
    lengths = ends - starts
    if lengths.max() > _MAX_DIGITS:
        pos = int(starts[np.argmax(lengths > _MAX_DIGITS)])
        raise DataFormatError(
            f"{path}: line {line_at(data, pos, first_line)}: id too long {_token_around(data, pos)!r}"
        )
    # Horner's rule over digit positions: ids have few digits, so this is a handful of
    # vectorised passes over the tokens instead of one pass per byte.
    values = np.zeros(len(starts), dtype=np.int64)
    for k in range(int(lengths.max())):
        live = np.flatnonzero(lengths > k)
        if len(live) == len(starts):
            values = values * 10 + (buf[starts + k].astype(np.int64) - 48)
        else:
            values[live] = values[live] * 10 + (buf[starts[live] + k].astype(np.int64) - 48)
    newlines = np.flatnonzero(buf == 10)
    line = np.searchsorted(newlines, starts).astype(np.int64)
    counts = np.bincount(line, minlength=n_lines(data)).astype(np.int64)
    return IntTokens(values=values, line=line, counts=counts)


def check_tokens_per_line(
    tokens: IntTokens, path: Path | str, expected: int, what: str, first_line: int = 1
) -> None:
    """Every non-blank line must hold exactly `expected` tokens."""
    wrong = (tokens.counts != expected) & (tokens.counts != 0)
    if wrong.any():
        i = int(np.argmax(wrong))
        raise DataFormatError(
            f"{path}: line {i + first_line}: expected {expected} columns ({what}), "
            f"found {int(tokens.counts[i])}"
        )


def check_field_counts(
    data: bytes, sep: bytes, expected: int, path: Path | str, first_line: int = 1
) -> None:
    """Every non-blank line must split into `expected` fields on the one-byte separator sep.

    pandas silently pads short rows with NaN, so the count is checked on the bytes first.
    """
    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    seps = np.flatnonzero(buf == sep[0])
    n = n_lines(data)
    per_line = np.bincount(np.searchsorted(newlines, seps), minlength=n)[:n] + 1
    line_ends = np.append(newlines, len(buf))[:n]
    line_starts = np.concatenate(([0], newlines + 1))[:n]
    blank = (line_ends - line_starts) == 0
    # A trailing '\r' of a CRLF file does not make a line non-blank.
    blank |= ((line_ends - line_starts) == 1) & (buf[np.minimum(line_starts, len(buf) - 1)] == 13)
    wrong = (per_line != expected) & ~blank
    if wrong.any():
        i = int(np.argmax(wrong))
        raise DataFormatError(
            f"{path}: line {i + first_line}: expected {expected} fields, found {int(per_line[i])}"
        )
