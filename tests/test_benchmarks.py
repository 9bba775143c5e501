"""The benchmark harness runs end to end at a tiny size (no timing is asserted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.report import render
from benchmarks.run import main


def test_harness_runs_tiny(tmp_path: Path) -> None:
    """benchmarks.run at 300 articles writes every operation for both engines."""

    out = tmp_path / "r.json"
    main(["--size", "300", "--repeat", "1", "--ner-sample", "0", "--work", str(tmp_path),
          "--out", str(out)])
    results = json.loads(out.read_text())
    assert {"corpus_search", "fts5", "incremental"} <= set(results["build"])
    built = results["build"]["corpus_search"]
    assert built["worker_peak_rss_mb"] >= 0
    assert built["all_processes_peak_rss_mb"] > 0  # sampled every 0.5 s while it builds
    assert len(results["queries"]) == 12 + 6  # 6 views FTS5 has no equivalent for
    for name, row in results["queries"].items():
        assert row["corpus_search"]["n"] > 0, name
        assert row["fts5"] is None or row["fts5"]["n"] > 0, name
    assert sum(row["fts5"] is None for row in results["queries"].values()) == 6
    # The co-mention lines run on an index with entities, over a query of ~10%.
    com = results["comentions"]
    assert com["entities"] > 0 and com["pairs"] > 0
    assert all(0.05 * 300 <= a <= 0.2 * 300 for a in com["articles"])
    table = render(results)
    assert sum(1 for line in table.splitlines() if line.startswith("|")) == 2 + 8 + 2 + 18
    assert "| build without entity extraction | 481 s |" in table


def test_phases_times_each_build_step_and_puts_them_back(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """benchmarks.phases prints a line per build step, then a rebuild with --keep;
    _build's functions are its own again afterwards."""
    from benchmarks import phases  # noqa: PLC0415
    from corpus_search import _build  # noqa: PLC0415

    before = {name: getattr(_build, name) for name in phases.STEPS}
    corpus = Path(__file__).resolve().parents[1] / "corpus"
    phases.main([str(corpus), str(tmp_path / "ix")])
    first = capsys.readouterr().out
    phases.main([str(corpus), str(tmp_path / "ix"), "--keep"])
    again = capsys.readouterr().out
    steps = [line.split()[0] for line in first.splitlines() if line.startswith(("_", "read"))]
    assert list(phases.STEPS) == [s for s in steps if s in phases.STEPS]
    assert "total" in first and "5 added" in first
    assert "0 added, 5 unchanged" in again
    assert before == {name: getattr(_build, name) for name in phases.STEPS}
