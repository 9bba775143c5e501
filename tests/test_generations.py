"""Readers see one whole generation per call; builds recover from any state a crash
leaves (issue 14, items 1 and 2)."""

from __future__ import annotations

import json
import multiprocessing
import shutil
import time
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _search

OUTLETS = ("Alpha", "Beta", "Gamma")


def _write(corpus: Path, n: int, start: int = 0) -> None:
    """``n`` articles (ids start..start+n-1), each with an outlet, into one JSONL file."""
    recs = [{"id": str(i), "title": f"Report {i}", "text": f"Grain talks, report {i}.",
             "outlet": OUTLETS[i % 3]} for i in range(start, start + n)]
    corpus.write_text("\n".join(json.dumps(r) for r in recs))


def _build(corpus: Path, ix: Path) -> cs.BuildReport:
    return cs.build([corpus], ix, entities=False, progress=False)


def _consistent(res: cs.SearchResult) -> tuple[int, int]:
    return res.total, int(res.facets["outlet"]["count"].sum())


def test_open_reader_follows_a_shrinking_build(tmp_path: Path) -> None:
    """After a build removes half the articles, an open reader's next call sees 20 of
    20: total, facets and hits agree, no deleted article among the hits."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 40)
    _build(corpus, tmp_path / "ix")
    ix = cs.open_index(tmp_path / "ix")
    assert _consistent(ix.search("*", limit=50)) == (40, 40)
    _write(corpus, 20)
    _build(corpus, tmp_path / "ix")
    res = ix.search("*", limit=50)
    assert _consistent(res) == (20, 20)
    assert {f"a.jsonl#{i}" for i in range(20)} == set(res.hits["doc_id"])


def test_open_reader_follows_a_growing_build(tmp_path: Path) -> None:
    """After a build adds articles, ``*`` (parsed before anything refreshes in the old
    code) answers from the new generation without an IndexError."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 20)
    _build(corpus, tmp_path / "ix")
    ix = cs.open_index(tmp_path / "ix")
    ix.search("*")
    _write(corpus, 40)
    _build(corpus, tmp_path / "ix")
    assert _consistent(ix.search("*")) == (40, 40)
    assert len(ix.articles()) == 40
    assert int(ix.summary()["articles"].sum()) == 40


def test_articles_and_summary_follow_builds(tmp_path: Path) -> None:
    """articles() and summary() read the current generation, also two builds later."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 10)
    _build(corpus, tmp_path / "ix")
    ix = cs.open_index(tmp_path / "ix")
    assert len(ix.articles()) == 10
    for n in (12, 15):
        _write(corpus, n)
        _build(corpus, tmp_path / "ix")
    assert len(ix.articles()) == 15
    assert int(ix.summary()["articles"].sum()) == 15


def test_a_query_during_a_publish_uses_one_generation(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A build that publishes in the middle of a search (between the masks and the rows)
    does not leak into it: the whole answer is the old generation's, and the old
    generation stays on disk until the reader lets go of it."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 30)
    _build(corpus, tmp_path / "ix")
    ix = cs.open_index(tmp_path / "ix")
    old = ix.generation
    real = _search.hit_rows

    def build_then_rows(*args: object, **kwargs: object):
        monkeypatch.setattr(_search, "hit_rows", real)
        _write(corpus, 12, start=100)  # every article replaced
        _build(corpus, tmp_path / "ix")
        return real(*args, **kwargs)

    monkeypatch.setattr(_search, "hit_rows", build_then_rows)
    res = ix.search("grain", limit=50)
    assert _consistent(res) == (30, 30)
    assert {f"a.jsonl#{i}" for i in range(30)} == set(res.hits["doc_id"])
    assert (tmp_path / "ix" / old).is_dir()  # still held by the reader's snapshot
    res = ix.search("grain", limit=50)  # the next call: the new generation, whole
    assert _consistent(res) == (12, 12)
    assert {f"a.jsonl#{i}" for i in range(100, 112)} == set(res.hits["doc_id"])
    _write(corpus, 13, start=100)
    _build(corpus, tmp_path / "ix")  # the old generation, no longer held, goes
    assert not (tmp_path / "ix" / old).exists()


def test_a_held_snapshot_answers_from_its_generation(tmp_path: Path) -> None:
    """A snapshot taken before two builds still answers, whole, from its generation."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 9)
    _build(corpus, tmp_path / "ix")
    ix = cs.open_index(tmp_path / "ix")
    snap = ix.snapshot()
    for n in (5, 7):
        _write(corpus, n)
        _build(corpus, tmp_path / "ix")
    assert _search.search(snap, "grain").total == 9
    assert len(snap.articles()) == 9
    assert ix.search("grain").total == 7


def test_build_recovers_from_a_kill_between_rename_and_switch(tmp_path: Path) -> None:
    """A complete generation that CURRENT never named, and a temp folder, are cleaned up
    by the next build, which publishes normally (it used to fail on every build)."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 10)
    ix_dir = tmp_path / "ix"
    _build(corpus, ix_dir)
    shutil.copytree(ix_dir / "gen-000001", ix_dir / "gen-000002")  # renamed, not published
    (ix_dir / "gen-000003.tmp-99999").mkdir()
    _write(corpus, 11)
    report = _build(corpus, ix_dir)
    assert sorted(report.recovered) == ["gen-000002", "gen-000003.tmp-99999"]
    assert cs.open_index(ix_dir).search("grain").total == 11
    assert [report.generation] == sorted(p.name for p in ix_dir.glob("gen-*"))


def test_first_build_recovers_from_a_leftover_generation(tmp_path: Path) -> None:
    """A first build killed after its rename (no CURRENT yet) does not block the next."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 10)
    ix_dir = tmp_path / "ix"
    _build(corpus, ix_dir)
    (ix_dir / "CURRENT").unlink()
    report = _build(corpus, ix_dir)
    assert "gen-000001" in report.recovered
    assert cs.open_index(ix_dir).search("grain").total == 10


# --- many readers, many builds ---------------------------------------------------------------


def _reader(ix_dir: str, stop: str, out: str) -> None:
    """Query until ``stop`` exists; record (queries, errors, inconsistent answers)."""
    ix = cs.open_index(ix_dir)
    queries = errors = bad = 0
    while not Path(stop).exists():
        try:
            res = ix.search("*", limit=100, facets=["outlet"])
            grain = ix.search("grain", limit=100, facets=["outlet"])
            for r in (res, grain):
                ids = set(r.hits["doc_id"])
                size = r.total
                if (size, size, size) != (int(r.facets["outlet"]["count"].sum()), len(ids),
                                          len({i.split("#")[1] for i in ids} & {
                                              str(n) for n in range(size)})):
                    bad += 1
            queries += 2
            Path(out + ".ready").touch()
        except Exception:  # counted: that is the test
            errors += 1
    Path(out).write_text(json.dumps([queries, errors, bad]))


def test_readers_during_builds_never_mix_generations(tmp_path: Path) -> None:
    """Three reader processes query while six builds shrink and grow the corpus: every
    answer is whole (total = facet sum = hits = one generation's ids), none errors."""
    corpus = tmp_path / "a.jsonl"
    _write(corpus, 30)
    ix_dir = tmp_path / "ix"
    _build(corpus, ix_dir)
    stop = tmp_path / "stop"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_reader, args=(str(ix_dir), str(stop), str(tmp_path / f"r{i}")))
             for i in range(3)]
    for p in procs:
        p.start()
    deadline = time.monotonic() + 90
    while not all((tmp_path / f"r{i}.ready").exists() for i in range(3)):
        assert time.monotonic() < deadline, "readers did not start"
        time.sleep(0.2)
    for n in (60, 20, 45, 30, 70, 25):
        _write(corpus, n)
        _build(corpus, ix_dir)
    stop.touch()
    for p in procs:
        p.join(60)
    results = [json.loads((tmp_path / f"r{i}").read_text()) for i in range(3)]
    assert all(q > 10 for q, _, _ in results), results
    assert [(e, b) for _, e, b in results] == [(0, 0)] * 3
