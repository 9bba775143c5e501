"""Provenance: what a published number or figure was computed from, so it can be re-run.

Every export and saved figure can carry :func:`provenance` (as a JSON sidecar, a CSV
header or PNG metadata): the query and filters, the index generation, a fingerprint of
the corpus (computed at build time from the article ids and content hashes and kept in
the generation's marker), the versions of this package, spaCy and the NER model, and the
time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ._entities import model_version

if TYPE_CHECKING:  # the snapshot layer sits above this module (the build imports it)
    from ._snapshot import Snapshot

__all__ = ["corpus_fingerprint", "provenance", "write_sidecar"]

PROVENANCE_KEYS = ("query", "filters", "extra", "generation", "index", "fingerprint",
                   "articles", "corpus_search", "spacy", "model", "created")
"""Keys of the :func:`provenance` dict, in order."""


def corpus_fingerprint(rows: Iterable[tuple[str, str]]) -> str:
    """SHA-256 (hex, first 16 bytes) of the sorted ``(doc_id, content hash)`` pairs: two
    indexes with the same fingerprint hold the same articles with the same texts."""
    h = hashlib.sha256()
    for doc_id, digest in sorted(rows):
        h.update(f"{doc_id}\t{digest}\n".encode())
    return h.hexdigest()[:32]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def provenance(snap: Snapshot, *, query: str = "", filters: Mapping | None = None,
               extra: Mapping | None = None) -> dict:
    """Where a result comes from, as a JSON-ready dict (keys :data:`PROVENANCE_KEYS`).

    Parameters
    ----------
    snap : Snapshot
        The generation the result was read from (``index.snapshot()``); its marker gives
        the corpus fingerprint.
    query : str, default ""
        The query the result was computed for ("" for none).
    filters : mapping or None, default None
        The filters (outlet, dates, entities...) as given; None for none.
    extra : mapping or None, default None
        Anything else that decides the result (a view's parameters: window, measure...).

    Returns
    -------
    dict
    """
    gen = Path(snap.gen_path)
    marker_path = gen / "corpus_search.json"
    marker = json.loads(marker_path.read_text("utf-8")) if marker_path.is_file() else {}
    return {
        "query": query, "filters": dict(filters or {}), "extra": dict(extra or {}),
        "generation": gen.name, "index": str(gen.parent.resolve()),
        "fingerprint": marker.get("fingerprint", "unknown (built before fingerprints)"),
        "articles": int(np.count_nonzero(snap.live)),
        "corpus_search": _version("corpus_search"), "spacy": _version("spacy"),
        "model": model_version(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_sidecar(path: str | Path, prov: dict) -> Path:
    """Write ``prov`` beside an exported file as ``<name>.provenance.json``; returns its path."""
    path = Path(path)
    side = path.with_name(path.name + ".provenance.json")
    side.write_text(json.dumps(prov, indent=2, ensure_ascii=False, default=str) + "\n", "utf-8")
    return side
