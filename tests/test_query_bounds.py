"""Queries are bounded before anything is expanded (issue 14, item 4 and "Also")."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _postings


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> cs.Index:
    """The five seeds, without the entity model."""
    root = tmp_path_factory.mktemp("bounds")
    seeds = Path(__file__).resolve().parent.parent / "corpus"
    cs.build([seeds], root / "ix", entities=False, progress=False)
    return cs.open_index(root / "ix")


@pytest.mark.parametrize("query", ["stoltenberg~30", "a" * 81 + "~60",
                                   "x" * 40 + "~2", " ".join(['"'] + ["the"] * 249 + ['"'])])
def test_unbounded_queries_are_refused_quickly(index: cs.Index, query: str) -> None:
    """Fuzzy edits beyond 2, fuzzy matching of very long words and very long phrases are
    refused with a message in well under a second (they ran for seconds to minutes)."""
    started = time.perf_counter()
    with pytest.raises(cs.QueryError):
        index.search(query)
    assert time.perf_counter() - started < 1.0


def test_fuzzy_within_bounds_still_works(index: cs.Index) -> None:
    """``stoltenbreg~2`` finds Stoltenberg's articles."""
    assert index.search("stoltenberg").total == index.search("stoltenbreg~2").total


def test_huge_boost_is_clamped(index: cs.Index) -> None:
    """``NATO^1e300`` finds what ``NATO`` finds (it reported 0 hits: scores overflowed)."""
    assert index.search("NATO").total == index.search("NATO^1e300").total
    assert index.search("NATO^1e300").hits["score"].notna().all()


def test_nul_bytes_do_not_reach_the_suggestion(index: cs.Index) -> None:
    """Control characters are spaces to the parser and never come back in a suggestion."""
    res = index.search("Stoltenbreg\x00 AND \x00Ukraine")
    assert res.suggestion is None or "\x00" not in res.suggestion
    assert res.total == index.search("Stoltenbreg AND Ukraine").total


def test_every_query_has_a_time_budget(index: cs.Index, monkeypatch: pytest.MonkeyPatch) -> None:
    """A query past its time budget stops with a QueryError saying so (here a budget of
    zero seconds and a phrase checked article by article)."""
    monkeypatch.setattr(_postings, "QUERY_SECONDS", 0.0)
    for call in (lambda: index.search('"the Munich Security Conference"'),
                 lambda: index.concordance("NATO"),
                 lambda: index.term_frequency('"the Munich Security Conference"')):
        with pytest.raises(cs.QueryError, match="time budget"):
            call()
    monkeypatch.setattr(_postings, "QUERY_SECONDS", 30.0)
    assert index.search('"the Munich Security Conference"').total >= 1
