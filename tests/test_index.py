"""Building, rebuilding incrementally, failing safely, locking and refusing strange folders."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _build as build_module
from corpus_search._store import LOCK

SEEDS = Path(__file__).resolve().parent.parent / "corpus"


def test_build_counts(seed_index: cs.Index, seed_index_dir: Path) -> None:
    """The seed index holds five articles in one generation with its marker."""
    assert len(seed_index) == 5
    assert (seed_index_dir / "CURRENT").read_text().strip() == seed_index.generation
    assert (seed_index_dir / seed_index.generation / "corpus_search.json").is_file()


def test_rebuild_processes_only_new(corpus_copy: Path, tmp_path: Path) -> None:
    """A second build after adding one file indexes only that file."""
    index_dir = tmp_path / "ix"
    cs.build([corpus_copy], index_dir, progress=False)
    common = cs.open_index(index_dir).snapshot().pair_stems
    (corpus_copy / "new.txt").write_text("Kyiv talks\n\nBalloonists met in Kyiv on Monday.")
    report = cs.build([corpus_copy], index_dir, progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed, report.model_runs) == (
        1,
        0,
        5,
        0,
        1,
    )
    index = cs.open_index(index_dir)
    assert len(index) == 6
    assert index.search("balloonists").hits["doc_id"].tolist() == ["new"]
    assert common == index.snapshot().pair_stems  # chosen at the full build, kept by updates
    assert "balloonist" not in index.snapshot().pair_stems
    assert index.search('"balloonists met"').hits["doc_id"].tolist() == ["new"]


def test_unchanged_rebuild_keeps_generation(corpus_copy: Path, tmp_path: Path) -> None:
    """A build with nothing new reports everything unchanged and writes nothing."""
    index_dir = tmp_path / "ix"
    first = cs.build([corpus_copy], index_dir, progress=False)
    again = cs.build([corpus_copy], index_dir, progress=False)
    assert (5, 0, first.generation) == (again.unchanged, again.added, again.generation)


def test_changed_and_removed(corpus_copy: Path, tmp_path: Path) -> None:
    """Changed files are updated, removed files leave the index, entities follow."""
    index_dir = tmp_path / "ix"
    cs.build([corpus_copy], index_dir, progress=False)
    (corpus_copy / "003_c672599c6d8cd13a.txt").unlink()
    path = corpus_copy / "004_de08d329854fef43.txt"
    path.write_text(path.read_text() + "\nKiev responded on Tuesday.\n")
    report = cs.build([corpus_copy], index_dir, progress=False)
    assert (report.added, report.updated, report.unchanged, report.removed) == (0, 1, 3, 1)
    index = cs.open_index(index_dir)
    assert sorted(index.search("*", filters={"place": "Kyiv"}).hits["doc_id"], reverse=True) == [
        "004_de08d329854fef43",
        "001_03f7df105f449af6",
    ]


def test_failed_build_keeps_previous_index(
    corpus_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that dies after writing Whoosh files leaves the previous index in use."""
    index_dir = tmp_path / "ix"
    cs.build([corpus_copy], index_dir, progress=False)
    before = cs.open_index(index_dir).search("NATO").hits["doc_id"].tolist()
    (corpus_copy / "new.txt").write_text("NATO news\n\nNATO met again.")

    def boom(*args: object) -> None:
        raise RuntimeError("killed")

    with monkeypatch.context() as mp:  # dies after the Whoosh segment is committed
        mp.setattr(build_module, "_write_columns", boom)
        with pytest.raises(RuntimeError):
            cs.build([corpus_copy], index_dir, progress=False)
    index = cs.open_index(index_dir)
    assert before == index.search("NATO").hits["doc_id"].tolist()
    assert sorted(p.name for p in index_dir.glob("gen-*")) == ["gen-000001"]
    assert cs.build([corpus_copy], index_dir, progress=False).added == 1


def test_reader_switches_to_new_generation(corpus_copy: Path, tmp_path: Path) -> None:
    """An open index sees a finished rebuild on its next query."""
    index_dir = tmp_path / "ix"
    cs.build([corpus_copy], index_dir, progress=False)
    index = cs.open_index(index_dir)
    assert index.search("zeppelin").total == 0
    (corpus_copy / "z.txt").write_text("Zeppelin\n\nA zeppelin flew over.")
    cs.build([corpus_copy], index_dir, progress=False)
    assert index.search("zeppelin").total == 1


def test_lock_held_gives_clear_error(tmp_path: Path) -> None:
    """A second build while one holds the lock fails with a one-line message."""
    index_dir = tmp_path / "ix"
    index_dir.mkdir()
    fd = os.open(index_dir / LOCK, os.O_RDWR | os.O_CREAT)
    os.write(fd, b"pid 4242, started 2026-01-01 10:00:00")
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(cs.IndexLockedError, match="pid 4242"):
            cs.build([SEEDS], index_dir, progress=False, entities=False)
    finally:
        os.close(fd)
    assert cs.build([SEEDS], index_dir, progress=False, entities=False).added == 5


def test_strange_folder_refused(tmp_path: Path) -> None:
    """A folder with files this package did not write is never opened or written."""
    (tmp_path / "_MAIN_1.toc").write_bytes(b"not ours")
    with pytest.raises(cs.UnsafeIndexError):
        cs.open_index(tmp_path)
    with pytest.raises(cs.UnsafeIndexError):
        cs.build([SEEDS], tmp_path, progress=False, entities=False)


def test_missing_index_message(tmp_path: Path) -> None:
    """Opening a folder with no index says how to build one."""
    with pytest.raises(cs.IndexNotFoundError, match="corpus-search build"):
        cs.open_index(tmp_path / "nothing")


def test_without_entities(tmp_path: Path) -> None:
    """entities=False builds a searchable index with empty entity facets."""
    cs.build([SEEDS], tmp_path / "ix", progress=False, entities=False)
    res = cs.open_index(tmp_path / "ix").search("NATO")
    assert (res.total, len(res.facets["person"])) == (5, 0)


def test_older_format_is_rebuilt_not_refused(corpus_copy: Path, tmp_path: Path) -> None:
    """Opening an index of an older format says so; building replaces it in full."""

    ix = tmp_path / "ix"
    cs.build([corpus_copy], ix, progress=False, entities=False)
    marker = ix / (ix / "CURRENT").read_text().strip() / "corpus_search.json"
    data = json.loads(marker.read_text())
    marker.write_text(
        json.dumps(
            {**data, "format": data["format"] - 1, "config": {**data["config"], "format": "old"}}
        )
    )
    with pytest.raises(cs.IndexProblem, match="another version"):
        cs.open_index(ix)
    report = cs.build([corpus_copy], ix, progress=False, entities=False)
    assert (report.added, report.unchanged) == (5, 0)
    assert len(cs.open_index(ix)) == 5


def test_many_small_updates_then_a_large_one_lose_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Small segments merged during a two-core update stay in the index."""

    monkeypatch.setattr(build_module, "PARALLEL_MIN_ARTICLES", 6)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index_dir = tmp_path / "ix"
    words = iter(f"word{i:03d}" for i in range(1000))
    # Nine one-article updates leave five small segments (the sixth update has Whoosh
    # merge the first five; each update's article is a bulk-written segment of its own);
    # the next update, large enough for two cores, has Whoosh merge those five.
    for _ in range(9):
        (corpus / f"{next(words)}.txt").write_text(f"Title\n\nBody {next(words)} here.")
        cs.build([corpus], index_dir, entities=False, progress=False)
    assert len(cs.open_index(index_dir).snapshot().searcher.reader().leaf_readers()) == 5
    for _ in range(8):
        (corpus / f"{next(words)}.txt").write_text(f"Title\n\nBody {next(words)} here.")
    report = cs.build([corpus], index_dir, entities=False, progress=False)
    index = cs.open_index(index_dir)
    assert (report.added, len(index)) == (8, 17)
    assert index.search("body").total == 17
