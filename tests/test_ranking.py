"""Relevance ranking from posting arrays equals Whoosh's own exhaustive BM25F ranking."""

from __future__ import annotations

import json

import numpy as np
import pytest
from whoosh import query as wq

import corpus_search as cs
from corpus_search import _segwriter
from corpus_search._postings import _title_phrase, query_docs, ranked
from corpus_search._query import parse_query
from corpus_search._search import search
from corpus_search.synthetic import generate

QUERIES = [
    "sanctions",
    "talks",
    "kyiv talks",
    "sanctions OR ceasefire OR inflation",
    "talks NOT kyiv",
    "deal -plan",
    "(deal OR plan) AND NOT talks",
    "title:talks",
    'outlet:"Outlet B" talks',
    "said",
    '"prime minister"',
    "statement^3 told",
    'title:"anna petrov"',
    'title:"the anna petrov"',
    'title:"petrov anna"',
    'title:"anna novak"^2 OR talks',
    'title:"anna petrov" -title:"the anna"',
]
LEFT_TO_WHOOSH = {'"prime minister"'}  # a phrase in the body: Whoosh's matchers rank it


@pytest.fixture(scope="module")
def synthetic_index(tmp_path_factory: pytest.TempPathFactory) -> cs.Snapshot:
    root = tmp_path_factory.mktemp("ranking")
    with open(root / "a.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in generate(600, seed=3))
    cs.build([root / "a.jsonl"], root / "index", entities=False, progress=False)
    return cs.open_index(root / "index").snapshot()


@pytest.mark.parametrize("query", QUERIES)
def test_array_scores_equal_whoosh(synthetic_index: cs.Snapshot, query: str) -> None:
    """Same documents, same scores (to rounding) as Whoosh's matchers over every hit."""
    s, q = synthetic_index.searcher, parse_query(synthetic_index, query)
    got = ranked(s, q, len(synthetic_index.live), synthetic_index.titles)
    expected = {h.docnum: h.score for h in s.search(q, limit=None)}
    if got is None:
        assert query in LEFT_TO_WHOOSH
        return
    mask, scores = got
    assert sorted(expected) == np.flatnonzero(mask).tolist()
    assert [expected[d] for d in sorted(expected)] == pytest.approx(
        scores[sorted(expected)].tolist(), rel=1e-12
    )


@pytest.mark.parametrize("query", QUERIES)
def test_search_pages_follow_exhaustive_ranking(synthetic_index: cs.Snapshot, query: str) -> None:
    """Pages 1 and 2 are the exhaustive ranking's (score desc, then docnum), filters applied."""
    s, q = synthetic_index.searcher, parse_query(synthetic_index, query)
    order = [
        h.docnum
        for h in sorted(s.search(q, limit=None), key=lambda h: (-round(h.score, 9), h.docnum))
    ]
    ids = synthetic_index.doc_ids
    for page in (1, 2):
        res = search(synthetic_index, query, limit=5, page=page, facets=False, snippets=False)
        assert [ids[d] for d in order[(page - 1) * 5 : page * 5]] == res.hits["doc_id"].tolist()


def test_quality_skipping_is_not_used(synthetic_index: cs.Snapshot) -> None:
    """The first hit is the best of the exhaustive ranking (Whoosh's quality skipping is not)."""
    res = search(synthetic_index, "talks NOT kyiv", limit=10, facets=False, snippets=False)
    s = synthetic_index.searcher
    best = max(
        h.score for h in s.search(parse_query(synthetic_index, "talks NOT kyiv"), limit=None)
    )
    assert best == pytest.approx(res.hits["score"].iloc[0], rel=1e-12)


@pytest.mark.parametrize(
    "phrase",
    ["anna petrov", "the anna petrov", "petrov anna", "anna", "to anna petrov", "no such words"],
)
def test_title_phrases_match_whoosh(synthetic_index: cs.Snapshot, phrase: str) -> None:
    """A title phrase found on the title arrays finds the articles Whoosh's matcher does."""

    s = synthetic_index.searcher
    q = wq.Phrase("title", phrase.split())
    assert _title_phrase(synthetic_index.titles, q) is not None  # by the arrays, not Whoosh
    expected = sorted(s.docs_for_query(q))
    got = query_docs(s, q, len(synthetic_index.live), synthetic_index.titles)
    assert expected == np.flatnonzero(got).tolist()


def _add_documents_commit(writer, docs: list[dict], *, two_processes: bool = False) -> None:
    """How the build wrote segments before the bulk writer: add_document, then commit."""
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()


@pytest.fixture(scope="module")
def add_document_index(tmp_path_factory: pytest.TempPathFactory) -> cs.Snapshot:
    """The synthetic corpus of ``synthetic_index`` built with Whoosh's add_document."""
    root = tmp_path_factory.mktemp("ranking-old")
    with open(root / "a.jsonl", "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in generate(600, seed=3))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_segwriter, "commit", _add_documents_commit)
        cs.build([root / "a.jsonl"], root / "index", entities=False, progress=False)
    return cs.open_index(root / "index").snapshot()


@pytest.mark.parametrize("query", QUERIES)
def test_bulk_segments_search_as_add_document_ones(
    synthetic_index: cs.Snapshot, add_document_index: cs.Snapshot, query: str
) -> None:
    """The build's bulk-written segments give the answers (hits, scores, totals, facets)
    an index written by Whoosh's add_document gives, through the project's search."""
    got = search(synthetic_index, query, limit=20, snippets=False)
    expected = search(add_document_index, query, limit=20, snippets=False)
    assert expected.total == got.total
    assert expected.hits["doc_id"].tolist() == got.hits["doc_id"].tolist()
    assert expected.hits["score"].tolist() == got.hits["score"].tolist()
    assert sorted(expected.facets) == sorted(got.facets)
    for name, table in expected.facets.items():
        assert table.to_dict("records") == got.facets[name].to_dict("records")
