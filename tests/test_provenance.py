"""Provenance: exports and figures can say which index, corpus and versions made them."""

from __future__ import annotations

import json
from pathlib import Path

import corpus_search as cs
from corpus_search._provenance import (
    PROVENANCE_KEYS,
    corpus_fingerprint,
    provenance,
    write_sidecar,
)


def _build(tmp_path: Path, texts: dict[str, str]) -> Path:
    src = tmp_path / "c.jsonl"
    src.write_text(
        "".join(json.dumps({"id": k, "title": "T", "text": v}) + "\n" for k, v in texts.items()),
        "utf-8",
    )
    cs.build([src], tmp_path / "ix", entities=False, progress=False)
    return tmp_path / "ix"


def test_fingerprint_order_free() -> None:
    """The fingerprint depends on the (doc_id, hash) pairs, not on their order."""
    a = corpus_fingerprint([("x", "1"), ("y", "2")])
    assert a == corpus_fingerprint([("y", "2"), ("x", "1")])
    assert a != corpus_fingerprint([("x", "1"), ("y", "3")])
    assert len(a) == 32


def test_provenance_from_index(tmp_path: Path) -> None:
    """The dict names the generation and the fingerprint stored at build; a changed text
    changes the fingerprint."""
    path = _build(tmp_path, {"a": "Some words here.", "b": "Other words there."})
    with cs.open_index(path).snapshot() as ix:
        prov = provenance(ix, query="words", filters={"outlet": "X"}, extra={"window": 5})
        first = prov["fingerprint"]
    assert list(PROVENANCE_KEYS) == list(prov)
    assert (prov["query"], prov["filters"], prov["extra"]) == (
        "words",
        {"outlet": "X"},
        {"window": 5},
    )
    assert (prov["generation"], prov["articles"]) == ("gen-000001", 2)
    assert "unknown" not in first and len(first) == 32
    path = _build(tmp_path, {"a": "Some words here.", "b": "Other words changed."})
    with cs.open_index(path).snapshot() as ix:
        assert first != provenance(ix)["fingerprint"]


def test_sidecar(tmp_path: Path) -> None:
    """write_sidecar writes <file>.provenance.json beside the export."""
    side = write_sidecar(tmp_path / "table.csv", {"query": "q", "n": 1})
    assert tmp_path / "table.csv.provenance.json" == side
    assert json.loads(side.read_text("utf-8")) == {"query": "q", "n": 1}


def test_library_exports_write_sidecars(tmp_path: Path) -> None:
    """SearchResult.to_csv, cs.to_csv, Chart.save and Comparison.save_html write
    FILE.provenance.json when given index.provenance(...); without it, no sidecar."""
    index = cs.open_index(_build(tmp_path, {"a": "Some words here.", "b": "Other words there."}))
    prov = index.provenance(query="words", extra={"limit": 5})
    assert (prov["query"], prov["extra"], prov["generation"]) == (
        "words", {"limit": 5}, index.generation)
    res = index.search("words")
    outputs = [
        res.to_csv(tmp_path / "hits.csv", provenance=prov),
        cs.to_csv(index.collocates("words", min_freq=1), tmp_path / "c.csv", provenance=prov),
        index.plot_dispersion("words").save(tmp_path / "d.png", provenance=prov),
        index.compare("c.jsonl#a", "c.jsonl#b").save_html(tmp_path / "p.html", provenance=prov),
    ]
    for out in outputs:
        side = out.with_name(out.name + ".provenance.json")
        assert json.loads(side.read_text("utf-8")) == prov
    assert (tmp_path / "d.png").read_bytes().startswith(b"\x89PNG")
    res.to_csv(tmp_path / "plain.csv")
    assert not (tmp_path / "plain.csv.provenance.json").exists()
    index.close()
