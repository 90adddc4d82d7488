"""Readers for the prepared benchmark files and the raw files they are built from.

Two kinds of result:
- prepared files (S3Rec seq, SASRec pairs) give per-user item sequences, ids as in the file;
- raw files give an interactions DataFrame with columns `user`, `item`, `timestamp` (and
  `rating` when the source has one), raw ids, rows in file order. File order matters: it
  fixes the order of users and breaks timestamp ties in `prepare`, exactly as the reference
  scripts do, so no reader sorts.

Every format error is a DataFormatError naming the file and the 1-based line.
"""

from __future__ import annotations

import ast
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lares_bench.data.errors import DataFormatError
from lares_bench.data.textscan import (
    check_field_counts,
    check_tokens_per_line,
    read_bytes,
    scan_int_tokens,
)


@dataclass(frozen=True)
class FlatSequences:
    """Sequences stored flat: user u owns items[offsets[u]:offsets[u+1]]."""

    items: np.ndarray  # int64 [n_interactions]
    offsets: np.ndarray  # int64 [n_users + 1]

    def as_list(self) -> list[np.ndarray]:
        return np.split(self.items, self.offsets[1:-1])


def _check_item_ids(
    items: np.ndarray, item_token: np.ndarray, line: np.ndarray, path: Path
) -> None:
    # Item 0 is the padding id of every model, so a file using it is not a valid benchmark file.
    zero = items == 0
    if zero.any():
        i = int(np.argmax(zero))
        raise DataFormatError(
            f"{path}: line {int(line[item_token[i]]) + 1}: item id 0 (ids must start at 1)"
        )


def read_seq_flat(path: Path) -> FlatSequences:
    """S3Rec seq file, `user item_1 ... item_n` per line: one user per line, in file order.

    The user ids in the first column are not used (rows are users); items keep their ids.
    """
    tokens = scan_int_tokens(read_bytes(path), path)
    one = tokens.counts == 1
    if one.any():
        i = int(np.argmax(one))
        raise DataFormatError(f"{path}: line {i + 1}: a user id with no items")
    counts = tokens.counts[tokens.counts > 0]
    line_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    is_item = np.ones(len(tokens.values), dtype=bool)
    is_item[line_start] = False
    item_token = np.flatnonzero(is_item)
    items = tokens.values[item_token]
    _check_item_ids(items, item_token, tokens.line, path)
    offsets = np.concatenate(([0], np.cumsum(counts - 1))).astype(np.int64)
    return FlatSequences(items=items, offsets=offsets)


def read_seq_file(path: Path) -> list[np.ndarray]:
    """S3Rec seq file as a list of per-user item arrays, in file order."""
    return read_seq_flat(path).as_list()


def read_pairs_flat(path: Path) -> FlatSequences:
    """`user item` per line, grouped by user in time order (SASRec/BERT4Rec files).

    Users come in order of first appearance and each keeps its lines' order, so a file
    whose user blocks are not contiguous still reads correctly.
    """
    tokens = scan_int_tokens(read_bytes(path), path)
    check_tokens_per_line(tokens, path, 2, "user item")
    users = tokens.values[0::2]
    items = tokens.values[1::2]
    _check_item_ids(items, np.arange(1, len(tokens.values), 2), tokens.line, path)
    codes, _ = pd.factorize(users, sort=False)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    return FlatSequences(items=items[order], offsets=offsets)


def read_pairs_file(path: Path) -> list[np.ndarray]:
    """`user item` pairs file as a list of per-user item arrays."""
    return read_pairs_flat(path).as_list()


def _int_table(path: Path, data: bytes, columns: tuple[str, ...], first_line: int) -> pd.DataFrame:
    tokens = scan_int_tokens(data, path, first_line=first_line)
    check_tokens_per_line(tokens, path, len(columns), " ".join(columns), first_line=first_line)
    table = tokens.values.reshape(-1, len(columns))
    return pd.DataFrame({c: table[:, j] for j, c in enumerate(columns)})


def read_movielens_ratings(path: Path) -> pd.DataFrame:
    """MovieLens-1M/10M `ratings.dat`: `user::item::rating::timestamp` per line."""
    # '::' -> ' ' keeps every newline, so line numbers in errors stay right.
    data = read_bytes(path).replace(b"::", b" ")
    return _int_table(path, data, ("user", "item", "rating", "timestamp"), first_line=1)


def read_movielens_udata(path: Path) -> pd.DataFrame:
    """MovieLens-100K `u.data`: `user item rating timestamp`, tab separated, no header."""
    return _int_table(path, read_bytes(path), ("user", "item", "rating", "timestamp"), 1)


def read_lastfm_tags(path: Path) -> pd.DataFrame:
    """hetrec2011-lastfm-2k `user_taggedartists-timestamps.dat` (header, then 4 int columns).

    Items are artists; the tag column is dropped. One row per tagging: the same artist
    comes back once per tag, which `prepare` removes with dedup.
    """
    data = read_bytes(path)
    header_end = data.find(b"\n")
    if not data.strip():
        raise DataFormatError(f"{path}: empty file")
    body = data[header_end + 1 :] if header_end >= 0 else b""
    if not body.strip():
        raise DataFormatError(f"{path}: empty file (header only)")
    table = _int_table(path, body, ("user", "item", "tag", "timestamp"), first_line=2)
    return table.drop(columns="tag")


def _split_header(path: Path, data: bytes, sep: str) -> list[str]:
    if not data.strip():
        raise DataFormatError(f"{path}: empty file")
    first = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").rstrip("\r")
    return first.split(sep)


def _require(path: Path, have: list[str], need: tuple[str, ...]) -> None:
    missing = [c for c in need if c not in have]
    if missing:
        raise DataFormatError(
            f"{path}: line 1: header lacks column(s) {', '.join(missing)} (found: {', '.join(have)})"
        )


def _numeric(path: Path, column: pd.Series, what: str, first_line: int) -> pd.Series:
    values = pd.to_numeric(column, errors="coerce")
    bad = values.isna().to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFormatError(
            f"{path}: line {i + first_line}: {what} is not a number: {column.iloc[i]!r}"
        )
    return values


def read_recbole_inter(path: Path) -> pd.DataFrame:
    """RecBole atomic `.inter`: tab separated, typed header such as `user_id:token`.

    Columns are found by name (the part before ':'), not position; user_id, item_id and
    timestamp are required, rating is kept when present.
    """
    data = read_bytes(path)
    header = _split_header(path, data, "\t")
    names = [h.split(":", 1)[0] for h in header]
    _require(path, names, ("user_id", "item_id", "timestamp"))
    check_field_counts(data, b"\t", len(header), path)
    frame = pd.read_csv(
        io.BytesIO(data), sep="\t", header=0, names=names, dtype=str, keep_default_na=False
    )
    if frame.empty:
        raise DataFormatError(f"{path}: empty file (header only)")
    out = pd.DataFrame(
        {
            "user": frame["user_id"],
            "item": frame["item_id"],
            "timestamp": _numeric(path, frame["timestamp"], "timestamp", 2),
        }
    )
    if "rating" in names:
        out["rating"] = _numeric(path, frame["rating"], "rating", 2)
    return out


_AMAZON2023_COLUMNS = ("user_id", "parent_asin", "rating", "timestamp")


def read_amazon2023_csv(path: Path) -> pd.DataFrame:
    """One official Amazon Reviews 2023 benchmark CSV (`rating_only/` or one split of
    `last_out[_w_his]/`): `user_id,parent_asin,rating,timestamp[,history]`, plain or .gz.

    The history column is not read: the full sequence is the union of the splits.
    """
    data = read_bytes(path)
    header = _split_header(path, data, ",")
    _require(path, header, _AMAZON2023_COLUMNS)
    # The official files quote nothing (asins and history hold no commas), so counting
    # commas per line is exact.
    check_field_counts(data, b",", len(header), path)
    frame = pd.read_csv(
        io.BytesIO(data),
        usecols=list(_AMAZON2023_COLUMNS),
        dtype=str,
        keep_default_na=False,
    )
    if frame.empty:
        raise DataFormatError(f"{path}: empty file (header only)")
    return pd.DataFrame(
        {
            "user": frame["user_id"],
            "item": frame["parent_asin"],
            "timestamp": _numeric(path, frame["timestamp"], "timestamp", 2).astype(np.int64),
            "rating": _numeric(path, frame["rating"], "rating", 2),
        }
    )


def read_amazon2023_last_out(train: Path, valid: Path, test: Path) -> pd.DataFrame:
    """The official leave-last-out triple, merged back into one interactions table.

    Rows are train, then valid, then test, so after `prepare`'s stable timestamp sort a
    timestamp tie still leaves the official test item last and the valid item second-last.
    """
    parts = []
    for rank, path in enumerate((train, valid, test)):
        part = read_amazon2023_csv(path)
        part["split"] = rank
        parts.append(part)
    for path, part in ((valid, parts[1]), (test, parts[2])):
        repeated = part["user"].duplicated()
        if repeated.any():
            i = int(np.argmax(repeated.to_numpy()))
            raise DataFormatError(
                f"{path}: line {i + 2}: user {part['user'].iloc[i]!r} has a second row "
                "(a leave-last-out split has one row per user)"
            )
    return pd.concat(parts, ignore_index=True)


def _json_records(path: Path) -> Iterator[tuple[int, dict]]:
    text = read_bytes(path).decode("utf-8")
    if not text.strip():
        raise DataFormatError(f"{path}: empty file")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            # The old McAuley `reviews_*.json.gz` files are Python literals, not JSON.
            try:
                record = ast.literal_eval(line)
            except (ValueError, SyntaxError):
                raise DataFormatError(
                    f"{path}: line {number}: neither JSON nor a Python literal"
                ) from None
        if not isinstance(record, dict):
            raise DataFormatError(f"{path}: line {number}: expected an object per line")
        yield number, record


def _fields(path: Path, number: int, record: dict, keys: tuple[str, ...]) -> list:
    missing = [k for k in keys if k not in record]
    if missing:
        raise DataFormatError(f"{path}: line {number}: missing field(s) {', '.join(missing)}")
    return [record[k] for k in keys]


def read_amazon2014_reviews(path: Path) -> pd.DataFrame:
    """Amazon 2014 review lines (`reviews_<Category>_5.json.gz`), JSON or Python literal.

    Uses reviewerID, asin, unixReviewTime and, when present, overall (the rating).
    """
    users, items, times, ratings = [], [], [], []
    for number, record in _json_records(path):
        user, item, time = _fields(path, number, record, ("reviewerID", "asin", "unixReviewTime"))
        try:
            times.append(int(time))
        except (TypeError, ValueError):
            raise DataFormatError(
                f"{path}: line {number}: unixReviewTime is not an integer: {time!r}"
            ) from None
        users.append(user)
        items.append(item)
        ratings.append(float(record.get("overall", np.nan)))
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "timestamp": np.asarray(times, dtype=np.int64),
            "rating": ratings,
        }
    )


def read_yelp_reviews(path: Path, date_min: str, date_max: str) -> pd.DataFrame:
    """Yelp open-dataset `yelp_academic_dataset_review.json`, reviews with
    date_min <= date <= date_max compared as 'YYYY-MM-DD HH:MM:SS' strings (S3Rec's rule).

    The timestamp is the date's digits as one integer, which sorts like the date.
    """
    users, items, times, ratings = [], [], [], []
    for number, record in _json_records(path):
        user, item, stars, date = _fields(
            path, number, record, ("user_id", "business_id", "stars", "date")
        )
        if not date_min <= date <= date_max:
            continue
        users.append(user)
        items.append(item)
        times.append(int("".join(ch for ch in date if ch.isdigit())))
        ratings.append(float(stars))
    return pd.DataFrame(
        {
            "user": users,
            "item": items,
            "timestamp": np.asarray(times, dtype=np.int64),
            "rating": ratings,
        }
    )
