"""Entity extraction on dask.distributed: workers, existing clusters, Ctrl-C (issue 16)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import psutil
import pytest
from distributed import Client, LocalCluster

from corpus_search import ClusterError, _enrich
from corpus_search._enrich import CHUNK_SIZE, SCHEDULER_ENV, extract_chunks, extract_mentions
from corpus_search._entities import EntityCache, Extractor, entities_for
from corpus_search.synthetic import generate

ROOT = Path(__file__).resolve().parents[1]
BBC = ROOT.parent / "shared" / "corpora" / "bbc-2005"


def _texts(n: int) -> list[str]:
    """The five seed articles, then BBC articles (or synthetic ones without ../shared)."""
    texts = [p.read_text("utf-8") for p in sorted((ROOT / "corpus").glob("*.txt"))]
    if BBC.is_dir():
        files = sorted(BBC.glob("*/*.txt"))[::20][: n - len(texts)]
        return texts + [f.read_text("latin-1") for f in files]
    return texts + [r["text"] for r in generate(n - len(texts), seed=16)]


def _children() -> set[int]:
    """This process's descendants, but multiprocessing's resource tracker, which lives as
    long as this process once anything has started it."""
    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if "resource_tracker" not in " ".join(p.cmdline()):
                out.add(p.pid)
        except psutil.NoSuchProcess:  # ended meanwhile
            continue
    return out


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary folder standing in for /tmp, to see what a run leaves there."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_one_and_two_workers_find_the_same_mentions(scratch: Path) -> None:
    """One worker and a two-worker LocalCluster give the same mentions, text for text."""
    texts = _texts(100)
    before = _children()
    one = extract_mentions(texts, Extractor(), n_workers=1, chunk_size=16)
    two = extract_mentions(texts, Extractor(), n_workers=2, chunk_size=16)
    assert len(two) == 100
    assert one == two
    assert sum(map(len, one)) > 500  # real NER output, not empty lists compared
    assert set() == _children() - before  # the cluster's processes are gone
    assert list(scratch.iterdir()) == []  # and its scratch folder


def _worker_env() -> str | None:
    """Run on a worker: its OMP_NUM_THREADS."""
    return os.environ.get("OMP_NUM_THREADS")


def test_a_local_cluster_leaves_this_process_environment_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The variables dask sets for its workers (here OMP_NUM_THREADS=1) reach the worker
    but are not left in this process's environment once the cluster is closed."""
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    with _enrich._quiet_dask(), _enrich._open_client(None, None, 1) as client:
        on_worker = client.submit(_worker_env, pure=False).result()
    assert (on_worker, os.environ.get("OMP_NUM_THREADS")) == ("1", None)


def test_existing_client_is_used_and_left_running() -> None:
    """With ``client=``, chunks run on that cluster, one model per worker; it stays up."""
    texts = _texts(5)
    _enrich._WORKER_MODELS.clear()
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=False,
            dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        got = extract_mentions(texts, Extractor(), client=client, chunk_size=2, min_cluster_texts=0)
        models = client.run(lambda: len(_enrich._WORKER_MODELS))
        assert (client.status, client.submit(sum, [1, 2]).result()) == ("running", 3)
    assert Extractor().extract(texts) == got
    assert list(models.values()) == [1]  # three chunks, one model load


def test_chunks_are_reported_as_they_finish() -> None:
    """``extract_chunks`` hands each finished chunk's (key, mentions) to the callback."""
    texts = _texts(5)
    seen: list[list[str]] = []
    n = extract_chunks(
        ((f"a{i}", t) for i, t in enumerate(texts)),
        Extractor(),
        on_chunk=lambda pairs: seen.append([k for k, _ in pairs]),
        chunk_size=2,
    )
    assert (n, seen) == (5, [["a0", "a1"], ["a2", "a3"], ["a4"]])


def test_ctrl_c_cancels_and_closes_the_cluster(scratch: Path) -> None:
    """KeyboardInterrupt stops the run with a one-line message and no process or file left."""

    def interrupt(pairs: list) -> None:
        raise KeyboardInterrupt

    before = _children()
    with pytest.raises(KeyboardInterrupt, match=r"^entity extraction interrupted after 0 "):
        extract_chunks(
            enumerate(_texts(70)), Extractor(), on_chunk=interrupt, n_workers=2, chunk_size=8
        )
    assert set() == _children() - before
    assert list(scratch.iterdir()) == []


def test_unreachable_scheduler_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduler address from the environment that answers nothing raises ClusterError."""
    monkeypatch.setattr(_enrich, "CONNECT_TIMEOUT", "1s")
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")
    with pytest.raises(ClusterError, match=r"tcp://127\.0\.0\.1:9\b"):
        extract_mentions(_texts(64), Extractor())


class _FailsOnSecondChunk:
    """A stand-in model: one mention per text, and an error on its second chunk."""

    n_process = 1

    def __init__(self) -> None:
        self.calls = 0

    def extract(self, texts: list[str], progress: bool = False) -> list[list]:
        """``[(text, "ORG")]`` for each text, until the second call."""
        self.calls += 1
        if self.calls == 2:
            raise KeyboardInterrupt
        return [[(t, "ORG")] for t in texts]


def test_interrupted_extraction_keeps_finished_chunks(tmp_path: Path) -> None:
    """Chunks finished before an interruption are in the entity cache for the next build."""
    texts = [f"Text number {i}" for i in range(100)]
    cache = EntityCache(tmp_path / "cache.sqlite")
    with pytest.raises(KeyboardInterrupt):
        entities_for(texts, cache, _FailsOnSecondChunk())
    keys = [cache.key(t) for t in texts]
    got = cache.get_many(keys)
    assert keys[:CHUNK_SIZE] == sorted(got, key=keys.index)
    assert got[cache.key(texts[0])] == [("Text number 0", "ORG")]
    cache.close()
