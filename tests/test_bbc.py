"""The 2,225-article BBC corpus from ../shared: realistic size (skipped when absent)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from whoosh import query as wq

import corpus_search as cs
from corpus_search import _analysis as analysis
from corpus_search._terms import term_counts

from .test_analysis import _assert_same_as_whoosh

pytestmark = pytest.mark.bbc


def test_bbc_build_and_rebuild(bbc_path: Path, bbc_index_dir: Path) -> None:
    """All 2,225 files are accounted for; a second build finds everything unchanged quickly."""
    started = time.perf_counter()
    again = cs.build([bbc_path], bbc_index_dir, outlet="BBC News", progress=False)
    seconds = time.perf_counter() - started
    # 2,125 distinct texts; the other 100 files are byte-identical copies.
    assert (again.total, again.added, again.unchanged,
                                    len(again.duplicates)) == (2125, 0, 2125, 100)
    assert again.skipped == []
    notes = {Path(n.path).relative_to(bbc_path).as_posix(): n.reason for n in again.notes}
    assert notes["sport/199.txt"] == "not UTF-8; decoded as cp1252"
    assert seconds < 15


def test_bbc_sport_199_is_searchable(bbc_index_dir: Path) -> None:
    """The cp1252 file is indexed and its text decoded."""
    index = cs.open_index(bbc_index_dir)
    art = index.show("sport/199")
    assert art.title
    assert "\ufffd" not in art.text


def test_bbc_facets(bbc_index_dir: Path) -> None:
    """Tony Blair leads the people of political articles; surnames are merged."""
    index = cs.open_index(bbc_index_dir)
    res = index.search("election", facet_limit=None)
    people = dict(zip(res.facets["person"]["value"], res.facets["person"]["count"],
                      strict=True))
    assert res.facets["person"]["value"].iloc[0] == "Tony Blair"
    assert "Blair" not in people
    assert {"BBC News": res.total} == dict(zip(res.facets["outlet"]["value"],
                                               res.facets["outlet"]["count"], strict=True))


BBC_PHRASES = ['"prime minister"', '"the government"', '"said the"', '"Tony Blair"',
               '"chancellor Gordon Brown"', '"in the first half"', '"of the"',
               '"world cup" AND england', '"mobile phone" OR "broadband"']


@pytest.mark.parametrize("query", BBC_PHRASES)
def test_bbc_phrases_match_whoosh(bbc_index_dir: Path, query: str) -> None:
    """Phrases through the pairs field find what Whoosh's positional phrase search finds."""

    _assert_same_as_whoosh(cs.open_index(bbc_index_dir), query)


@pytest.mark.parametrize("phrase", ["prime minister", "in the first half", "of the"])
def test_bbc_phrase_counts_match_whoosh_spans(bbc_index_dir: Path, phrase: str) -> None:
    """Phrase counts per article equal the spans of Whoosh's own phrase matcher."""


    index = cs.open_index(bbc_index_dir)
    m = wq.Phrase("body", analysis.analyse(phrase)).matcher(index.snapshot().searcher)
    expected = {}
    while m.is_active():
        expected[m.id()] = len(m.spans())
        m.next()
    ids, counts = term_counts(index.snapshot(), phrase, "body")
    assert expected == dict(zip(ids.tolist(), counts.tolist(), strict=True))
