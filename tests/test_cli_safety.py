"""The command line never prints raw control characters, and a second build is refused
before it reads anything (issue 14, "Also")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _build, _store
from corpus_search.cli import main

EVIL = "\x1b[31mRED\x1b]0;title\x07\x00"


def test_control_characters_are_stripped_from_cli_output(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Escape sequences and NULs in outlet, title, id and text reach the terminal removed."""
    rec = {"id": "x" + EVIL, "title": "Grain " + EVIL, "text": "Grain news. " + EVIL,
           "outlet": EVIL, "url": "http://example.org/" + EVIL}
    (tmp_path / "a.jsonl").write_text(json.dumps(rec))
    cs.build([tmp_path / "a.jsonl"], tmp_path / "ix", entities=False, progress=False)
    doc_id = cs.open_index(tmp_path / "ix").search("grain").hits["doc_id"].iloc[0]
    for argv in (["search", "grain"], ["show", doc_id], ["facets", "outlet"]):
        assert main([*argv, "--index", str(tmp_path / "ix")]) == 0
        out = capsys.readouterr().out
        assert "RED" in out
        assert not {"\x1b", "\x00", "\x07"} & set(out), argv


def test_second_build_is_refused_before_reading(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """While a build holds the lock, another is refused without loading the corpus."""
    (tmp_path / "a.txt").write_text("Grain\n\nGrain news.")
    ix = tmp_path / "ix"
    ix.mkdir()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the corpus was read before the lock was taken")

    with _store.build_lock(ix):
        monkeypatch.setattr(_build, "read_corpus", no_reading)
        with pytest.raises(cs.IndexLockedError):
            cs.build([tmp_path / "a.txt"], ix, entities=False, progress=False)
