"""Flat postings files read the same postings as Whoosh's own matchers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _build as build_module
from corpus_search import _postings, _segwriter
from corpus_search.synthetic import generate


def _write(path: Path, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)


def _whoosh_postings(reader, field: str, text: bytes) -> tuple[list[int], list[float]]:
    m = reader.postings(field, text)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory: pytest.TempPathFactory) -> cs.Snapshot:
    """600 articles on two cores, then 40 changed, 30 removed and 50 added: three segments
    (two with deletions), each with flat postings for terms in at least 10 articles,
    written in many small appends."""
    root = tmp_path_factory.mktemp("postings")
    records = list(generate(600, seed=11))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_postings, "FLAT_MIN_DF", 10)
        mp.setattr(_postings, "_FLUSH", 1000)  # many appends to the files, as at 100k
        mp.setattr(build_module, "PARALLEL_MIN_ARTICLES", 300)
        _write(root / "a.jsonl", records)
        cs.build([root / "a.jsonl"], root / "index", entities=False, progress=False)
        for r in records[:40]:
            r["text"] += " An added sentence about sanctions."
        added = [dict(r, id="new-" + r["id"]) for r in generate(50, seed=12)]
        _write(root / "a.jsonl", records[:-30] + added)
        report = cs.build([root / "a.jsonl"], root / "index", entities=False, progress=False)
    assert (report.added, report.updated, report.removed) == (50, 40, 30)
    return cs.open_index(root / "index").snapshot()


def test_every_segment_has_flat_postings(updated_index: cs.Snapshot) -> None:
    """Each segment's flat files exist and hold both fields' common terms."""
    leaves = updated_index.searcher.reader().leaf_readers()
    flats = [_postings._flat(leaf) for leaf, _ in leaves]
    assert len(flats) == 3
    assert [leaf.has_deletions() for leaf, _ in leaves] == [True, True, False]
    assert all(f is not None for f in flats)
    assert all(f.terms("body") and f.terms("pairs") and f.terms("title") for f in flats)
    # Bulk-written segments keep their whole-number weights in two bytes (what
    # test_flat_postings_equal_whoosh then reads back as Whoosh's float weights).
    assert [f.freqs.dtype.name for f in flats] == ["uint16"] * 3


@pytest.mark.parametrize("field", ["body", "pairs", "title"])
def test_flat_postings_equal_whoosh(updated_index: cs.Snapshot, field: str) -> None:
    """Every term with flat postings, and rarer ones: the same docnums and weights as
    Whoosh's matchers, deletions left out."""
    reader = updated_index.searcher.reader()
    flat = {t for leaf, _ in reader.leaf_readers() for t in _postings._flat(leaf).terms(field)}
    rarer = [t for t, _ in zip(reader.lexicon(field), range(300), strict=False) if t not in flat]
    assert len(flat) > 20
    terms = sorted(flat) + rarer
    for text in terms:
        ids, weights = _postings.postings(reader, field, text)
        expected_ids, expected_weights = _whoosh_postings(reader, field, text)
        assert expected_ids == ids.tolist(), text
        assert expected_weights == weights.tolist(), text
        assert updated_index.live[ids].all()


def test_bulk_and_add_document_segments_have_the_same_flat_postings(
    updated_index: cs.Index, tmp_path: Path
) -> None:
    """The same corpus and update built with Whoosh's add_document (flat files teed from
    its pool): the same flat postings, term by term, as the bulk-written segments."""

    def add_documents(writer, docs: list[dict], *, two_processes: bool = False) -> None:
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()

    records = list(generate(600, seed=11))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_postings, "FLAT_MIN_DF", 10)
        mp.setattr(_segwriter, "commit", add_documents)
        _write(tmp_path / "a.jsonl", records)
        cs.build([tmp_path / "a.jsonl"], tmp_path / "index", entities=False, progress=False)
        for r in records[:40]:
            r["text"] += " An added sentence about sanctions."
        added = [dict(r, id="new-" + r["id"]) for r in generate(50, seed=12)]
        _write(tmp_path / "a.jsonl", records[:-30] + added)
        cs.build([tmp_path / "a.jsonl"], tmp_path / "index", entities=False, progress=False)
    old_index = cs.open_index(tmp_path / "index").snapshot()  # kept: its searcher closes with it
    old = old_index.searcher.reader()
    new = updated_index.searcher.reader()
    assert old.doc_count() == new.doc_count()
    for field in ("body", "pairs", "title"):
        terms = {t for leaf, _ in new.leaf_readers() for t in _postings._flat(leaf).terms(field)}
        assert len(terms) > 20
        for text in sorted(terms):
            a, b = _postings.postings(old, field, text), _postings.postings(new, field, text)
            assert [old.stored_fields(d)["doc_id"] for d in a[0].tolist()] == [
                new.stored_fields(d)["doc_id"] for d in b[0].tolist()
            ], text
            assert a[1].tolist() == b[1].tolist(), text
