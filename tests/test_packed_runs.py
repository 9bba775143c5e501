"""Runs sent to the build's dask worker: pickled an item at a time, shared objects once."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from corpus_search._enrich import _Packed


class _Run:
    """A run whose items share one word list, made as they are read."""

    def __init__(self, n: int, words: list[str]) -> None:
        self.words, self.n, self.made = words, n, 0

    def shared(self) -> list:
        return [self.words]

    def __iter__(self):
        for i in range(self.n):
            self.made += 1
            yield {"i": i, "ids": np.arange(i, dtype=np.int32), "words": self.words}


def test_items_come_back_in_order_with_their_shared_objects() -> None:
    """Each item reads back equal to what was made, its shared list one object."""
    words = [f"word{k}" for k in range(5_000)]
    packed = pickle.loads(pickle.dumps(_Packed(_Run(30, words))))  # (as dask sends it)
    assert len(packed) == 30
    got = list(packed)
    assert [d["i"] for d in got] == list(range(30))
    assert got[7]["ids"].tolist() == list(range(7))
    assert got[0]["words"] == words
    assert packed[0]["words"] is packed[29]["words"]  # unpickled once
    assert [d["i"] for d in packed[10:13]] == [10, 11, 12]
    assert [d["i"] for d in packed[10:13][1:]] == [11, 12]
    assert packed[-1]["i"] == 29
    with pytest.raises(IndexError):
        packed[30]


def test_shared_objects_are_pickled_once_not_per_item() -> None:
    """A word list shared by 200 items costs its size once."""
    words = [f"word{k}" for k in range(20_000)]
    one = len(pickle.dumps(words))
    packed = _Packed(_Run(200, words))
    assert len(pickle.dumps(packed)) < 2 * one


def test_a_run_without_shared_objects_is_packed_too() -> None:
    """Plain items (texts and their furniture lines) round-trip."""
    lines = frozenset({"Share this"})
    packed = _Packed([("a text", lines), ("another", lines)])
    assert list(packed) == [("a text", lines), ("another", lines)]


def test_a_surface_run_packs_each_outlet_s_furniture_lines_once() -> None:
    """The surface pass's runs share each outlet's furniture lines: 300 articles of one
    outlet with 40 lines cost the lines once."""
    from corpus_search._boilerplate import Boilerplate  # noqa: PLC0415
    from corpus_search._build import _RunTexts  # noqa: PLC0415
    from corpus_search._corpus import Article  # noqa: PLC0415

    lines = frozenset(f"Furniture line number {k} of the site" for k in range(40))
    bp = Boilerplate(lines={"Site": lines}, table=pd.DataFrame())
    arts = [Article(f"d{i}", "T", f"text {i}", outlet="Site") for i in range(300)]
    arts.append(Article("other", "T", "no lines", outlet="Elsewhere"))
    packed = _Packed(_RunTexts(arts, bp))
    assert packed[0] == ("text 0", lines)
    assert packed[-1] == ("no lines", frozenset())
    assert len(pickle.dumps(packed)) < len(pickle.dumps(lines)) + 300 * 60


def test_a_run_packed_into_a_file_sends_only_its_name(tmp_path: Path) -> None:
    """With a path, the items are pickled into the file: the value dask sends is small,
    this process holds none of the items' bytes, and the worker reads them back."""
    words = [f"word{k}" for k in range(50)]
    path = tmp_path / "run-0.pickle"
    packed = _Packed(_Run(2_000, words), str(path))
    assert packed._data is None
    assert path.stat().st_size > 2_000 * 100
    sent = pickle.loads(pickle.dumps(packed))  # (as dask sends it)
    assert len(pickle.dumps(packed)) < 40_000  # the name, the shared words, the offsets
    assert [d["i"] for d in sent] == list(range(2_000))
    view = sent[1_500:1_503]
    assert [d["ids"].tolist() for d in view] == [list(range(i)) for i in (1500, 1501, 1502)]
    assert sent[0]["words"] is sent[1_999]["words"]
    sent.close()
    view.close()
    path.unlink()  # (closed: removable on any system)


def test_a_packed_file_is_not_overwritten(tmp_path: Path) -> None:
    """A run is pickled into a new file only, never over one that exists."""
    path = tmp_path / "run-0.pickle"
    path.write_bytes(b"not ours")
    with pytest.raises(FileExistsError):
        _Packed([1, 2], str(path))
    assert path.read_bytes() == b"not ours"
