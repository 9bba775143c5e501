"""Shared fixtures: a real index of the five seed articles, built once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import corpus_search as cs

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "corpus"
BBC = ROOT.parent / "shared" / "corpora" / "bbc-2005"


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
