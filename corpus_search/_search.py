"""Keyword search with the Whoosh query language, entity facets and article lookup.

Result columns are fixed (see :data:`HIT_COLUMNS`). Facet counts come from per-document
arrays over the matched document numbers, not from Whoosh's ``groupedby``, and only the
stored fields of the rows shown are loaded. Facets combine as OR within one facet and
AND across facets; each facet's counts ignore that facet's own filter, so picking
"RT" still shows how many articles the other outlets have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import OSA
from whoosh import query as wq

from . import _analysis as analysis
from . import _render as render
from ._dups import count_once as keep_first_copies
from ._entities import ENTITY_TYPES
from ._errors import ArticleNotFoundError, QueryError
from ._export import iso_date, to_csv
from ._facets import FACETS, Dates, Filters, Selection, facet, normalise_filters
from ._postings import ranked
from ._query import clean_query
from ._snapshot import Snapshot

__all__ = [
    "HIT_COLUMNS",
    "SORTS",
    "Article",
    "SearchResult",
    "crosstab",
    "facets",
    "hit_rows",
    "make_snippet",
    "search",
    "show",
]

HIT_COLUMNS = ("rank", "doc_id", "score", "title", "outlet", "date", "snippet")
"""Columns of :attr:`SearchResult.hits`: rank (1-based over all pages), doc_id, score
(BM25F; NaN when sorted by date), title, outlet ("" when unknown), date (Timestamp or
NaT), snippet (the best passage, hits wrapped in ``**``)."""
SORTS = ("relevance", "date")
SNIPPET_CHARS = 220


# --- results ------------------------------------------------------------------------------


@dataclass
class SearchResult:
    """One page of results, with the total and facet counts for the whole result set."""

    query: str
    total: int
    hits: pd.DataFrame
    facets: dict[str, pd.DataFrame] = field(default_factory=dict)
    suggestion: str | None = None
    filters: dict[str, list[str]] = field(default_factory=dict)
    page: int = 1
    limit: int = 10
    entities_note: str | None = None
    """Set when the query, filters or facets use person/org/place and the index's entities
    are incomplete (extraction still running, or interrupted); see
    :meth:`Snapshot.entity_status`."""

    @property
    def pages(self) -> int:
        """How many pages of ``limit`` hits the whole result set has."""
        return max(1, -(-self.total // self.limit))

    def to_dict(self) -> dict:
        """The JSON form the CLI prints with ``--json``."""
        hits = []
        for row in self.hits.itertuples(index=False):
            hits.append({"rank": int(row.rank), "doc_id": row.doc_id,
                         "score": None if pd.isna(row.score) else round(float(row.score), 4),
                         "title": row.title, "outlet": row.outlet, "date": iso_date(row.date),
                         "snippet": row.snippet})
        return {"query": self.query, "total": self.total, "hits": hits,
                "facets": {k: [{"value": v, "count": int(c)} for v, c in
                               zip(df["value"], df["count"], strict=True)]
                           for k, df in self.facets.items()},
                "suggestion": self.suggestion, "entities_note": self.entities_note}

    def to_csv(self, path: str | Path, *, provenance: Mapping | None = None) -> Path:
        """Write the hits shown to CSV, formula-like cells neutralised for spreadsheets.

        Parameters
        ----------
        path : str or Path
            The CSV file.
        provenance : mapping or None, default None
            Where the hits come from (``index.provenance(query=...)``); written beside
            the file as ``<file>.provenance.json`` (None: no sidecar).

        Returns
        -------
        Path
            The CSV file.
        """
        return to_csv(self.hits, path, provenance=provenance)

    def _repr_html_(self) -> str:
        return render.search_result_html(self)

    def __repr__(self) -> str:
        return (f"<SearchResult {self.query!r}: {self.total:,} articles, page {self.page}, "
                f"{len(self.hits)} shown>")


def _suggest(snap: Snapshot, q: wq.Query, text: str) -> str | None:
    """A did-you-mean query: unknown words, and rare words with a far commoner neighbour, fixed.

    Neighbours are surface words of the corpus within two edits (one for short words; a
    swap of two letters is one edit); for a rare word, they must be in ten times as many
    articles.
    """
    words, dfs = snap.vocabulary()
    fixes: list[tuple[int, int, str]] = []
    for node in q.leaves():
        start, end = getattr(node, "startchar", None), getattr(node, "endchar", None)
        if (not isinstance(node, wq.Term) or node.fieldname not in ("title", "body")
                or start is None):
            continue
        original = text[start:end]
        word = original.lower()
        pos = snap.vocabulary_set().get(word)
        df = 0 if pos is None else int(dfs[pos])
        if df >= 3:
            continue
        cutoff = 2 if len(word) > 4 else 1
        matches = process.extract(word, words, scorer=OSA.distance,
                                  score_cutoff=cutoff, limit=25)
        best = max((m for m in matches if m[0] != word and analysis.stem(m[0]) != node.text),
                   key=lambda m: (-m[1], dfs[m[2]]), default=None)
        if best is None or (df and dfs[best[2]] < 10 * df):
            continue
        fix = best[0]
        if original[:1].isupper():
            fix = fix[:1].upper() + fix[1:]
        fixes.append((start, end, fix))
    if not fixes:
        return None
    out = text
    for start, end, fix in sorted(set(fixes), reverse=True):
        out = out[:start] + fix + out[end:]
    return out


def query_stems(snap: Snapshot, q: wq.Query) -> set[str]:
    """The indexed words a query matches in titles and bodies (for highlighting)."""
    if isinstance(q, wq.Every):
        return set()
    reader = snap.searcher.reader()
    # A leaf at a time: Whoosh's ``existing_terms`` over a tree reuses its ``fieldname``
    # parameter as a loop variable, so after the first leaf's terms (the title's) it skips
    # every leaf of another field, and words in no title were never highlighted.
    terms = {term for leaf in q.leaves()
             for term in leaf.existing_terms(reader, phrases=True, expand=True)}
    out: set[str] = set()
    for f, t in terms:
        word = t.decode("utf-8") if isinstance(t, bytes) else t
        if f in ("title", "body"):
            out.add(word)
        elif f == "pairs":
            out.update(word.split(" "))
    return out


def make_snippet(text: str, stems: set[str], width: int = SNIPPET_CHARS) -> str:
    """The passage of ``text`` with the most query words, hits wrapped in ``**``."""
    spans = [(s, e) for _, st, s, e in analysis.iter_tokens(text) if st in stems]
    if not spans:
        cut = text[:width]
        return " ".join((cut.rsplit(" ", 1)[0] + " …" if len(text) > width else cut).split())
    best, best_n = spans[0][0], 0
    j = 0
    for i, (s, _) in enumerate(spans):
        while spans[j][0] < s - width // 2:
            j += 1
        if i - j + 1 > best_n:
            best, best_n = spans[j][0], i - j + 1
    start = max(0, best - 40)
    start = text.rfind(" ", 0, start) + 1 if start else 0
    end = min(len(text), start + width)
    if end < len(text):
        end = max(text.rfind(" ", start, end), best + 1)
    out, pos = [], start
    for s, e in spans:
        if s >= start and e <= end:
            out.append(text[pos:s] + "**" + text[s:e] + "**")
            pos = e
    out.append(text[pos:end])
    snippet = " ".join("".join(out).split())
    return ("… " if start else "") + snippet + (" …" if end < len(text) else "")


def hit_rows(snap: Snapshot, docnums: Sequence[int], scores: Sequence[float], stems: set[str],
             first_rank: int, snippets: bool = True) -> pd.DataFrame:
    """Result rows (:data:`HIT_COLUMNS`) for the given docnums, stored fields read only
    for these."""
    s = snap.searcher
    rows = []
    for i, (d, score) in enumerate(zip(docnums, scores, strict=True)):
        f = s.stored_fields(int(d))
        lines = snap.boilerplate.lines_for(f.get("outlet") or "")
        snippet = (make_snippet(analysis.strip_furniture(f.get("text", ""), lines), stems)
                   if snippets else "")
        rows.append((first_rank + i, f["doc_id"], score, f.get("title", ""),
                     f.get("outlet", "") or "", f.get("date"), snippet))
    df = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
    df["score"] = df["score"].astype(float)
    df["date"] = pd.to_datetime(df["date"])
    df["rank"] = df["rank"].astype(int)
    return df


def _top(allowed: np.ndarray, scores: np.ndarray, first: int,
         limit: int) -> tuple[list[int], list[float]]:
    """Rows ``first`` to ``first + limit`` by score, ties by docnum (Whoosh's order)."""
    docs = np.flatnonzero(allowed)
    k = first + limit
    s = scores[docs]
    if len(docs) > k:  # keep the k best and everything tied with the k-th
        kth = np.partition(s, len(s) - k)[len(s) - k]
        docs, s = docs[s >= kth], s[s >= kth]
    order = np.lexsort((docs, -s))[first:k]
    return docs[order].tolist(), s[order].tolist()


def search(snap: Snapshot, query: str = "*", *, filters: Filters = None, dates: Dates = None,
           limit: int = 10, page: int = 1, sort: str = "relevance",
           facets: bool | Sequence[str] = True, facet_limit: int | None = 10,
           snippets: bool = True, count_once: bool = False) -> SearchResult:
    """Search the articles; one page of ranked hits, the total and facet counts.

    Parameters
    ----------
    snap : Snapshot
        The generation to search (``Index.search`` passes the current one).
    query : str, default "*"
        Whoosh query language: ``AND``, ``OR``, ``NOT``, ``"phrases"``, ``word*``,
        ``word~``, fields ``title:``, ``person:``, ``org:``, ``place:``, ``outlet:``,
        ``date:``. ``*`` or "" is every article.
    filters : mapping or None, default None
        Facet (person, org, place, outlet, month) -> a value or a list of values; OR within
        a facet, AND across facets.
    dates : (from, to) or None, default None
        Inclusive publication-date range ("2022-06-01" strings or dates); either end None.
    limit : int, default 10
        Hits per page.
    page : int, default 1
        Which page of hits (1-based).
    sort : {"relevance", "date"}, default "relevance"
        BM25F score, or newest first.
    facets : bool or sequence of str, default True
        Facets to count (True: all of person, org, place, outlet, month; False: none).
        Each facet's counts ignore that facet's own filter.
    facet_limit : int or None, default 10
        Values per facet, most articles first (None: all).
    snippets : bool, default True
        Build highlighted snippets (False leaves the column empty; no stored text read).
    count_once : bool, default False
        Count each cluster of near-duplicate articles (wire copy republished by several
        outlets) once: its earliest article in the selection.

    Returns
    -------
    SearchResult
        ``total``, ``hits`` (columns :data:`HIT_COLUMNS`), ``facets`` (facet -> value,
        count), ``suggestion`` (did-you-mean, or None).
    """
    if sort not in SORTS:
        raise QueryError(f"Unknown sort {sort!r}; use 'relevance' or 'date'.")
    if limit < 1 or page < 1:
        raise QueryError("limit and page must be 1 or more.")
    sel = Selection(query, filters, dates, count_once)
    q = sel.parsed(snap)
    flt = normalise_filters(filters)
    masks = sel.filter_masks(snap)
    scored = None
    if sort == "relevance" and not isinstance(q, wq.Every):
        scored = ranked(snap.searcher, q, len(snap.live), snap.titles)
    if scored:
        matched = scored[0] & snap.live
        dm = sel.date_mask(snap)
        if dm is not None:
            matched &= dm
        if count_once:
            matched = keep_first_copies(snap, matched)
    else:
        matched = sel.matched(snap, q)
    allowed = matched.copy()
    for m in masks.values():
        allowed &= m
    total = int(allowed.sum())
    first = (page - 1) * limit
    stems = query_stems(snap, q)

    if sort == "date" or isinstance(q, wq.Every):
        docs = np.flatnonzero(allowed)
        order = np.lexsort((docs, -snap.day[docs].astype(np.int64)))
        chosen = docs[order][first : first + limit]
        scores = [float("nan")] * len(chosen)
    elif scored:
        chosen, scores = _top(allowed, scored[1], first, limit)
    else:
        allowed_set = {int(d) for d in np.flatnonzero(allowed)}
        res = snap.searcher.search(q, limit=first + limit, filter=allowed_set)
        chosen = [hit.docnum for hit in res][first:]
        scores = [hit.score for hit in res][first:]
    hits = hit_rows(snap, chosen, scores, stems, first + 1, snippets)

    facet_frames: dict[str, pd.DataFrame] = {}
    wanted = FACETS if facets is True else tuple(facets or ())
    for key in wanted:
        m = matched.copy()
        for other, om in masks.items():
            if other != key:
                m &= om
        facet_frames[key] = facet(key).counts(snap, m, limit=facet_limit,
                                              selected=flt.get(key, ()))
    suggestion = (_suggest(snap, q, clean_query(query)) if not isinstance(q, wq.Every)
                  else None)
    uses_entities = (set(wanted) | set(flt) | {f for f, _ in q.iter_all_terms()}
                     ) & set(ENTITY_TYPES)
    return SearchResult(query=query, total=total, hits=hits, facets=facet_frames,
                        suggestion=suggestion, filters=flt, page=page, limit=limit,
                        entities_note=snap.entity_status().note if uses_entities else None)


def facets(snap: Snapshot, field: str, *, query: str = "*", filters: Filters = None,
           dates: Dates = None, limit: int | None = 20, count_once: bool = False
           ) -> pd.DataFrame:
    """Articles per value of one facet.

    Parameters
    ----------
    snap : Snapshot
        The generation to count in.
    field : {"person", "org", "place", "outlet", "month"}
        The facet.
    query, filters, dates
        Which articles count (as in :func:`search`); a filter on ``field`` itself is
        ignored, so every value's count shows.
    limit : int or None, default 20
        Values, most articles first (months: calendar order); None for all.
    count_once : bool, default False
        Count each cluster of near-duplicate articles (wire copy republished by several
        outlets) once: its earliest article in the selection.

    Returns
    -------
    pandas.DataFrame
        Columns ``value``, ``count``; ``attrs`` say whether ``limit`` cut values off.
    """
    f = facet(field)
    flt = normalise_filters(filters)
    sel = Selection(query, {k: v for k, v in flt.items() if k != field}, dates, count_once)
    return f.counts(snap, sel.mask(snap), limit=limit, selected=flt.get(field, ()))


CROSSTAB_FACETS = ("outlet", "month")


def crosstab(snap: Snapshot, rows: str = "outlet", columns: str = "month", *,
             query: str = "*", filters: Filters = None, dates: Dates = None,
             count_once: bool = False) -> pd.DataFrame:
    """Article counts for every pair of two facets (e.g. outlet x month) as a table.

    Parameters
    ----------
    snap : Snapshot
        The generation to count in.
    rows, columns : {"outlet", "month"}, defaults "outlet" and "month"
        The two facets; for months every month from the first to the last is present, so
        gaps show as 0. Articles without a value (no outlet, no date) are left out.
    query, filters, dates
        Which articles count (as in :func:`search`).
    count_once : bool, default False
        Count each cluster of near-duplicate articles (wire copy republished by several
        outlets) once: its earliest article in the selection.

    Returns
    -------
    pandas.DataFrame
        One row per value of ``rows`` (outlets: most articles first), one column per
        value of ``columns``.
    """
    if rows not in CROSSTAB_FACETS or columns not in CROSSTAB_FACETS or rows == columns:
        raise QueryError("crosstab takes two different facets of: outlet, month.")
    if "month" in (rows, columns) and not snap.dated:
        raise QueryError("This corpus has no dates, so there are no months to count by.")
    mask = Selection(query, filters, dates, count_once).mask(snap)
    codes = {"outlet": (snap.outlet_code, snap.outlets),
             "month": (snap.month_code, snap.months)}
    (rc, rl), (cc, cl) = codes[rows], codes[columns]
    keep = mask & (rc >= 0) & (cc >= 0)
    counts = np.bincount(rc[keep].astype(np.int64) * len(cl) + cc[keep],
                         minlength=len(rl) * len(cl)).reshape(len(rl), len(cl))
    df = pd.DataFrame(counts, index=pd.Index(rl, name=rows), columns=pd.Index(cl, name=columns))
    for axis, name in ((0, rows), (1, columns)):
        labels_now = cl if axis else rl
        if name == "month" and len(labels_now):
            labels = [str(p) for p in pd.period_range(min(labels_now), max(labels_now),
                                                      freq="M")]
            df = df.reindex(labels, axis=axis, fill_value=0)
            df = df.rename_axis(name, axis=axis)
    if rows == "outlet":
        return df.loc[df.sum(axis=1).sort_values(ascending=False, kind="stable").index]
    return df


@dataclass
class Article:
    """One indexed article with its entities (name, type, count, surfaces)."""

    doc_id: str
    title: str
    text: str
    outlet: str
    date: datetime | None
    url: str
    source: str
    entities: pd.DataFrame
    furniture: frozenset[str] = frozenset()
    """Boilerplate lines found for the article's outlet (greyed in views, not indexed)."""

    def to_dict(self) -> dict:
        """The JSON form the CLI prints with ``--json``."""
        return {"doc_id": self.doc_id, "title": self.title, "outlet": self.outlet,
                "date": iso_date(self.date), "url": self.url,
                "source": self.source, "text": self.text,
                "entities": self.entities.to_dict(orient="records")}

    def __repr__(self) -> str:
        where = render.meta_line(self.outlet, self.date)
        return (f"<Article {self.doc_id}: {self.title!r}{f' ({where})' if where else ''}, "
                f"{len(self.text.split()):,} words, {len(self.entities)} entities>")

    def _repr_html_(self) -> str:
        return render.article_html(self)


def show(snap: Snapshot, doc_id: str) -> Article:
    """One stored article with its entities (corpus-level types).

    Parameters
    ----------
    snap : Snapshot
        The generation to read.
    doc_id : str
        The article's id (as in search results).

    Returns
    -------
    Article
        Shows itself in Jupyter with its entities marked and page furniture greyed.
    """
    docnum = snap.docnum.get(doc_id)
    if docnum is None:
        raise ArticleNotFoundError(f"no article {doc_id!r} in {snap.path}/")
    f = snap.searcher.stored_fields(docnum)
    types = {}
    for code in snap.ent_ids[snap.ent_indptr[docnum] : snap.ent_indptr[docnum + 1]]:
        name, t = snap.entities[code]
        types[name] = t
    rows = [(n, types.get(n, t), c, list(s)) for n, t, c, s in json.loads(f.get("entities", "[]"))]
    ents = pd.DataFrame(rows, columns=["name", "type", "count", "surfaces"])
    return Article(doc_id=f["doc_id"], title=f.get("title", ""), text=f.get("text", ""),
                   outlet=f.get("outlet", "") or "", date=f.get("date"), url=f.get("url", ""),
                   source=f.get("source", ""), entities=ents,
                   furniture=snap.boilerplate.lines_for(f.get("outlet", "") or ""))
