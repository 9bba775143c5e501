"""Every documented date query form matches a plain count of the stored dates."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search.cli import main

START = date(2022, 5, 20)
DAYS = 140


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> tuple[cs.Index, list[date]]:
    """One article a day from 2022-05-20 for 140 days, in mixed date formats."""
    root = tmp_path_factory.mktemp("dated")
    days = [START + timedelta(days=i) for i in range(DAYS)]
    forms = ["{d:%Y-%m-%d}T10:00:00", "{d:%Y-%m-%d}T13:24:30.615Z", "{d:%Y-%m-%d}"]
    recs = [{"id": str(i), "title": f"Day {i}", "text": f"Grain news number {i}.",
             "date": forms[i % 3].format(d=d)} for i, d in enumerate(days)]
    (root / "a.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    cs.build([root / "a.jsonl"], root / "ix", entities=False, progress=False)
    return cs.open_index(root / "ix"), days


def _count(days: list[date], lo: date | None, hi: date | None) -> int:
    return sum(1 for d in days if (lo is None or d >= lo) and (hi is None or d <= hi))


@pytest.mark.parametrize(("query", "lo", "hi"), [
    ("date:[2022-06-01 to 2022-06-30]", date(2022, 6, 1), date(2022, 6, 30)),
    ("date:[20220601 to 20220630]", date(2022, 6, 1), date(2022, 6, 30)),
    ("date:[2022-09-01 to]", date(2022, 9, 1), None),
    ("date:[to 2022-06-01]", None, date(2022, 6, 1)),
    ("date:>2022-09-01", date(2022, 9, 2), None),
    ("date:>=2022-09-01", date(2022, 9, 1), None),
    ("date:<2022-06-01", None, date(2022, 5, 31)),
    ("date:<=2022-06-01", None, date(2022, 6, 1)),
    ("date:2022-06", date(2022, 6, 1), date(2022, 6, 30)),
    ("date:2022-06-15", date(2022, 6, 15), date(2022, 6, 15)),
    ("date:[2022-06 to 2022-07]", date(2022, 6, 1), date(2022, 7, 31)),
    ("date:2022", date(2022, 1, 1), date(2022, 12, 31)),
])
def test_date_query_matches_plain_count(dated: tuple[cs.Index, list[date]], query: str,
                                        lo: date | None, hi: date | None) -> None:
    """The query finds exactly the articles whose date falls in the stated days."""
    index, days = dated
    assert _count(days, lo, hi) == index.search(query).total
    assert _count(days, lo, hi) == index.search(f"grain AND {query}").total


@pytest.mark.parametrize("query", ["date:2022-13", "date:[2022-06-31 to 2022-07-01]",
                                   "date:xyz", "date:[2022-07-01 to 2022-06-01]",
                                   'date:""'])
def test_unreadable_dates_say_so(dated: tuple[cs.Index, list[date]], query: str) -> None:
    """A date that cannot be read is a QueryError with a runnable suggestion, not a no-op."""
    index, _ = dated
    with pytest.raises(cs.QueryError) as info:
        index.search(f"grain {query}")
    assert "date" in info.value.message
    assert index.search(info.value.suggestion).total == DAYS


def test_summary_and_articles_with_mixed_fractions(dated: tuple[cs.Index, list[date]]) -> None:
    """Dates with and without fractional seconds read back in one column (no crash)."""
    index, days = dated
    assert index.articles()["date"].notna().sum() == DAYS
    assert str(days[-1]) == str(index.summary()["last"].iloc[0].date())


def test_dates_parameter_matches_query(dated: tuple[cs.Index, list[date]]) -> None:
    """``dates=(from, to)`` selects what the equivalent date: range selects."""
    index, _ = dated
    assert (index.search("date:[2022-06-01 to 2022-06-30]").total
            == index.search("*", dates=("2022-06-01", "2022-06-30")).total)


def test_undated_corpus_says_it_has_no_dates(tmp_path: Path) -> None:
    """Date queries, date ranges and monthly counts on an undated corpus say so plainly."""
    (tmp_path / "a.txt").write_text("Grain\n\nGrain prices rose.")
    cs.build([tmp_path], tmp_path / "ix", entities=False, progress=False)
    index = cs.open_index(tmp_path / "ix")
    for call in (lambda: index.search("date:2022"),
                 lambda: index.search("*", dates=("2022-01-01", None)),
                 lambda: index.term_frequency("grain", by="month"),
                 lambda: index.crosstab("outlet", "month")):
        with pytest.raises(cs.QueryError, match="no dates"):
            call()


def test_cli_months_on_an_undated_corpus(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``terms --by month`` on an undated corpus is one line saying so, exit status 2 (it
    printed a raw ``Empty DataFrame``)."""
    (tmp_path / "a.txt").write_text("Grain\n\nGrain prices rose.")
    cs.build([tmp_path], tmp_path / "ix", entities=False, progress=False)
    assert main(["terms", "grain", "--by", "month", "--index", str(tmp_path / "ix")]) == 2
    out, err = capsys.readouterr()
    assert (out, len(err.strip().splitlines())) == ("", 1)
    assert "no dates" in err


def test_suggestion_without_the_date_runs(dated: tuple[cs.Index, list[date]]) -> None:
    """The suggestion after a bad date leaves no dangling AND (it offered "grain AND")."""
    index, _ = dated
    with pytest.raises(cs.QueryError) as info:
        index.search("grain AND date:2022-13")
    assert info.value.suggestion == "grain"
