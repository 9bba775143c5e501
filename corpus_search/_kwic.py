"""Keyword in context: every hit of a query in the article bodies, with exact offsets.

Offsets (``start``, ``end``) index the stored text as :meth:`Index.show`
returns it, so ``text[start:end] == match``. Hits inside page furniture are not shown
(furniture is not indexed). Words, phrases and wildcards of the query are matched as
indexed (stemmed); words under NOT are not matches.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from whoosh import query as wq

from . import _analysis as analysis
from ._errors import QueryError
from ._facets import Dates, Filters, Selection
from ._postings import check_time
from ._query import expand
from ._snapshot import Snapshot

__all__ = ["KWIC_COLUMNS", "SORTS", "concordance"]

KWIC_COLUMNS = ("doc_id", "outlet", "date", "left", "match", "right", "start", "end")
"""Columns of :func:`concordance`: the article, its outlet and date, up to ``width``
characters left and right of the hit, the hit as written, and its offsets in the text."""
SORTS = ("doc", "left", "right")
Pattern = list[set[str]]  # one set of stems per position


def _patterns(q: wq.Query, reader) -> list[Pattern]:
    if isinstance(q, wq.Not):
        return []
    if isinstance(q, wq.AndNot):
        return _patterns(q.a, reader)
    if isinstance(q, wq.Phrase):
        return [[{w} for w in q.words]] if q.fieldname in ("title", "body") else []
    if isinstance(q, wq.Term):
        if q.fieldname == "pairs":  # a two-word phrase; boost 0 marks a longer one's filter
            return [[{w} for w in q.text.split(" ")]] if q.boost else []
        return [[{q.text}]] if q.fieldname in ("title", "body") else []
    if isinstance(q, wq.Prefix | wq.Wildcard | wq.FuzzyTerm | wq.Regex):
        if q.fieldname not in ("title", "body"):
            return []
        words = set(expand(q, reader))
        return [[words]] if words else []
    out: list[Pattern] = []
    for child in q.children():
        out.extend(_patterns(child, reader))
    return out


def _context(text: str, start: int, end: int, width: int) -> tuple[str, str]:
    left = " ".join(text[max(0, start - 3 * width) : start].split())
    right = " ".join(text[end : end + 3 * width].split())
    if start > 0 and text[start - 1].isspace():
        left += " "
    if end < len(text) and text[end].isspace():
        right = " " + right
    return left[-width:], right[:width]


def _words(s: str) -> list[str]:
    return re.findall(r"\w+", s.lower())


def concordance(snap: Snapshot, query: str, *, width: int = 60, sort: str = "doc",
                limit: int | None = None, filters: Filters = None,
                dates: Dates = None) -> pd.DataFrame:
    """Every hit of ``query`` in its context (keyword in context), sorted like AntConc.

    Parameters
    ----------
    snap : Snapshot
        The generation to read.
    query : str
        Words, phrases and wildcards to show (as in search; words under NOT are not hits).
    width : int, default 60
        Characters of context on each side.
    sort : {"doc", "left", "right"}, default "doc"
        Article order then position; or by the words left of the hit (nearest first); or
        by the words right of it.
    limit : int or None, default None
        At most this many rows (None: all).
    filters, dates
        Which articles, as in search.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`KWIC_COLUMNS`.
    """
    if sort not in SORTS:
        raise QueryError(f"Unknown sort {sort!r}; use doc, left or right.")
    sel = Selection(query, filters, dates)
    q = sel.parsed(snap)
    if isinstance(q, wq.Every):
        raise QueryError("A concordance needs words to find, not every article.",
                         suggestion=None)
    # Longest first, so a phrase is shown whole rather than as its first word.
    patterns = sorted(_patterns(q, snap.searcher.reader()), key=len, reverse=True)
    if not patterns:
        raise QueryError("The query has no words or phrases to show in context.")
    docs = np.flatnonzero(sel.mask(snap))
    rows = []
    for d in docs:
        check_time()
        fields = snap.searcher.stored_fields(int(d))
        text = fields.get("text", "")
        toks = analysis.article_tokens(
            text, snap.boilerplate.lines_for(fields.get("outlet") or ""))
        stems = [t[1] for t in toks]
        for i in range(len(toks)):
            for pat in patterns:
                n = len(pat)
                if i + n <= len(toks) and all(stems[i + k] in pat[k] for k in range(n)):
                    start, end = toks[i][2], toks[i + n - 1][3]
                    left, right = _context(text, start, end, width)
                    rows.append((fields["doc_id"], fields.get("outlet", "") or "",
                                 fields.get("date"), left, text[start:end], right, start, end))
                    break
    df = pd.DataFrame(rows, columns=list(KWIC_COLUMNS))
    df["date"] = pd.to_datetime(df["date"])
    if sort == "left":
        key = df["left"].map(lambda s: tuple(reversed(_words(s))))
        df = df.iloc[sorted(range(len(df)), key=lambda i: (key.iloc[i], df["match"].iloc[i]
                                                            .lower()))]
    elif sort == "right":
        key = df["right"].map(lambda s: tuple(_words(s)))
        df = df.iloc[sorted(range(len(df)), key=lambda i: (key.iloc[i], df["match"].iloc[i]
                                                            .lower()))]
    if limit is not None:
        df = df.head(limit)
    return df.reset_index(drop=True)
