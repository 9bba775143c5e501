"""Dates: one parser for every form a news corpus brings, one stored ISO form, query bounds."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest

from corpus_search import _corpus
from corpus_search._dates import DATE_FORMAT, parse_date, parse_date_bound, to_iso


@pytest.mark.parametrize(("value", "expected"), [
    ("2022-06-11T00:57:56", datetime(2022, 6, 11, 0, 57, 56)),
    ("2022-05-31T13:24:30.615Z", datetime(2022, 5, 31, 13, 24, 30, 615000)),
    ("2022-06-11T02:57:56+02:00", datetime(2022, 6, 11, 0, 57, 56)),
    ("2022-06-11 02:57:56 +0200", datetime(2022, 6, 11, 0, 57, 56)),
    ("Mon, 09 Jan 2022 10:00:00 GMT", datetime(2022, 1, 9, 10, 0, 0)),
    ("Mon, 09 Jan 2022 12:00:00 +0200", datetime(2022, 1, 9, 10, 0, 0)),
    ("9 January 2022", datetime(2022, 1, 9)),
    ("June 9, 2022", datetime(2022, 6, 9)),
    ("2022-06-11", datetime(2022, 6, 11)),
    ("2022/06/11", datetime(2022, 6, 11)),
    (datetime(2022, 6, 11, 1, 2, 3), datetime(2022, 6, 11, 1, 2, 3)),
    (pd.Timestamp("2022-06-11T01:02:03Z"), datetime(2022, 6, 11, 1, 2, 3)),
    ("", None),
    ("   ", None),
    (None, None),
    (float("nan"), None),
])
def test_parse_date_forms(value: object, expected: datetime | None) -> None:
    """Every common news date form parses to naive UTC; missing stays missing."""
    assert expected == parse_date(value)


@pytest.mark.parametrize("garbage", ["yesterday-ish", "12", "2022-13-45", "not a date",
                                     "31/31/2022", "0000-00-00", "9999-01-01"])
def test_garbage_raises_one_line(garbage: str) -> None:
    """Garbage raises a one-line ValueError that quotes the value."""
    with pytest.raises(ValueError, match=r"^[^\n]+$") as err:
        parse_date(garbage)
    assert garbage[:10] in str(err.value)


def test_corpus_parse_date_is_the_one_parser() -> None:
    """The corpus reader uses the same parser object (re-exported under its old name)."""
    assert parse_date is _corpus.parse_date


def test_to_iso_is_uniform_and_pandas_reads_a_mix() -> None:
    """Dates with and without fractions or zones are written alike, and pandas reads them."""
    values = ["2022-06-11T00:57:56", "2022-05-31T13:24:30.615Z", "9 January 2022",
              "Mon, 09 Jan 2022 10:00:00 GMT"]
    stored = [to_iso(parse_date(v)) for v in values]
    assert stored == ["2022-06-11T00:57:56", "2022-05-31T13:24:30", "2022-01-09T00:00:00",
            "2022-01-09T10:00:00"]
    parsed = pd.to_datetime(pd.Series(stored), format=DATE_FORMAT)
    assert pd.Timestamp("2022-05-31T13:24:30") == parsed[1]
    assert to_iso(None) is None


def test_isoformat_mix_was_the_crash() -> None:
    """The crash this replaces: isoformat() with and without microseconds do not mix."""
    mixed = pd.Series([datetime(2022, 6, 11, 0, 57, 56).isoformat(),
                       datetime(2022, 5, 31, 13, 24, 30, 615000).isoformat()])
    with pytest.raises(ValueError):
        pd.to_datetime(mixed)
    assert pd.to_datetime(mixed.map(lambda s: to_iso(parse_date(s))),
                               format=DATE_FORMAT).notna().sum() == 2


@pytest.mark.parametrize(("text", "end", "expected"), [
    ("2022", False, datetime(2022, 1, 1)),
    ("2022", True, datetime(2022, 12, 31, 23, 59, 59)),
    ("2022-06", False, datetime(2022, 6, 1)),
    ("2022-06", True, datetime(2022, 6, 30, 23, 59, 59)),
    ("2022-02", True, datetime(2022, 2, 28, 23, 59, 59)),
    ("2022-06-01", False, datetime(2022, 6, 1)),
    ("2022-06-30", True, datetime(2022, 6, 30, 23, 59, 59)),
    ("20220630", True, datetime(2022, 6, 30, 23, 59, 59)),
    ("202206", False, datetime(2022, 6, 1)),
    ("9 June 2022", True, datetime(2022, 6, 9, 23, 59, 59)),
    ("2022-06-30T12:00:00", True, datetime(2022, 6, 30, 12, 0, 0)),
])
def test_parse_date_bound(text: str, end: bool, expected: datetime) -> None:
    """Partial query bounds widen to the start or end of the year, month or day."""
    assert expected == parse_date_bound(text, end=end)


@pytest.mark.parametrize("text", ["", "June", "2022-13", "20221", "next week", "2022-06-31"])
def test_bad_bound_raises(text: str) -> None:
    """A bound that cannot be read raises a one-line ValueError naming the forms."""
    with pytest.raises(ValueError, match="2022-06"):
        parse_date_bound(text, end=False)
