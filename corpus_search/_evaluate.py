"""Entity facets against a hand-checked gold set: document-level precision, recall, F1.

A gold file is JSON lines, one article a line: ``{"id": ..., "person": [...], "org":
[...], "place": [...]}`` (see ``tests/data/gold/README.md`` in the repository). The
unit of scoring is the triple (article, type, name): an article either mentions a
person/organisation/place or not. Names on both sides go through the same
canonicalisation before they are compared (clean-up, alias table, case-insensitive), so
``The Times`` in the gold and ``Times`` from the model are one name.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from ._entities import ENTITY_TYPES, canonical_key
from ._errors import CorpusError

__all__ = [
    "ERROR_COLUMNS",
    "SCORE_COLUMNS",
    "entity_errors",
    "load_gold",
    "score_entities",
    "snapshot_entities",
]

SCORE_COLUMNS = ("type", "tp", "fp", "fn", "precision", "recall", "f1")
"""Columns of :func:`score_entities`: one row per entity type, then ``micro`` and ``macro``."""

ERROR_COLUMNS = ("id", "type", "name", "error")
"""Columns of :func:`entity_errors`; ``error`` is ``missed`` (gold only) or ``extra``."""

Typed = Mapping[str, Iterable[str]]  # entity type -> names, for one article


def load_gold(path: str | Path) -> dict[str, dict[str, list[str]]]:
    """Read a gold file.

    Parameters
    ----------
    path : str or Path
        A JSON-lines file, one article a line with ``id`` and a list per entity type.

    Returns
    -------
    dict
        Article id -> entity type -> names, in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"no gold file at {path}")
    gold: dict[str, dict[str, list[str]]] = {}
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            gold[row["id"]] = {t: list(row.get(t, [])) for t in ENTITY_TYPES}
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(f"{path.name} line {n}: not a gold record ({exc})") from None
    return gold


def _triples(articles: Mapping[str, Typed], ids: Iterable[str],
             aliases: dict[str, tuple[str, str | None]] | None) -> set[tuple[str, str, str]]:
    out = set()
    for d in ids:
        for t, names in articles.get(d, {}).items():
            if t not in ENTITY_TYPES:
                continue
            for name in names:
                key = canonical_key(name, aliases)
                if key:
                    out.add((d, t, key))
    return out


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score_entities(predicted: Mapping[str, Typed], gold: Mapping[str, Typed], *,
                   aliases: dict[str, tuple[str, str | None]] | None = None) -> pd.DataFrame:
    """Document-level precision, recall and F1 per entity type, micro and macro.

    Parameters
    ----------
    predicted : mapping
        Article id -> entity type -> names found. Articles not in ``gold`` are ignored;
        a gold article missing here counts as one with no entities.
    gold : mapping
        Article id -> entity type -> names (see :func:`load_gold`).
    aliases : dict, optional
        The alias table used to canonicalise names on both sides (default: the
        package's ``data/aliases.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``SCORE_COLUMNS``; rows ``person``, ``org``, ``place``, ``micro``
        (counts pooled) and ``macro`` (mean of the three types' scores).
    """
    ids = list(gold)
    found = _triples(predicted, ids, aliases)
    truth = _triples(gold, ids, aliases)
    rows = []
    for t in ENTITY_TYPES:
        f_t = {x for x in found if x[1] == t}
        g_t = {x for x in truth if x[1] == t}
        tp, fp, fn = len(f_t & g_t), len(f_t - g_t), len(g_t - f_t)
        rows.append((t, tp, fp, fn, *_prf(tp, fp, fn)))
    tp, fp, fn = (sum(r[i] for r in rows) for i in (1, 2, 3))
    macro = [sum(r[i] for r in rows) / len(rows) for i in (4, 5, 6)]
    rows.append(("micro", tp, fp, fn, *_prf(tp, fp, fn)))
    rows.append(("macro", tp, fp, fn, *macro))
    return pd.DataFrame(rows, columns=list(SCORE_COLUMNS))


def entity_errors(predicted: Mapping[str, Typed], gold: Mapping[str, Typed], *,
                  aliases: dict[str, tuple[str, str | None]] | None = None) -> pd.DataFrame:
    """Every missed and every extra (article, type, name), for reading the mistakes.

    Parameters
    ----------
    predicted : mapping
        Article id -> entity type -> names found.
    gold : mapping
        Article id -> entity type -> names.
    aliases : dict, optional
        The alias table used to canonicalise names (default: the package's).

    Returns
    -------
    pandas.DataFrame
        Columns ``ERROR_COLUMNS``, sorted by id, type, name; names are canonical keys
        (lower case).
    """
    ids = list(gold)
    found = _triples(predicted, ids, aliases)
    truth = _triples(gold, ids, aliases)
    rows = [(*x, "missed") for x in truth - found] + [(*x, "extra") for x in found - truth]
    return pd.DataFrame(sorted(rows), columns=list(ERROR_COLUMNS))


def snapshot_entities(snapshot: object) -> dict[str, dict[str, list[str]]]:
    """The facet entities of every live article of an open index (or snapshot).

    Parameters
    ----------
    snapshot : Index or Snapshot
        Anything with ``doc_ids``, ``live``, ``ent_indptr``, ``ent_ids`` and ``entities``
        (list of ``(name, type)``), as the facets use them.

    Returns
    -------
    dict
        Article id -> entity type -> names, ready for :func:`score_entities`.
    """
    out: dict[str, dict[str, list[str]]] = {}
    indptr, ids, names = snapshot.ent_indptr, snapshot.ent_ids, snapshot.entities
    for i, d in enumerate(snapshot.doc_ids):
        if not snapshot.live[i]:
            continue
        row: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
        for code in ids[indptr[i]:indptr[i + 1]]:
            name, typ = names[int(code)]
            row[typ].append(name)
        out[d] = row
    return out
