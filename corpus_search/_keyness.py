"""Keyness (what one set of articles says more than another) and similar articles.

Keyness compares word frequencies in a target set with a reference set (by default the
rest of the corpus): log-likelihood G2 (Rayson & Garside 2000) for how sure, and log
ratio (Hardie 2014, log2 of the ratio of relative frequencies, 0.5 added to a zero
count) for how big. Counts come from the index postings of each word.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._errors import QueryError
from ._index import Index
from ._search import HIT_COLUMNS, Filters, _rows, normalise_filters, selection

__all__ = ["KEYNESS_COLUMNS", "keyness", "similar"]

KEYNESS_COLUMNS = ("term", "forms", "target", "reference", "target_per_10k",
                   "reference_per_10k", "g2", "log_ratio")


def keyness(index: Index, target_filters: Filters, reference_filters: Filters = None, *,
            target_query: str | None = None, reference_query: str | None = None,
            min_freq: int = 5, direction: str = "over", limit: int | None = 50
            ) -> pd.DataFrame:
    """Key terms of the target articles against the reference articles, sorted by G2.

    ``direction`` is "over" (used more in the target), "under" or "both". Terms seen
    fewer than ``min_freq`` times in target and reference together are left out.
    """
    if direction not in ("over", "under", "both"):
        raise QueryError("direction must be 'over', 'under' or 'both'.")
    if not normalise_filters(target_filters) and not target_query:
        raise QueryError("keyness needs target filters or a target query "
                         "(e.g. outlet=RT).")
    target = selection(index, target_query, target_filters)
    if reference_filters or reference_query:
        reference = selection(index, reference_query, reference_filters) & ~target
    else:
        reference = index.live & ~target
    if not target.any() or not reference.any():
        raise QueryError(f"The target has {int(target.sum())} articles and the reference "
                         f"{int(reference.sum())}; both need at least one.")
    c, d = float(index.tokens[target].sum()), float(index.tokens[reference].sum())
    reader = index.searcher.reader()
    rows = []
    for term, info in reader.iter_field("body"):
        if info.weight() < min_freq:
            continue
        m = reader.postings("body", term)
        a = b = 0
        while m.is_active():
            doc = m.id()
            if target[doc]:
                a += m.value_as("frequency")
            elif reference[doc]:
                b += m.value_as("frequency")
            m.next()
        if a + b < min_freq:
            continue
        e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
        g2 = 2 * ((a * math.log(a / e1) if a else 0) + (b * math.log(b / e2) if b else 0))
        lr = math.log2(((a or 0.5) / c) / ((b or 0.5) / d))
        word = term.decode() if isinstance(term, bytes) else term
        rows.append((word, a, b, g2, lr))
    df = pd.DataFrame(rows, columns=["term", "target", "reference", "g2", "log_ratio"])
    if direction == "over":
        df = df[df["log_ratio"] > 0]
    elif direction == "under":
        df = df[df["log_ratio"] < 0]
    df = df.sort_values(["g2", "term"], ascending=[False, True]).head(limit)
    surfaces = index.surfaces()
    df.insert(1, "forms", [", ".join(w for w, _ in surfaces.get(t, [])[:5]) for t in df["term"]])
    df.insert(4, "target_per_10k", df["target"] / c * 10_000)
    df.insert(5, "reference_per_10k", df["reference"] / d * 10_000)
    df = df.reset_index(drop=True)
    df.attrs = {"target_articles": int(target.sum()), "reference_articles":
                int(reference.sum()), "target_tokens": int(c), "reference_tokens": int(d)}
    return df


def similar(index: Index, doc_id: str, limit: int = 10, filters: Filters = None
            ) -> pd.DataFrame:
    """Articles most like ``doc_id`` (Whoosh more-like-this over the body), as hits."""
    from . import _analysis as analysis
    from ._errors import ArticleNotFoundError

    docnum = index.docnum.get(doc_id)
    if docnum is None:
        raise ArticleNotFoundError(f"no article {doc_id!r} in {index.path}/")
    s = index.searcher
    text = analysis.strip_furniture(s.stored_fields(docnum).get("text", ""))
    allowed = selection(index, None, filters)
    allowed[docnum] = False
    flt = {int(d) for d in np.flatnonzero(allowed)}
    results = s.more_like(docnum, "body", text=text, top=limit, numterms=25, filter=flt)
    docs = [h.docnum for h in results]
    df = _rows(index, docs, [h.score for h in results], set(), 1)
    return df[list(HIT_COLUMNS)]
