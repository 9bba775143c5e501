"""Search first: the keyword index is published before entity extraction, and facets say
how far extraction has got until entities are published."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from whoosh import index as whoosh_index

import corpus_search as cs
from corpus_search import _store as store
from corpus_search._entities import Extractor
from corpus_search.cli import main

SEEDS = Path(__file__).resolve().parent.parent / "corpus"


class GatedExtractor(Extractor):
    """Finds "Stoltenberg" as a person, but only once the test opens the gate."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(n_process=1)
        self.gate = gate
        self.calls = 0

    def __getstate__(self) -> dict:
        raise TypeError("runs in this process only")

    def extract(self, texts, progress=False):
        """Wait for the gate, then one PERSON per text that names Stoltenberg."""
        self.calls += 1
        assert self.gate.wait(60)
        return [[("Jens Stoltenberg", "PERSON")] if "Stoltenberg" in t else [] for t in texts]


def _wait_for(condition, seconds: float = 60) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def _cancel(job: cs.BuildJob, gate: threading.Event) -> None:
    """Cancel a gated build, let it reach its check, and see it stop."""
    job.cancel()
    gate.set()
    with pytest.raises(cs.BuildCancelled):
        job.wait(60)


@pytest.fixture
def running(tmp_path: Path):
    """A background search-first build held at its entity extraction."""
    gate = threading.Event()
    extractor = GatedExtractor(gate)
    job = cs.build_in_background([SEEDS], tmp_path / "ix", progress=False,
                                 extractor=extractor)
    _wait_for(lambda: extractor.calls > 0 or job.done())  # waiting at the gate
    yield tmp_path / "ix", gate, job
    gate.set()
    job.cancel()
    with contextlib.suppress(cs.BuildCancelled):
        job.wait(60)


def test_search_works_before_entities(running) -> None:
    """The keyword index answers while the model is still running."""
    path, _, job = running
    index = cs.open_index(path)
    assert (job.done(), index.search("Stoltenberg").total) == (False, 3)


def test_facets_say_how_far_extraction_has_got(running) -> None:
    """Entity facets carry a note with the share done instead of silent partial counts."""
    path, _, _ = running
    df = cs.open_index(path).facets("person")
    assert (len(df), df.attrs["note"].split(" (")[0]) == (0, "entities for 0% of articles so far")


def test_entity_query_carries_the_note(running) -> None:
    """A search that filters or queries on an entity field says entities are incomplete."""
    path, _, _ = running
    index = cs.open_index(path)
    notes = [index.search("person:Stoltenberg", facets=False).entities_note is not None,
             index.search("Stoltenberg", filters={"person": "Jens Stoltenberg"},
                          facets=False).entities_note is not None,
             index.search("Stoltenberg", facets=("outlet",)).entities_note is None]
    assert notes == [True, True, True]


def test_progress_counts_chunks_as_they_finish(running) -> None:
    """The status follows the progress file while the extraction runs."""
    path, _, _ = running
    index = cs.open_index(path)
    info = json.loads((path / store.ENTITY_PROGRESS).read_text())
    (path / store.ENTITY_PROGRESS).write_text(json.dumps({**info, "done": 2}))
    status = index.entity_status()
    assert (status.running, status.done, status.covered, f"{status.share:.0%}") == (
        True, 2, 0, "40%")


def test_facets_appear_when_the_build_finishes(running) -> None:
    """An open Index sees the entity generation once it is published."""
    path, gate, job = running
    index = cs.open_index(path)
    before = index.generation
    gate.set()
    report = job.wait(60)
    df = index.facets("person")
    assert (report.keyword_generation, index.generation != before, df.attrs["note"],
            df["value"].tolist()) == (before, True, None, ["Jens Stoltenberg"])


def test_cancel_keeps_the_keyword_index(running) -> None:
    """A cancelled build stops; the keyword generation stays and says 'interrupted'."""
    path, gate, job = running
    _cancel(job, gate)
    index = cs.open_index(path)
    note = index.facets("person").attrs["note"]
    assert (index.search("Stoltenberg").total, "interrupted" in note,
            (path / store.ENTITY_PROGRESS).exists()) == (3, True, False)


def test_next_build_finishes_an_interrupted_extraction(running) -> None:
    """After a cancel, a plain build extracts only the pending articles and publishes."""
    path, gate, job = running
    _cancel(job, gate)
    extractor = GatedExtractor(gate)
    report = cs.build(None, path, progress=False, extractor=extractor)
    index = cs.open_index(path)
    assert (report.keyword_generation, report.updated, index.entity_status().complete,
            index.facets("person")["value"].tolist()) == ("", 5, True, ["Jens Stoltenberg"])


def test_killed_extraction_is_reported_interrupted(tmp_path: Path) -> None:
    """A progress file left by a dead build does not claim extraction is running."""
    gate = threading.Event()
    gate.set()
    cs.build([SEEDS], tmp_path, progress=False, extractor=GatedExtractor(gate),
             search_first=False, entities=True)
    index = cs.open_index(tmp_path)
    assert index.entity_status().note is None
    store.write_atomic(tmp_path / store.ENTITY_PROGRESS, json.dumps(
        {"generation": index.generation, "articles": 5, "done": 3, "pid": os.getpid()}))
    assert index.entity_status().running is False  # nothing pending in this generation


def test_small_builds_do_not_publish_twice(tmp_path: Path) -> None:
    """With search_first=None, a handful of articles waits for the model: one generation."""
    gate = threading.Event()
    gate.set()
    report = cs.build([SEEDS], tmp_path, progress=False, extractor=GatedExtractor(gate))
    assert (report.keyword_generation, report.generation) == ("", "gen-000001")


def test_index_built_without_entities_says_so(plain_index: cs.Index) -> None:
    """Facets of an index built with entities=False explain why they are empty."""
    assert "without entity extraction" in plain_index.facets("org").attrs["note"]


class RecordingExtractor(Extractor):
    """Records, at each chunk, how many articles the progress file says are done."""

    def __init__(self, index_dir: Path) -> None:
        super().__init__(n_process=1)
        self.index_dir = index_dir
        self.seen: list[tuple[str, int]] = []

    def __getstate__(self) -> dict:
        raise TypeError("runs in this process only")

    def extract(self, texts, progress=False):
        """No mentions; note the progress file's generation and count."""
        info = json.loads((self.index_dir / store.ENTITY_PROGRESS).read_text())
        self.seen.append((info["generation"], info["done"]))
        return [[] for _ in texts]


def test_progress_file_advances_chunk_by_chunk(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each chunk of 64 articles moves the published count on by 64."""
    monkeypatch.setattr("corpus_search._build.PROGRESS_EVERY", 0.0)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in cs.synthetic.generate(200, seed=3)))
    extractor = RecordingExtractor(tmp_path / "ix")
    report = cs.build([corpus], tmp_path / "ix", progress=False, extractor=extractor,
                      search_first=True)
    assert extractor.seen == [("gen-000001", 0), ("gen-000001", 64), ("gen-000001", 128),
                              ("gen-000001", 192)]
    assert (report.keyword_generation, report.generation, report.model_runs,
            (tmp_path / "ix" / store.ENTITY_PROGRESS).exists()) == (
        "gen-000001", "gen-000002", 200, False)


def test_status_verb_reports_progress(running, capsys: pytest.CaptureFixture[str]) -> None:
    """`corpus-search status --json` gives the entity status of the generation in use."""
    path, _, _ = running
    assert main(["status", "--index", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)["entities"]
    assert (out["running"], out["complete"], out["covered"]) == (True, False, 0)


def test_dead_builder_means_interrupted(running) -> None:
    """A progress file naming a process that has died is not 'running'."""
    path, _, _ = running
    index = cs.open_index(path)
    dead = subprocess.Popen(["true"])
    dead.wait()
    info = json.loads((path / store.ENTITY_PROGRESS).read_text())
    store.write_atomic(path / store.ENTITY_PROGRESS, json.dumps({**info, "pid": dead.pid}))
    assert (index.entity_status().running, "interrupted" in index.entity_status().note) == (
        False, True)


def test_a_killed_progress_write_does_not_lock_the_user_out(tmp_path: Path) -> None:
    """The temp file a write killed before its rename leaves is ours: builds go on."""
    gate = threading.Event()
    gate.set()
    cs.build([SEEDS], tmp_path, progress=False, extractor=GatedExtractor(gate))
    (tmp_path / f".{store.ENTITY_PROGRESS}.tmp-123-456").write_text("{")
    report = cs.build([SEEDS], tmp_path, progress=False, extractor=GatedExtractor(gate))
    assert report.unchanged == 5


def test_background_bar_follows_the_stages(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The job's one bar goes keyword index -> searchable; entities -> entities -> done."""
    seen: list[tuple[str, int, int]] = []
    monkeypatch.setattr(cs.BuildJob, "_stage", lambda self, *a: seen.append(a))
    gate = threading.Event()
    gate.set()
    cs.build_in_background([SEEDS], tmp_path, progress=True,
                           extractor=GatedExtractor(gate)).wait(60)
    assert seen == [("keyword index", 0, 5), ("searchable; entities", 0, 5),
                    ("entities", 0, 5), ("entities", 5, 5), ("done", 5, 5)]


def test_network_caption_carries_the_note(running) -> None:
    """The co-mention figure says its entities are incomplete, as the table does."""
    path, _, _ = running
    fig = cs.open_index(path).plot_comentions(min_count=1)
    assert any("entities for 0% of articles so far" in t.get_text() for t in fig.texts)


def test_second_generation_drops_the_replaced_segments(tmp_path: Path) -> None:
    """Adding entities replaces every document: no wholly deleted segment is kept."""
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps(r) for r in cs.synthetic.generate(1200, seed=4)))
    gate = threading.Event()
    gate.set()
    report = cs.build([corpus], tmp_path / "ix", progress=False,
                      extractor=GatedExtractor(gate), search_first=True)
    ix = whoosh_index.open_dir(str(tmp_path / "ix" / report.generation))
    counts = [(s.doc_count_all(), s.doc_count()) for s in ix._segments()]
    assert (sum(a for a, _ in counts), all(a == d for a, d in counts)) == (1200, True)
