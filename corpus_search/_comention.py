"""Who is mentioned with whom: entity co-mentions from the index's entity arrays.

Driven by the per-article entity lists the build stores (``ent_indptr``/``ent_ids``, CSR
docnum -> entity codes, after aliases are merged and types voted), never by re-reading
the corpus. Pairs are counted per article: two entities are co-mentioned in an article
that names both (once, however often each is named).

Not per sentence: the model's mentions are kept as ``(text, label)`` with no offsets, and
the entity arrays say which entities an article names, not where. Same-sentence pairs
would need the model run again over the texts (searching the names' strings instead would
count words the model did not take for that entity), so ``level="sentence"`` is refused.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._colloc import g2_2x2
from ._errors import QueryError
from ._stream import in_scope

__all__ = ["COMENTION_COLUMNS", "TIMELINE_COLUMNS", "comentions", "entity_timeline"]

COMENTION_COLUMNS = ("entity_a", "type_a", "entity_b", "type_b", "count", "articles_a",
                     "articles_b", "expected", "pmi", "g2")
"""Columns of :func:`comentions`: the two entities (``entity_a`` sorts first) and their
types, the articles naming both, each one's article count, the count expected if they
were named independently, pointwise mutual information (log2) and log-likelihood G2."""

TIMELINE_COLUMNS = ("month", "outlet", "articles")
"""Columns of :func:`entity_timeline`: month (YYYY-MM), outlet, articles naming the
entity."""

_TYPES = ("person", "org", "place")




def comentions(ix, *, types: tuple[str, ...] = _TYPES, level: str = "article",
               min_count: int = 2, order: str = "count", limit: int | None = 50,
               mask: np.ndarray | None = None) -> pd.DataFrame:
    """Pairs of entities named in the same articles, with how surprising that is.

    With ``N`` articles in scope, ``n_a`` and ``n_b`` those naming each entity and ``O``
    those naming both: ``expected = n_a * n_b / N`` (independence);
    ``pmi = log2(O / expected)`` (Church & Hanks 1990); ``g2`` is the log-likelihood of
    the 2x2 table ``[[O, n_a - O], [n_b - O, N - n_a - n_b + O]]`` (Dunning 1993; 3.84 is
    p < 0.05, 10.83 is p < 0.001).

    Parameters
    ----------
    ix
        The open index (or snapshot) with its entity arrays.
    types
        Entity types to pair (any of ``"person"``, ``"org"``, ``"place"``).
    level
        ``"article"`` (the only level the index holds: entity positions within the text
        are not stored, so sentence-level pairs would need the corpus re-read).
    min_count
        Keep pairs named together in at least this many articles.
    order
        Rank by ``"count"`` (most co-mentioned; ties by G2), ``"g2"`` (strongest
        evidence of association) or ``"pmi"`` (most exclusive; raise ``min_count`` with it).
    limit
        At most this many rows (None: all).
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMENTION_COLUMNS`, ranked by ``order`` (ties: the other
        measures, then names). ``attrs["articles"]`` is ``N``; ``attrs["note"]`` says
        when the index's entities are incomplete (see ``Snapshot.entity_status``).
    """
    bad = [t for t in types if t not in _TYPES]
    if bad or not types:
        raise QueryError(f"unknown entity type {bad[0] if bad else '(none)'!r}; use "
                         f"{', '.join(_TYPES)}")
    if order not in ("count", "g2", "pmi"):
        raise QueryError(f"unknown order {order!r}; use count, g2 or pmi")
    if level != "article":
        raise QueryError(f"level {level!r} is not available: the index stores which "
                         "entities an article names, not where; use level='article'")
    scope = in_scope(ix, mask)
    n_articles = int(scope.sum())
    indptr = np.asarray(ix.ent_indptr)
    ent_ids = np.asarray(ix.ent_ids)
    ent_doc = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    wanted = np.array([t in types for _, t in ix.entities], dtype=bool)
    keep = scope[ent_doc] & wanted[ent_ids] if len(ent_ids) else np.zeros(0, bool)
    doc, ent = ent_doc[keep], ent_ids[keep].astype(np.int64)
    # One (doc, entity) each, sorted by doc then entity.
    n_ent = max(len(ix.entities), 1)
    key = np.unique(doc.astype(np.int64) * n_ent + ent)
    doc, ent = key // n_ent, key % n_ent
    per_entity = np.bincount(ent, minlength=n_ent)
    cols = list(COMENTION_COLUMNS)
    if len(doc) < 2:
        out = pd.DataFrame(columns=cols)
        out.attrs.update(articles=n_articles, note=_note(ix))
        return out
    # All pairs within each article: for each article's run [s, e), pair i < j.
    bounds = np.flatnonzero(np.diff(doc)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(doc)]])
    sizes = ends - starts
    end_of = np.repeat(ends, sizes)
    left_parts, right_parts = [], []
    for k in range(1, int(sizes.max())):
        # Element i pairs with element i + k of the same article (ids sorted: a < b).
        idx = np.flatnonzero(np.arange(len(doc)) + k < end_of)
        left_parts.append(ent[idx])
        right_parts.append(ent[idx + k])
    a = np.concatenate(left_parts) if left_parts else np.zeros(0, np.int64)
    b = np.concatenate(right_parts) if right_parts else np.zeros(0, np.int64)
    pair = a * n_ent + b
    codes, uniq = pd.factorize(pair, sort=False)  # a hash table: no sort of all pairs
    counts = np.bincount(codes, minlength=len(uniq))
    sel = counts >= min_count
    uniq, counts = uniq[sel], counts[sel]
    ea, eb = uniq // n_ent, uniq % n_ent
    na, nb = per_entity[ea].astype(float), per_entity[eb].astype(float)
    o = counts.astype(float)
    expected = na * nb / n_articles
    with np.errstate(divide="ignore"):
        pmi = np.log2(o / expected)
    g2 = g2_2x2(o, na - o, nb - o, n_articles - na - nb + o)
    names = ix.entities
    out = pd.DataFrame({
        "entity_a": [names[i][0] for i in ea.tolist()], "type_a": [names[i][1] for i in ea],
        "entity_b": [names[i][0] for i in eb.tolist()], "type_b": [names[i][1] for i in eb],
        "count": counts.astype(np.int64), "articles_a": na.astype(np.int64),
        "articles_b": nb.astype(np.int64), "expected": expected, "pmi": pmi, "g2": g2})
    # entity_a is the one whose name sorts first.
    swap = (out["entity_a"] > out["entity_b"]).to_numpy()
    for x, y in (("entity_a", "entity_b"), ("type_a", "type_b"),
                 ("articles_a", "articles_b")):
        xa, ya = out[x].to_numpy().copy(), out[y].to_numpy().copy()
        out[x] = np.where(swap, ya, xa)
        out[y] = np.where(swap, xa, ya)
    keys = {"count": ["count", "g2"], "g2": ["g2", "count"], "pmi": ["pmi", "count"]}[order]
    out = out.sort_values([*keys, "entity_a", "entity_b"],
                          ascending=[False, False, True, True], kind="stable")
    if limit is not None:
        out = out.head(limit)
    out = out.reset_index(drop=True)[cols]
    out.attrs.update(articles=n_articles, note=_note(ix))
    return out


def entity_timeline(ix, name: str, type_: str, *, mask: np.ndarray | None = None
                    ) -> pd.DataFrame:
    """Articles naming one entity, by month and outlet.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    name
        The entity's name as the index lists it (case-insensitive; aliases are merged
        at build time, so use the canonical name).
    type_
        ``"person"``, ``"org"`` or ``"place"``.
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIMELINE_COLUMNS`, by month then outlet; undated articles are
        under month ``"undated"``, articles without outlet under ``""``. Empty if the
        entity is not in the index.
    """
    if type_ not in _TYPES:
        raise QueryError(f"unknown entity type {type_!r}; use {', '.join(_TYPES)}")
    scope = in_scope(ix, mask)
    want = name.casefold()
    codes = [i for i, (n, t) in enumerate(ix.entities) if t == type_ and n.casefold() == want]
    indptr = np.asarray(ix.ent_indptr)
    ent_doc = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    docs = np.unique(ent_doc[np.isin(np.asarray(ix.ent_ids), codes)]) if codes else \
        np.zeros(0, np.int64)
    docs = docs[scope[docs]]
    month = np.asarray(ix.month_code)[docs]
    outlet = np.asarray(ix.outlet_code)[docs]
    df = pd.DataFrame({
        "month": [ix.months[m] if m >= 0 else "undated" for m in month.tolist()],
        "outlet": [ix.outlets[o] if o >= 0 else "" for o in outlet.tolist()]})
    out = df.groupby(["month", "outlet"], sort=True).size().rename("articles").reset_index()
    out = out.astype({"articles": np.int64}) if len(out) else \
        pd.DataFrame(columns=list(TIMELINE_COLUMNS))
    out = out[list(TIMELINE_COLUMNS)]
    out.attrs.update(entity=name, type=type_, note=_note(ix))
    return out


def _note(ix) -> str | None:
    """The snapshot's note on incomplete entities (search-first builds), or None."""
    status = getattr(ix, "entity_status", None)
    return status().note if status is not None else None
