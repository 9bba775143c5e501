"""The corpus-search command line over the seed index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from corpus_search.cli import main

SEEDS = Path(__file__).resolve().parent.parent / "corpus"


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_search_json(seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """search --json has the documented keys (provenance too) and finds NATO in all five."""
    out = _json(capsys, "search", "NATO", "--index", str(seed_index_dir))
    assert set(out) == {"query", "total", "hits", "facets", "suggestion", "entities_note",
                        "provenance"}
    assert (out["provenance"]["query"], out["provenance"]["extra"]["command"]) == ("NATO", "search")
    assert out["total"] == 5
    assert {"rank", "doc_id", "score", "title", "outlet", "date", "snippet"} == set(out["hits"][0])
    assert {"person", "org", "place", "outlet", "month"} == set(out["facets"])
    people = {f["value"]: f["count"] for f in out["facets"]["person"]}
    assert people["Jens Stoltenberg"] == 3


def test_facets_and_filters(seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """facets with --filter gives value/count rows (and provenance)."""
    out = _json(
        capsys,
        "facets",
        "outlet",
        "--index",
        str(seed_index_dir),
        "--filter",
        "person=Jens Stoltenberg",
    )
    assert out["rows"] == [{"value": "NBC News", "count": 1}, {"value": "RT", "count": 1}]
    assert out["provenance"]["filters"] == {"person": ["Jens Stoltenberg"]}


def test_show_json(seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """show --json gives the article with its entities."""
    out = _json(capsys, "show", "003_c672599c6d8cd13a", "--index", str(seed_index_dir))
    assert out["outlet"] == "TVN24"
    assert "Kyiv" in {e["name"] for e in out["entities"]}


def test_errors_exit_2(seed_index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad query prints one line on stderr and exits with status 2."""
    assert main(["search", '"NATO AND (', "--index", str(seed_index_dir)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("corpus-search: The query has an unbalanced quote")
    assert main(["show", "missing", "--index", str(seed_index_dir)]) == 2
    assert main(["search", "x", "--index", str(seed_index_dir / "none")]) == 2


def test_build_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """build prints counts, and lists skipped files with reasons."""
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("T\n\nBody")
    (tmp_path / "c" / "b.txt").write_bytes(b"")
    assert (
        main(["build", str(tmp_path / "c"), "--index", str(tmp_path / "ix"), "--no-entities"]) == 0
    )
    out = capsys.readouterr().out
    assert "1 indexed" in out
    assert f"skipped: {tmp_path / 'c' / 'b.txt'}: empty file" in out


def test_module_entry_point(tmp_path: Path) -> None:
    """python -m corpus_search runs the same command line."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "corpus_search",
            "build",
            str(SEEDS),
            "--index",
            str(tmp_path / "ix"),
            "--no-entities",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(proc.stdout)["indexed"] == 5
