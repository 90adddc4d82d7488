"""Readers on tiny files: results, and errors that name the file and the line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lares_bench.data.errors import DataFormatError
from lares_bench.data.prepare import prepare_interactions
from lares_bench.data.readers import (
    read_amazon2014_reviews,
    read_amazon2023_csv,
    read_amazon2023_last_out,
    read_lastfm_tags,
    read_movielens_ratings,
    read_movielens_udata,
    read_pairs_file,
    read_recbole_inter,
    read_seq_file,
    read_yelp_reviews,
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


def as_lists(seqs: list[np.ndarray]) -> list[list[int]]:
    return [s.tolist() for s in seqs]


def expect_error(match: str, func, *args) -> None:
    with pytest.raises(DataFormatError, match=match):
        func(*args)


# ---------------------------------------------------------------- seq files


def test_seq_file_in_file_order(tmp_path):
    path = write(tmp_path, "s.txt", "1 1 2 3\n2 4 2\n7 5\n")
    assert as_lists(read_seq_file(path)) == [[1, 2, 3], [4, 2], [5]]


def test_seq_file_tolerates_crlf_tabs_and_blank_lines(tmp_path):
    path = write(tmp_path, "s.txt", "1 1\t2\r\n\r\n2 3 4\r\n")
    assert as_lists(read_seq_file(path)) == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 1 2\n2 3 x4\n", r"s\.txt: line 2: non-integer id 'x4'"),
        ("1 1 2\n2 3 -4\n", r"s\.txt: line 2: non-integer id '-4'"),
        ("1 1 2\n2 3 4.5\n", r"s\.txt: line 2: non-integer id '4\.5'"),
        ("1 1 2\n2\n", r"s\.txt: line 2: a user id with no items"),
        ("1 1 2\n2 0 3\n", r"s\.txt: line 2: item id 0"),
        ("", r"s\.txt: empty file"),
        ("\n \n", r"s\.txt: empty file"),
    ],
)
def test_seq_file_errors(tmp_path, text, match):
    expect_error(match, read_seq_file, write(tmp_path, "s.txt", text))


# ---------------------------------------------------------------- pairs files


def test_pairs_keep_file_order_and_first_appearance_of_users(tmp_path):
    path = write(tmp_path, "p.txt", "5 1\n5 2\n3 9\n5 3\n3 1\n")
    # user 5 first, then 3; each keeps its own lines' order even when blocks interleave
    assert as_lists(read_pairs_file(path)) == [[1, 2, 3], [9, 1]]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("1 1\n1 2\n1 2 3\n", r"p\.txt: line 3: expected 2 columns \(user item\), found 3"),
        ("1 1\n1\n", r"p\.txt: line 2: expected 2 columns"),
        ("1 1\nu2 2\n", r"p\.txt: line 2: non-integer id 'u2'"),
        ("", r"p\.txt: empty file"),
    ],
)
def test_pairs_errors(tmp_path, text, match):
    expect_error(match, read_pairs_file, write(tmp_path, "p.txt", text))


# ---------------------------------------------------------------- RecBole atomic .inter


def test_recbole_inter_finds_columns_by_name(tmp_path):
    text = (
        "timestamp:float\titem_id:token\tuser_id:token\trating:float\n"
        "30\tb\tu1\t4\n10\ta\tu1\t5\n20\tc\tu2\t3\n"
    )
    frame = read_recbole_inter(write(tmp_path, "x.inter", text))
    assert frame["user"].tolist() == ["u1", "u1", "u2"]
    assert frame["item"].tolist() == ["b", "a", "c"]
    assert frame["timestamp"].tolist() == [30, 10, 20]
    assert frame["rating"].tolist() == [4, 5, 3]


def test_recbole_inter_prepared_chronologically_with_stable_ties(tmp_path):
    text = "user_id:token\titem_id:token\ttimestamp:float\nu\tc\t5\nu\ta\t1\nu\tb\t5\nv\ta\t2\n"
    data = prepare_interactions(read_recbole_inter(write(tmp_path, "x.inter", text)), "x")
    # u: a(1), then the tie c,b at 5 in file order -> ids a=1, c=2, b=3
    assert as_lists(data.sequences()) == [[1, 2, 3], [1]]


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("user_id:token\titem_id:token\n1\t2\n", r"x\.inter: line 1: header lacks column\(s\) timestamp"),
        ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t2\n", r"x\.inter: line 3: expected 3 fields, found 2"),
        ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\t3\n1\t2\tsoon\n", r"x\.inter: line 3: timestamp is not a number"),
        ("user_id:token\titem_id:token\ttimestamp:float\n", r"x\.inter: empty file \(header only\)"),
        ("", r"x\.inter: empty file"),
    ],
)  # fmt: skip
def test_recbole_inter_errors(tmp_path, text, match):
    expect_error(match, read_recbole_inter, write(tmp_path, "x.inter", text))


# ---------------------------------------------------------------- Amazon Reviews 2023 CSVs

HEADER = "user_id,parent_asin,rating,timestamp,history\n"


def test_amazon2023_rating_only(tmp_path):
    path = write(
        tmp_path, "r.csv", "user_id,parent_asin,rating,timestamp\nU1,B01,5.0,100\nU1,B02,4.0,90\n"
    )
    frame = read_amazon2023_csv(path)
    assert frame.columns.tolist() == ["user", "item", "timestamp", "rating"]
    assert frame["timestamp"].tolist() == [100, 90]


def test_amazon2023_csv_gz(tmp_path):
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress(b"user_id,parent_asin,rating,timestamp\nU1,B01,5.0,100\n"))
    assert read_amazon2023_csv(path)["item"].tolist() == ["B01"]


def test_amazon2023_last_out_rebuilds_full_sequences(tmp_path):
    train = write(
        tmp_path,
        "t.csv",
        HEADER + "U1,A,5,10,\nU1,B,5,20,A\nU2,C,4,5,\nU2,A,4,6,C\nU1,C,3,30,A B\n",
    )
    # U2's valid and test share timestamp 7: the official order (valid, then test) must hold
    valid = write(tmp_path, "v.csv", HEADER + "U1,D,5,40,A B C\nU2,E,5,7,C A\n")
    test = write(tmp_path, "e.csv", HEADER + "U1,E,5,50,A B C D\nU2,B,5,7,C A E\n")
    frame = read_amazon2023_last_out(train, valid, test)
    data = prepare_interactions(frame, "amz")
    # each user's sequence = history of the test row + the test target
    ids = {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert as_lists(data.sequences()) == [
        [ids[x] for x in "A B C D E".split()],
        [ids[x] for x in "C A E B".split()],
    ]


def test_amazon2023_errors(tmp_path):
    bad_header = write(tmp_path, "h.csv", "user_id,asin,rating,timestamp\nU,B,1,2\n")
    expect_error(
        r"h\.csv: line 1: header lacks column\(s\) parent_asin", read_amazon2023_csv, bad_header
    )
    extra = write(tmp_path, "c.csv", HEADER + "U,B,1,2,\nU,B,1,2,,\n")
    expect_error(r"c\.csv: line 3: expected 5 fields, found 6", read_amazon2023_csv, extra)
    ok = write(tmp_path, "ok.csv", HEADER + "U,B,1,2,\n")
    twice = write(tmp_path, "v.csv", HEADER + "U,B,1,3,\nU,C,1,4,\n")
    expect_error(
        r"v\.csv: line 3: user 'U' has a second row", read_amazon2023_last_out, ok, twice, ok
    )
    expect_error(r"e\.csv: empty file", read_amazon2023_csv, write(tmp_path, "e.csv", ""))


# ---------------------------------------------------------------- Amazon 2014 reviews


def test_amazon2014_json_gz_and_python_literal(tmp_path):
    lines = [
        json.dumps({"reviewerID": "R1", "asin": "A1", "unixReviewTime": 20, "overall": 5.0}),
        "{'reviewerID': 'R2', 'asin': 'A2', 'unixReviewTime': 10, 'overall': 4.0, 'helpful': [0, 1]}",
    ]
    gz = tmp_path / "reviews_X_5.json.gz"
    gz.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    frame = read_amazon2014_reviews(gz)
    assert frame["user"].tolist() == ["R1", "R2"]
    assert frame["timestamp"].tolist() == [20, 10]
    assert frame["rating"].tolist() == [5.0, 4.0]
    plain = write(tmp_path, "reviews.json", "\n".join(lines))
    pd.testing.assert_frame_equal(read_amazon2014_reviews(plain), frame)


def test_amazon2014_errors(tmp_path):
    good = json.dumps({"reviewerID": "R", "asin": "A", "unixReviewTime": 1})
    missing = write(tmp_path, "m.json", good + "\n" + json.dumps({"reviewerID": "R"}) + "\n")
    expect_error(
        r"m\.json: line 2: missing field\(s\) asin, unixReviewTime",
        read_amazon2014_reviews,
        missing,
    )
    broken = write(tmp_path, "b.json", good + "\n{not json\n")
    expect_error(
        r"b\.json: line 2: neither JSON nor a Python literal", read_amazon2014_reviews, broken
    )
    expect_error(r"e\.json: empty file", read_amazon2014_reviews, write(tmp_path, "e.json", ""))


# ---------------------------------------------------------------- MovieLens, LastFM, Yelp


def test_movielens_ratings_dat(tmp_path):
    frame = read_movielens_ratings(
        write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    )
    assert frame.to_dict("list") == {
        "user": [1, 1], "item": [1193, 661], "rating": [5, 3], "timestamp": [978300760, 978302109],
    }  # fmt: skip
    bad = write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3\n")
    expect_error(r"ratings\.dat: line 2: expected 4 columns", read_movielens_ratings, bad)


def test_movielens_udata(tmp_path):
    frame = read_movielens_udata(write(tmp_path, "u.data", "196\t242\t3\t881250949\n"))
    assert frame.iloc[0].tolist() == [196, 242, 3, 881250949]


def test_lastfm_tags_skips_header_and_counts_lines_from_it(tmp_path):
    text = (
        "userID\tartistID\ttagID\ttimestamp\n2\t52\t13\t1238536800000\n2\t52\t15\t1238536800000\n"
    )
    frame = read_lastfm_tags(write(tmp_path, "t.dat", text))
    assert frame.columns.tolist() == ["user", "item", "timestamp"]
    assert len(frame) == 2
    bad = write(tmp_path, "t.dat", text + "2\t53\t1\n")
    expect_error(r"t\.dat: line 4: expected 4 columns", read_lastfm_tags, bad)


def test_yelp_reviews_date_window(tmp_path):
    rows = [
        {"user_id": "u", "business_id": "a", "stars": 5, "date": "2018-12-31 23:59:59"},
        {"user_id": "u", "business_id": "b", "stars": 4, "date": "2019-03-01 10:00:00"},
        {"user_id": "u", "business_id": "c", "stars": 4, "date": "2019-12-31 12:00:00"},
    ]
    path = write(tmp_path, "y.json", "\n".join(json.dumps(r) for r in rows))
    frame = read_yelp_reviews(path, "2019-01-01 00:00:00", "2019-12-31 00:00:00")
    assert frame["item"].tolist() == ["b"]
    assert frame["timestamp"].tolist() == [20190301100000]
