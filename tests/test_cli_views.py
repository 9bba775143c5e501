"""CLI verbs over the corpus-tool views, their --json/--csv output and provenance.

The small corpus (built without entities): a1 (X, 2022-01-10) "Cats chase dogs and cats
eat fish."; a2 (Y, 2022-02-05) "Dogs chase cats. Cats eat fish"; a3 (X, 2022-03-01) "Fish
swim and fish eat a lot"; d1 (AP, 2022-01-02) a 60-word story; d2 (RT, 2022-01-01) the
same story with two words changed (a near-duplicate cluster whose first article is d2).
Node "cat" with window 1/1: chase co-occurs twice and occurs twice, f(cat) = 4, so
logDice = 14 + log2(2*2/(4+2)) = 13.415037 (it does not depend on corpus size).
Co-mentions use the five seeds with entities: Jens Stoltenberg in 3 articles, Vladimir
Putin in 4, both in 3 of 5: expected 3*4/5 = 2.4, PMI log2(3/2.4) = 0.321928.
"""

from __future__ import annotations

import csv
import inspect
import json
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search._colloc import (
    COLLOCATE_COLUMNS,
    COMPARE_COLUMNS,
    DISPERSION_COLUMNS,
    DISPERSION_MEASURE_COLUMNS,
    NGRAM_COLUMNS,
)
from corpus_search._comention import COMENTION_COLUMNS
from corpus_search._dups import CLUSTER_COLUMNS
from corpus_search._provenance import PROVENANCE_KEYS
from corpus_search.cli import main, make_parser

WORDS = [f"story{i}" for i in range(60)]
STORY = " ".join(WORDS)
EDITED = " ".join(
    "changed" if i == 10 else "altered" if i == 40 else w for i, w in enumerate(WORDS)
)
ARTICLES = [
    ("a1", "X", "2022-01-10", "Cats chase dogs and cats eat fish."),
    ("a2", "Y", "2022-02-05", "Dogs chase cats. Cats eat fish"),
    ("a3", "X", "2022-03-01", "Fish swim and fish eat a lot"),
    ("d1", "AP", "2022-01-02", STORY),
    ("d2", "RT", "2022-01-01", EDITED),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, build_rows) -> str:
    """The five-article corpus above, built without entities; returns the index folder."""
    return str(build_rows(ARTICLES, tmp_path_factory.mktemp("cli-views"), "c.jsonl"))


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _fingerprint(index: str) -> str:
    gen = cs.open_index(index).snapshot().gen_path
    return json.loads((gen / "corpus_search.json").read_text("utf-8"))["fingerprint"]


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _sidecar(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".provenance.json").read_text("utf-8"))


def test_collocates_json(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    """collocates --json gives the documented columns, hand-checked logDice and provenance."""
    out = _json(
        capsys,
        "collocates",
        "cat",
        "--window-left",
        "1",
        "--window-right",
        "1",
        "--min-freq",
        "2",
        "--index",
        small,
    )
    assert {"attrs", "rows", "provenance"} == set(out)
    assert list(COLLOCATE_COLUMNS) == list(out["rows"][0])
    first = out["rows"][0]
    assert (first["collocate"], first["cooc"], first["freq"], first["logdice"]) == (
        "chase",
        2,
        2,
        13.415037,
    )
    assert [r["collocate"] for r in out["rows"]] == ["chase", "eat", "cats"]
    prov = out["provenance"]
    assert list(PROVENANCE_KEYS) == list(prov)
    assert (
        prov["extra"]["command"],
        prov["extra"]["node"],
        prov["extra"]["window_left"],
        prov["extra"]["window_right"],
    ) == ("collocates", "cat", 1, 1)
    assert (_fingerprint(small), "gen-000001", 5) == (
        prov["fingerprint"],
        prov["generation"],
        prov["articles"],
    )


def test_collocates_csv_sidecar(
    small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """collocates --csv writes the table and FILE.provenance.json with the filters."""
    path = tmp_path / "coll.csv"
    assert (
        main(
            [
                "collocates",
                "cat",
                "--window-left",
                "1",
                "--window-right",
                "1",
                "--min-freq",
                "1",
                "--filter",
                "outlet=X",
                "--from",
                "2022-01-01",
                "--index",
                small,
                "--csv",
                str(path),
            ]
        )
        == 0
    )
    assert "table saved to" in capsys.readouterr().out
    header, rows = _csv(path)
    assert list(COLLOCATE_COLUMNS) == header
    assert {"chase", "and", "eat"} == {r["collocate"] for r in rows}
    prov = _sidecar(path)
    assert prov["filters"] == {"outlet": ["X"], "dates": ["2022-01-01", None]}
    assert _fingerprint(small) == prov["fingerprint"]


def test_collocates_count_once(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--count-once counts the near-duplicate story once: story4 next to story5 once."""
    args = [
        "collocates",
        "story5",
        "--window-left",
        "1",
        "--window-right",
        "0",
        "--min-freq",
        "1",
        "--index",
        small,
    ]
    both = {r["collocate"]: r["cooc"] for r in _json(capsys, *args)["rows"]}
    once = _json(capsys, *args, "--count-once")
    assert (both, {r["collocate"]: r["cooc"] for r in once["rows"]}) == (
        {"story4": 2},
        {"story4": 1},
    )
    assert once["provenance"]["extra"]["count_once"] is True


def test_compare_collocates(small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """compare-collocates puts outlet X beside the rest: chase once in each."""
    path = tmp_path / "cmp.csv"
    out = _json(
        capsys,
        "compare-collocates",
        "cat",
        "--a",
        "outlet=X",
        "--window-left",
        "1",
        "--window-right",
        "1",
        "--min-freq",
        "1",
        "--index",
        small,
        "--csv",
        str(path),
    )
    assert list(COMPARE_COLUMNS) == list(out["rows"][0])
    rows = {r["collocate"]: r for r in out["rows"]}
    assert (rows["chase"]["cooc_a"], rows["chase"]["cooc_b"]) == (1, 1)
    assert (rows["cats"]["cooc_a"], rows["cats"]["cooc_b"]) == (None, 2)
    assert (out["provenance"]["extra"]["a"], out["provenance"]["extra"]["b"]) == (
        ["outlet=X"],
        None,
    )
    assert list(COMPARE_COLUMNS) == _csv(path)[0]
    assert _sidecar(path)["extra"]["command"] == "compare-collocates"
    b_only = _json(
        capsys,
        "compare-collocates",
        "cat",
        "--a",
        "outlet=X",
        "--b",
        "outlet=Y",
        "--window-left",
        "1",
        "--window-right",
        "1",
        "--min-freq",
        "1",
        "--index",
        small,
    )
    assert b_only["provenance"]["extra"]["b"] == ["outlet=Y"]


def test_ngrams(small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ngrams --contains/--anchor/--n select the sequences; --csv has a sidecar."""
    out = _json(capsys, "ngrams", "--contains", "cat", "--index", small)
    assert list(NGRAM_COLUMNS) == list(out["rows"][0])
    assert [(r["ngram"], r["n"], r["count"], r["articles"]) for r in out["rows"]] == [
        ("cats eat", 2, 2, 2),
        ("cats eat fish", 3, 2, 2),
    ]
    path = tmp_path / "ng.csv"
    out = _json(
        capsys,
        "ngrams",
        "--n",
        "2",
        "--contains",
        "fish",
        "--anchor",
        "left",
        "--min-freq",
        "1",
        "--index",
        small,
        "--csv",
        str(path),
    )
    assert {"fish eat", "fish swim"} == {r["ngram"] for r in out["rows"]}
    assert out["provenance"]["extra"]["n"] == [2]
    assert {"fish eat", "fish swim"} == {r["ngram"] for r in _csv(path)[1]}
    assert _sidecar(path)["extra"]["anchor"] == "left"


def test_dispersion(small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """dispersion gives the measures, --hits one row per occurrence, --plot a PNG with
    its sidecar."""
    png, table = tmp_path / "d.png", tmp_path / "d.csv"
    out = _json(
        capsys,
        "dispersion",
        "cats",
        "fish",
        "--index",
        small,
        "--plot",
        str(png),
        "--csv",
        str(table),
    )
    assert list(DISPERSION_MEASURE_COLUMNS) == list(out["rows"][0])
    assert [(r["term"], r["freq"], r["articles"], r["parts"]) for r in out["rows"]] == [
        ("cats", 4, 2, 5),
        ("fish", 4, 3, 5),
    ]
    assert png.read_bytes().startswith(b"\x89PNG")
    assert _sidecar(png)["extra"]["terms"] == ["cats", "fish"]
    assert _sidecar(png)["fingerprint"] == _sidecar(table)["fingerprint"]
    hits = _json(capsys, "dispersion", "cats", "--hits", "--index", small)
    assert list(DISPERSION_COLUMNS) == list(hits["rows"][0])
    assert [r["doc_id"] for r in hits["rows"]] == [
        "c.jsonl#a1",
        "c.jsonl#a1",
        "c.jsonl#a2",
        "c.jsonl#a2",
    ]
    assert hits["rows"][0]["date"] == "2022-01-10T00:00:00"


def test_duplicates(small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """duplicates lists the story's cluster, earliest (RT) first; a filter leaving one
    member of it lists nothing."""
    path = tmp_path / "dups.csv"
    out = _json(capsys, "duplicates", "--index", small, "--csv", str(path))
    assert list(CLUSTER_COLUMNS) == list(out["rows"][0])
    assert [(r["doc_id"], r["outlet"], r["first"]) for r in out["rows"]] == [
        ("c.jsonl#d2", "RT", True),
        ("c.jsonl#d1", "AP", False),
    ]
    assert [r["doc_id"] for r in _csv(path)[1]] == ["c.jsonl#d2", "c.jsonl#d1"]
    assert _sidecar(path)["extra"]["command"] == "duplicates"
    assert _json(capsys, "duplicates", "--filter", "outlet=AP", "--index", small)["rows"] == []


def test_count_once_on_search_facets_terms(
    small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--count-once on search, facets and terms drops the later copy of the story (AP)."""
    assert _json(capsys, "search", "story5", "--index", small)["total"] == 2
    res = _json(capsys, "search", "story5", "--count-once", "--index", small)
    assert (res["total"], res["provenance"]["extra"]["count_once"]) == (1, True)
    assert main(["facets", "outlet", "--count-once", "--index", small, "--json"]) == 0
    assert {f["value"]: f["count"] for f in json.loads(capsys.readouterr().out)["rows"]} == {
        "X": 2,
        "Y": 1,
        "RT": 1,
    }
    path = tmp_path / "t.csv"
    out = _json(
        capsys,
        "terms",
        "story5",
        "--by",
        "all",
        "--count-once",
        "--index",
        small,
        "--csv",
        str(path),
    )
    assert out["rows"][0]["count"] == 1
    assert True is _sidecar(path)["extra"]["count_once"]


def test_search_csv_and_terms_plot_sidecars(
    small: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """search --csv and terms --plot write provenance sidecars naming the query."""
    hits, png = tmp_path / "hits.csv", tmp_path / "t.png"
    assert main(["search", "fish", "--index", small, "--csv", str(hits)]) == 0
    assert main(["terms", "fish", "--query", "eat", "--index", small, "--plot", str(png)]) == 0
    capsys.readouterr()
    assert (_sidecar(hits)["query"], _sidecar(hits)["extra"]["command"]) == ("fish", "search")
    assert (_sidecar(png)["query"], _sidecar(png)["extra"]["terms"]) == ("eat", ["fish"])
    assert png.read_bytes().startswith(b"\x89PNG")


def test_text_tables(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json the verbs print aligned tables, and say when there are no rows."""
    assert main(["ngrams", "--contains", "cat", "--index", small]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ngram", "n", "count", "articles"]
    assert len(lines[0]) == len(lines[1]) == len(lines[2])
    assert main(["comentions", "--index", small]) == 0
    assert "(no rows)" in capsys.readouterr().out


def test_bad_options_exit_2(small: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad filter in a view verb is one line on stderr and status 2."""
    assert main(["collocates", "cat", "--filter", "colour=red", "--index", small]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("corpus-search: Unknown filter 'colour'")


def test_defaults_from_library() -> None:
    """Option defaults are the library's: a changed default in Index changes --help."""
    sub = next(a for a in make_parser()._actions if a.dest == "command").choices
    sig = inspect.signature
    coll = sub["collocates"].parse_args(["x"])
    assert (
        sig(cs.Index.collocates).parameters["window_left"].default,
        sig(cs.Index.collocates).parameters["measure"].default,
        sig(cs.Index.collocates).parameters["min_freq"].default,
    ) == (coll.window_left, coll.measure, coll.min_freq)
    ng = sub["ngrams"].parse_args([])
    assert list(sig(cs.Index.ngrams).parameters["n"].default) == ng.n
    com = sub["comentions"].parse_args([])
    assert (
        list(sig(cs.Index.comentions).parameters["types"].default),
        sig(cs.Index.plot_comentions).parameters["top"].default,
    ) == (com.types, com.top)
    assert sig(cs.Index.duplicates).parameters["min_size"].default == (
        sub["duplicates"].parse_args([]).min_size
    )


def test_comentions(
    seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """comentions over the seeds: Stoltenberg and Putin, hand-checked; --plot and --csv
    write files with sidecars."""
    png, table = tmp_path / "net.png", tmp_path / "pairs.csv"
    out = _json(
        capsys,
        "comentions",
        "--types",
        "person",
        "--min-count",
        "3",
        "--index",
        str(seed_index_dir),
        "--plot",
        str(png),
        "--csv",
        str(table),
    )
    assert list(COMENTION_COLUMNS) == list(out["rows"][0])
    assert [
        (
            r["entity_a"],
            r["entity_b"],
            r["count"],
            r["articles_a"],
            r["articles_b"],
            r["expected"],
            r["pmi"],
        )
        for r in out["rows"]
    ] == [("Jens Stoltenberg", "Vladimir Putin", 3, 3, 4, 2.4, 0.321928)]
    assert out["attrs"]["articles"] == 5
    assert png.read_bytes().startswith(b"\x89PNG")
    assert _sidecar(png)["extra"]["types"] == ["person"]
    assert [r["entity_a"] for r in _csv(table)[1]] == ["Jens Stoltenberg"]
    assert _sidecar(table)["fingerprint"] == out["provenance"]["fingerprint"]


def test_entity_report(
    seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """entity-report prints the build's audit table (rule, name, ...) with provenance."""
    path = tmp_path / "report.csv"
    out = _json(capsys, "entity-report", "--index", str(seed_index_dir), "--csv", str(path))
    expected = cs.open_index(seed_index_dir).entity_report()
    assert list(expected.columns) == list(out["rows"][0])
    assert list(expected["name"]) == [r["name"] for r in out["rows"]]
    assert len(expected) == len(_csv(path)[1])
    assert _sidecar(path)["extra"]["command"] == "entity-report"
