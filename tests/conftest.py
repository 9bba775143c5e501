"""Shared fixtures: the five seed articles indexed with the real NER model (for tests of
entities), without it (for everything else), and the BBC set when ../shared has it.

Tests never import from here: they ask for fixtures. Indexes are signed with a key made
for the test session, never the user's own (``CORPUS_SEARCH_SECRET_FILE``).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

import corpus_search as cs

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
BBC = ROOT.parent / "shared" / "corpora" / "bbc-2005"


def pytest_configure(config: pytest.Config) -> None:
    """Sign test indexes with a throwaway key (the user's own key is left alone)."""
    if "CORPUS_SEARCH_SECRET_FILE" not in os.environ:
        folder = tempfile.mkdtemp(prefix="cs-test-key-")
        os.environ["CORPUS_SEARCH_SECRET_FILE"] = str(Path(folder) / "secret")


@pytest.fixture(scope="session")
def build_rows():
    """A function that writes ``(id, outlet, date, text)`` rows as the JSONL file ``name``
    in a folder, builds it there without the entity model, and returns the index folder.
    Titles are ``title.format(id=...)``; doc ids are ``name#id``."""
    def build(rows, folder: Path, name: str, title: str = "Headline {id}") -> Path:
        src = folder / name
        src.write_text("".join(json.dumps({"id": i, "title": title.format(id=i), "text": t,
                                           "outlet": o, "date": d}) + "\n"
                               for i, o, d, t in rows), "utf-8")
        cs.build([src], folder / "index", entities=False, progress=False)
        return folder / "index"
    return build


@pytest.fixture(scope="session")
def plain_index(tmp_path_factory: pytest.TempPathFactory) -> cs.Index:
    """The seeds indexed without the entity model (fast; for tests not about entities)."""
    path = tmp_path_factory.mktemp("plain-index")
    cs.build([SEEDS], path, entities=False, progress=False)
    return cs.open_index(path)


@pytest.fixture(scope="session")
def seed_index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of corpus/ (the five seeds) built with the real NER model."""
    path = tmp_path_factory.mktemp("seed-index")
    cs.build([SEEDS], path, progress=False)
    return path


@pytest.fixture(scope="session")
def seed_index(seed_index_dir: Path) -> cs.Index:
    """The seed index, opened."""
    return cs.open_index(seed_index_dir)


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of corpus/ for tests that add or change files."""
    dest = tmp_path / "corpus"
    shutil.copytree(SEEDS, dest)
    return dest


@pytest.fixture(scope="session")
def bbc_path() -> Path:
    """The 2,225-article BBC corpus from ../shared; skips when absent."""
    if not BBC.is_dir():
        pytest.skip("../shared/corpora/bbc-2005 is not present")
    return BBC


@pytest.fixture(scope="session")
def bbc_index_dir(bbc_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the BBC corpus with entities (about two minutes, once per session)."""
    path = tmp_path_factory.mktemp("bbc-index")
    cs.build([bbc_path], path, outlet="BBC News", progress=False)
    return path
