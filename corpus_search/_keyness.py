"""Keyness (what one set of articles says more than another) and similar articles.

Keyness compares word frequencies in a target set with a reference set (by default the
rest of the corpus): log-likelihood G2 (Rayson & Garside 2000) for how sure, and log
ratio (Hardie 2014, log2 of the ratio of relative frequencies, 0.5 added to a zero
count) for how big. Counts come from the index postings of each word.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from . import _analysis as analysis
from ._errors import ArticleNotFoundError, QueryError
from ._facets import Dates, Filters, Selection
from ._search import HIT_COLUMNS, hit_rows
from ._snapshot import Snapshot

__all__ = ["DIRECTIONS", "KEYNESS_COLUMNS", "as_selection", "keyness", "similar"]

KEYNESS_COLUMNS = ("term", "forms", "target", "reference", "target_per_10k",
                   "reference_per_10k", "g2", "log_ratio", "stem")
"""Columns of :func:`keyness`: term (the word as readers know it: its commonest form),
forms (the surface words counted), target and reference (occurrences), the same per
10,000 words, g2 (log-likelihood), log_ratio (log2 of the ratio of relative
frequencies), stem (the indexed form)."""
DIRECTIONS = ("over", "under", "both")


def as_selection(value: Selection | Filters) -> Selection:
    """A :class:`Selection`, or filters (a mapping) taken as one."""
    if value is None or isinstance(value, Selection):
        return value or Selection()
    if isinstance(value, Mapping):
        return Selection(filters=value)
    raise QueryError("A target or reference is a Selection or a mapping of filters "
                     "(e.g. {'outlet': 'RT'}).")


def keyness(snap: Snapshot, target: Selection | Filters, reference: Selection | Filters = None,
            *, min_freq: int = 5, direction: str = "over", limit: int | None = 50
            ) -> pd.DataFrame:
    """Key terms of the target articles against the reference articles, by G2.

    Parameters
    ----------
    snap : Snapshot
        The generation to count in.
    target : Selection or mapping
        The articles studied: ``Selection(query=..., filters=..., dates=...)`` or just
        filters, e.g. ``{"outlet": "RT"}``. It must narrow the corpus.
    reference : Selection, mapping or None, default None
        What they are compared with (None: the rest of the corpus); articles in both
        count as target only.
    min_freq : int, default 5
        Words seen fewer times in target and reference together are left out.
    direction : {"over", "under", "both"}, default "over"
        Words used more in the target, less, or both.
    limit : int or None, default 50
        Rows, highest G2 first (None: all).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`KEYNESS_COLUMNS`; ``attrs`` hold the articles and words of each side.
    """
    if direction not in DIRECTIONS:
        raise QueryError("direction must be 'over', 'under' or 'both'.")
    target_sel = as_selection(target)
    if target_sel.is_everything():
        raise QueryError("keyness needs target filters or a target query "
                         "(e.g. outlet=RT).")
    target_mask = target_sel.mask(snap)
    if reference is not None:
        reference_mask = as_selection(reference).mask(snap) & ~target_mask
    else:
        reference_mask = snap.live & ~target_mask
    if not target_mask.any() or not reference_mask.any():
        raise QueryError(f"The target has {int(target_mask.sum())} articles and the reference "
                         f"{int(reference_mask.sum())}; both need at least one.")
    c, d = float(snap.tokens[target_mask].sum()), float(snap.tokens[reference_mask].sum())
    reader = snap.searcher.reader()
    rows = []
    for term, info in reader.iter_field("body"):
        if info.weight() < min_freq:
            continue
        m = reader.postings("body", term)
        a = b = 0
        while m.is_active():
            doc = m.id()
            if target_mask[doc]:
                a += m.value_as("frequency")
            elif reference_mask[doc]:
                b += m.value_as("frequency")
            m.next()
        if a + b < min_freq:
            continue
        e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
        g2 = 2 * ((a * math.log(a / e1) if a else 0) + (b * math.log(b / e2) if b else 0))
        lr = math.log2(((a or 0.5) / c) / ((b or 0.5) / d))
        word = term.decode() if isinstance(term, bytes) else term
        rows.append((word, a, b, g2, lr))
    df = pd.DataFrame(rows, columns=["stem", "target", "reference", "g2", "log_ratio"])
    if direction == "over":
        df = df[df["log_ratio"] > 0]
    elif direction == "under":
        df = df[df["log_ratio"] < 0]
    df = df.sort_values(["g2", "stem"], ascending=[False, True]).head(limit)
    surfaces = snap.surfaces()
    df["term"] = [snap.word_for(t) for t in df["stem"]]
    df["forms"] = [", ".join(w for w, _ in surfaces.get(t, [])[:5]) for t in df["stem"]]
    df["target_per_10k"] = df["target"] / c * 10_000
    df["reference_per_10k"] = df["reference"] / d * 10_000
    df = df[list(KEYNESS_COLUMNS)].reset_index(drop=True)
    df.attrs = {"target_articles": int(target_mask.sum()),
                "reference_articles": int(reference_mask.sum()),
                "target_tokens": int(c), "reference_tokens": int(d)}
    return df


def similar(snap: Snapshot, doc_id: str, *, limit: int = 10, query: str = "*",
            filters: Filters = None, dates: Dates = None) -> pd.DataFrame:
    """Articles most like one article (Whoosh's more-like-this over the body).

    Parameters
    ----------
    snap : Snapshot
        The generation to search.
    doc_id : str
        The article to match.
    limit : int, default 10
        How many articles.
    query, filters, dates
        Which articles may be returned, as in search.

    Returns
    -------
    pandas.DataFrame
        Columns of search hits (rank, doc_id, score, title, outlet, date, snippet; the
        snippet is the article's opening).
    """
    docnum = snap.docnum.get(doc_id)
    if docnum is None:
        raise ArticleNotFoundError(f"no article {doc_id!r} in {snap.path}/")
    s = snap.searcher
    fields = s.stored_fields(docnum)
    text = analysis.strip_furniture(fields.get("text", ""),
                                    snap.boilerplate.lines_for(fields.get("outlet") or ""))
    allowed = Selection(query, filters, dates).mask(snap)
    allowed[docnum] = False
    flt = {int(d) for d in np.flatnonzero(allowed)}
    results = s.more_like(docnum, "body", text=text, top=limit, numterms=25, filter=flt)
    docs = [h.docnum for h in results]
    df = hit_rows(snap, docs, [h.score for h in results], set(), 1)
    return df[list(HIT_COLUMNS)]
