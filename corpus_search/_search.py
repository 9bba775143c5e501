"""Keyword search with the Whoosh query language, entity facets and article lookup.

Result columns are fixed (see :data:`HIT_COLUMNS`). Facet counts come from per-document
arrays over the matched document numbers, not from Whoosh's ``groupedby``, and only the
stored fields of the rows shown are loaded. Facets combine as OR within one facet and
AND across facets; each facet's counts ignore that facet's own filter, so picking
"RT" still shows how many articles the other outlets have.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser.dateparse import DateParserPlugin

from . import _analysis as analysis
from ._entities import ENTITY_TYPES, load_aliases
from ._errors import ArticleNotFoundError, QueryError
from ._index import Index
from ._postings import query_docs, ranked

__all__ = [
    "FACETS",
    "FIELDS",
    "HIT_COLUMNS",
    "Article",
    "SearchResult",
    "crosstab",
    "facets",
    "normalise_filters",
    "parse_query",
    "search",
    "selection",
    "show",
]

HIT_COLUMNS = ("rank", "doc_id", "score", "title", "outlet", "date", "snippet")
"""Columns of :attr:`SearchResult.hits`: rank (1-based over all pages), doc_id, score
(BM25F; NaN when sorted by date), title, outlet ("" when unknown), date (Timestamp or
NaT), snippet (the best passage, hits wrapped in ``**``)."""
FACETS = ("person", "org", "place", "outlet", "month")
FIELDS = ("title", "body", "person", "org", "place", "outlet", "date")
MAX_QUERY_CHARS = 1000
MAX_EXPANSION = 256
SNIPPET_CHARS = 220
Filters = Mapping[str, str | Sequence[str]] | None


# --- parsing ----------------------------------------------------------------------------

_FIELD_RE = re.compile(r"(?<![\w.])([A-Za-z_][\w]*):(?!//)")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _outside_quotes(text: str) -> str:
    """``text`` with quoted parts blanked out (same length)."""
    return re.sub(r'"[^"]*"', lambda m: " " * len(m.group()), text)


def _check_syntax(text: str) -> None:
    try:
        _check_once(text)
    except QueryError as exc:
        suggestion = exc.suggestion
        for _ in range(10):  # repair until the suggestion itself parses
            if not suggestion:
                break
            try:
                _check_once(suggestion)
                break
            except QueryError as again:
                suggestion = again.suggestion
        if suggestion:
            suggestion = re.sub(r"(\s+(AND|OR|NOT|ANDNOT|ANDMAYBE))+\s*$", "", suggestion) or "*"
        raise QueryError(exc.message, suggestion=suggestion) from None


def _check_once(text: str) -> None:
    if text.count('"') % 2:
        i = text.rfind('"')
        raise QueryError("The query has an unbalanced quote (\").",
                         suggestion=(text[:i] + text[i + 1 :]).strip() or "*")
    bare = _outside_quotes(text)
    for open_, close in ("()", "[]", "{}"):
        depth, bad = 0, None
        for i, ch in enumerate(bare):
            if ch == open_:
                depth += 1
            elif ch == close:
                depth -= 1
                if depth < 0:
                    bad = i
                    break
        if depth or bad is not None:
            fixed = text + close * depth if bad is None else text[:bad] + text[bad + 1 :]
            fixed = re.sub(r"\s+(AND|OR|NOT|ANDNOT|ANDMAYBE)\s*([)\]}]*)$", r"\2", fixed.strip())
            fixed = re.sub(r"\(\s*\)", "", fixed).strip()
            raise QueryError(f"The query has an unbalanced {open_ if bad is None else close}.",
                             suggestion=fixed or "*")
    for m in _FIELD_RE.finditer(bare):
        if m.group(1) not in FIELDS:
            rest = (text[: m.start()] + text[m.end() :]).strip()
            raise QueryError(f"Unknown field {m.group(1)!r}; fields are {', '.join(FIELDS)}.",
                             suggestion=rest or "*")


def _parser(index: Index) -> qparser.QueryParser:
    p = qparser.MultifieldParser(["title", "body"], index.schema,
                                 fieldboosts={"title": 2.0, "body": 1.0})
    p.add_plugin(DateParserPlugin(free=False))
    p.add_plugin(qparser.FuzzyTermPlugin())
    p.add_plugin(qparser.GtLtPlugin())
    return p


def _resolve_entity(index: Index, type_: str, value: str) -> str:
    """An entity value as typed -> the indexed (lower-cased) canonical name."""
    name = " ".join(value.split())
    canonical, _ = load_aliases().get(name.casefold(), (name, None))
    if index.entity_code(canonical, type_) is not None:
        return canonical.casefold()
    # A bare surname: the one entity of that type whose last word it is.
    owners = [n for n, t in index.entities if t == type_ and " " in n
              and n.rsplit(" ", 1)[1].casefold() == name.casefold()]
    if len(owners) == 1:
        return owners[0].casefold()
    return canonical.casefold()


def _without_dates(text: str) -> str:
    """The query with its date terms taken out (a suggestion after a bad date)."""
    return " ".join(re.sub(r'date:("[^"]*"|\[[^\]]*\]?|\S+)', " ", text).split()) or "*"


def phrase_pairs(words: Sequence[str], common: frozenset[str]) -> list[str]:
    """The ``pairs`` terms of a phrase's stems: neighbours that are both common."""
    return list(dict.fromkeys(f"{a} {b}" for a, b in itertools.pairwise(words)
                              if a in common and b in common))


def phrase_query(node: wq.Phrase, common: frozenset[str]) -> wq.Query:
    """An exact body phrase helped by the ``pairs`` field (other phrases unchanged).

    Two common words are one ``pairs`` term, scored like any term. Otherwise the phrase
    is ANDed with the pairs it has (boost 0: they only narrow the candidates), so
    positions are read only in articles that hold every pair; a phrase with no common
    pair has a rarer word, which keeps its own positional check small.
    """
    if node.fieldname != "body" or node.slop != 1 or len(node.words) < 2:
        return node
    pairs = phrase_pairs(node.words, common)
    if len(node.words) == 2 and pairs:
        return wq.Term("pairs", pairs[0], boost=node.boost)
    if not pairs:
        return node
    return wq.And([*(wq.Term("pairs", p, boost=0.0) for p in pairs), node])


def parse_query(index: Index, text: str) -> wq.Query:
    """Parse a query string, or raise :class:`QueryError` with a one-line reason.

    ``*`` or an empty query means every article. Wildcards that would expand to more
    than ``MAX_EXPANSION`` words are refused rather than run.
    """
    text = _CONTROL_RE.sub(" ", text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is {len(text):,} characters long; the limit is "
                         f"{MAX_QUERY_CHARS:,}.",
                         suggestion=" ".join(text[:200].split()[:-1]) or None)
    if text in ("", "*", "*:*"):
        return wq.Every()
    _check_syntax(text)
    try:
        q = _parser(index).parse(text)
    except Exception as exc:  # Whoosh raises bare Exception for unparseable values
        if "date" in str(exc):
            raise QueryError("Could not read a date in the query; write dates as 2022-01-31 "
                             "and ranges as date:[2022-01-01 to 2022-02-28].",
                             suggestion=_without_dates(text)) from None
        raise QueryError(f"Could not read the query: {exc}.", suggestion=None) from None

    def walk(node: wq.Query) -> Iterator[wq.Query]:
        yield node
        for child in node.children():
            yield from walk(child)

    if "date:" in text and any(isinstance(n, type(wq.NullQuery)) for n in walk(q)):
        raise QueryError("Could not read a date in the query; write dates as 2022-01-31 and "
                         "ranges as date:[2022-01-01 to 2022-02-28].",
                         suggestion=_without_dates(text))
    common = index.pair_stems

    def fix(node: wq.Query) -> wq.Query:
        if isinstance(node, wq.Term) and node.fieldname in ENTITY_TYPES:
            return wq.Term(node.fieldname, _resolve_entity(index, node.fieldname, node.text),
                           boost=node.boost)
        if isinstance(node, wq.Phrase):
            return phrase_query(node, common)
        return node

    q = q.accept(fix)
    reader = index.searcher.reader()
    for node in q.leaves():
        if isinstance(node, wq.Term) and node.fieldname == "date":
            try:  # Whoosh parses a date term only when it runs the query
                index.schema["date"].to_bytes(node.text)
            except Exception:
                raise QueryError(f"Could not read {node.text!r} as a date; write dates as "
                                 "2022-01-31 and ranges as date:[2022-01-01 to 2022-02-28].",
                                 suggestion=_without_dates(text)) from None
        if isinstance(node, wq.Wildcard | wq.Prefix | wq.FuzzyTerm | wq.Regex):
            shown = getattr(node, "text", "") + ("*" if isinstance(node, wq.Prefix) else "")
            if isinstance(node, wq.Wildcard) and not shown.strip("*?"):
                raise QueryError(f"{shown!r} alone is not a word pattern.", suggestion="*")
            n = sum(1 for _ in zip(range(MAX_EXPANSION + 1), node._btexts(reader),
                                   strict=False))
            if n > MAX_EXPANSION:
                raise QueryError(f"{shown!r} matches more than {MAX_EXPANSION} different "
                                 "words; give more letters before the wildcard.",
                                 suggestion=None)
    if q is wq.NullQuery or not list(q.leaves()):
        raise QueryError(f"Nothing to search for in {text!r}: words of one letter and "
                         "punctuation are not indexed.", suggestion="*")
    return q


# --- filters ------------------------------------------------------------------------------


def normalise_filters(filters: Filters) -> dict[str, list[str]]:
    """``{"outlet": "RT"}`` -> ``{"outlet": ["RT"]}``; unknown facets raise QueryError."""
    out: dict[str, list[str]] = {}
    for key, value in (filters or {}).items():
        if key not in FACETS:
            raise QueryError(f"Unknown filter {key!r}; filters are {', '.join(FACETS)}.")
        values = [value] if isinstance(value, str) else list(value)
        if values:
            out[key] = [str(v) for v in values]
    return out


def _facet_mask(index: Index, key: str, values: Iterable[str]) -> np.ndarray:
    n = len(index.live)
    if key == "outlet":
        lower = {o.casefold(): i for i, o in enumerate(index.outlets)}
        codes = [lower[v.casefold()] for v in values if v.casefold() in lower]
        return np.isin(index.outlet_code, codes)
    if key == "month":
        codes = [index.months.index(v[:7]) for v in values if v[:7] in index.months]
        return np.isin(index.month_code, codes)
    mask = np.zeros(n, dtype=bool)
    for v in values:
        code = index.entity_code(_resolve_entity(index, key, v), key)
        if code is not None:
            mask[index.entity_docs(code)] = True
    return mask


Dates = tuple[object, object] | None


def _date_mask(index: Index, dates: Dates) -> np.ndarray | None:
    """Articles dated from ``dates[0]`` to ``dates[1]`` inclusive (either may be None)."""
    if not dates or all(d in (None, "") for d in dates):
        return None
    lo, hi = dates
    epoch = np.datetime64("1970-01-01", "D")
    mask = index.day != np.iinfo(np.int32).min
    try:
        if lo not in (None, ""):
            mask &= index.day >= (np.datetime64(str(lo)[:10], "D") - epoch).astype(np.int64)
        if hi not in (None, ""):
            mask &= index.day <= (np.datetime64(str(hi)[:10], "D") - epoch).astype(np.int64)
    except ValueError:
        raise QueryError(f"Dates are written 2022-01-31; got {dates!r}.") from None
    return mask


def selection(index: Index, query: str | None = None, filters: Filters = None,
              dates: Dates = None) -> np.ndarray:
    """Boolean array over docnums: live articles matching ``query``, ``filters`` and
    the date range ``dates`` (from, to; inclusive; either end may be None)."""
    mask = _matched_mask(index, parse_query(index, query or "*"))
    for key, values in normalise_filters(filters).items():
        mask &= _facet_mask(index, key, values)
    dm = _date_mask(index, dates)
    return mask if dm is None else mask & dm


def _matched_mask(index: Index, q: wq.Query) -> np.ndarray:
    if isinstance(q, wq.Every):
        return index.live.copy()
    return query_docs(index.searcher, q, len(index.live)) & index.live


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
                         "title": row.title, "outlet": row.outlet,
                         "date": None if pd.isna(row.date) else row.date.date().isoformat(),
                         "snippet": row.snippet})
        return {"query": self.query, "total": self.total, "hits": hits,
                "facets": {k: [{"value": v, "count": int(c)} for v, c in
                               zip(df["value"], df["count"], strict=True)]
                           for k, df in self.facets.items()},
                "suggestion": self.suggestion}

    def to_csv(self, path) -> None:
        """Write the hits shown to CSV, formula-like cells neutralised for spreadsheets."""
        from ._export import to_csv

        to_csv(self.hits, path)

    def _repr_html_(self) -> str:
        from ._render import search_result_html

        return search_result_html(self)

    def __repr__(self) -> str:
        return (f"<SearchResult {self.query!r}: {self.total:,} articles, page {self.page}, "
                f"{len(self.hits)} shown>")


def _suggest(index: Index, q: wq.Query, text: str) -> str | None:
    """A did-you-mean query: unknown words, and rare words with a far commoner neighbour, fixed.

    Neighbours are surface words of the corpus within two edits (one for short words; a
    swap of two letters is one edit); for a rare word, they must be in ten times as many
    articles.
    """
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    words, dfs = index.vocabulary()
    fixes: list[tuple[int, int, str]] = []
    for node in q.leaves():
        start, end = getattr(node, "startchar", None), getattr(node, "endchar", None)
        if (not isinstance(node, wq.Term) or node.fieldname not in ("title", "body")
                or start is None):
            continue
        original = text[start:end]
        word = original.lower()
        pos = index.vocabulary_set().get(word)
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


def _query_stems(index: Index, q: wq.Query) -> set[str]:
    if isinstance(q, wq.Every):
        return set()
    terms = q.existing_terms(index.searcher.reader(), phrases=True, expand=True)
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


def _rows(index: Index, docnums: Sequence[int], scores: Sequence[float], stems: set[str],
          first_rank: int, snippets: bool = True) -> pd.DataFrame:
    s = index.searcher
    rows = []
    for i, (d, score) in enumerate(zip(docnums, scores, strict=True)):
        f = s.stored_fields(int(d))
        snippet = (make_snippet(analysis.strip_furniture(f.get("text", "")), stems)
                   if snippets else "")
        rows.append((first_rank + i, f["doc_id"], score, f.get("title", ""),
                     f.get("outlet", "") or "", f.get("date"), snippet))
    df = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
    df["score"] = df["score"].astype(float)
    df["date"] = pd.to_datetime(df["date"])
    df["rank"] = df["rank"].astype(int)
    return df


def _facet_counts(index: Index, mask: np.ndarray, key: str, limit: int | None) -> pd.DataFrame:
    if key == "outlet":
        codes = index.outlet_code[mask]
        counts = np.bincount(codes[codes >= 0], minlength=len(index.outlets))
        names = index.outlets
    elif key == "month":
        codes = index.month_code[mask]
        counts = np.bincount(codes[codes >= 0], minlength=len(index.months))
        names = index.months
    else:
        docs, ids = index.type_pairs[key]
        counts = np.bincount(ids[mask[docs]], minlength=len(index.entities))
        names = [n for n, _ in index.entities]
    nz = np.flatnonzero(counts)
    df = pd.DataFrame({"value": [names[i] for i in nz], "count": counts[nz].astype(int)})
    if key == "month":
        df = df.sort_values("value", kind="stable")
    else:
        df = df.sort_values(["count", "value"], ascending=[False, True], kind="stable")
    if limit is not None:
        df = df.head(limit)
    return df.reset_index(drop=True)


def search(index: Index, query: str = "*", *, filters: Filters = None, limit: int = 10,
           page: int = 1, sort: str = "relevance", facets: bool | Sequence[str] = True,
           facet_limit: int | None = 10, dates: Dates = None,
           snippets: bool = True) -> SearchResult:
    """Search ``index``; returns one page of hits, the total and facet counts.

    ``filters`` maps a facet (person, org, place, outlet, month) to one value or a list
    (OR within a facet, AND across facets); ``dates`` is a (from, to) range, inclusive,
    either end None. ``sort`` is ``"relevance"`` or ``"date"``
    (newest first). ``facets`` is True for all of :data:`FACETS`, or a list of them.
    ``snippets=False`` leaves the snippet column empty (no stored text is read).
    """
    if sort not in ("relevance", "date"):
        raise QueryError(f"Unknown sort {sort!r}; use 'relevance' or 'date'.")
    if limit < 1 or page < 1:
        raise QueryError("limit and page must be 1 or more.")
    q = parse_query(index, query)
    flt = normalise_filters(filters)
    masks = {k: _facet_mask(index, k, v) for k, v in flt.items()}
    scored = None
    if sort == "relevance" and not isinstance(q, wq.Every):
        scored = ranked(index.searcher, q, len(index.live))
    matched = scored[0] & index.live if scored else _matched_mask(index, q)
    dm = _date_mask(index, dates)
    if dm is not None:
        matched &= dm
    allowed = matched.copy()
    for m in masks.values():
        allowed &= m
    total = int(allowed.sum())
    first = (page - 1) * limit
    stems = _query_stems(index, q)

    if sort == "date" or isinstance(q, wq.Every):
        docs = np.flatnonzero(allowed)
        order = np.lexsort((docs, -index.day[docs].astype(np.int64)))
        chosen = docs[order][first : first + limit]
        scores = [float("nan")] * len(chosen)
    elif scored:
        chosen, scores = _top(allowed, scored[1], first, limit)
    else:
        filt = None if not flt else {int(d) for d in np.flatnonzero(allowed)}
        res = index.searcher.search(q, limit=first + limit, filter=filt)
        chosen = [hit.docnum for hit in res][first:]
        scores = [hit.score for hit in res][first:]
    hits = _rows(index, chosen, scores, stems, first + 1, snippets)

    facet_frames: dict[str, pd.DataFrame] = {}
    wanted = FACETS if facets is True else tuple(facets or ())
    for key in wanted:
        m = matched.copy()
        for other, om in masks.items():
            if other != key:
                m &= om
        facet_frames[key] = _facet_counts(index, m, key, facet_limit)
    suggestion = _suggest(index, q, query) if not isinstance(q, wq.Every) else None
    return SearchResult(query=query, total=total, hits=hits, facets=facet_frames,
                        suggestion=suggestion, filters=flt, page=page, limit=limit)


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


def facets(index: Index, field: str, *, query: str = "*", filters: Filters = None,
           limit: int | None = 20, dates: Dates = None) -> pd.DataFrame:
    """Counts of articles per value of one facet (columns: value, count)."""
    if field not in FACETS:
        raise QueryError(f"Unknown facet {field!r}; facets are {', '.join(FACETS)}.")
    q = parse_query(index, query)
    flt = normalise_filters(filters)
    m = _matched_mask(index, q)
    dm = _date_mask(index, dates)
    if dm is not None:
        m &= dm
    for key, values in flt.items():
        if key != field:
            m &= _facet_mask(index, key, values)
    return _facet_counts(index, m, field, limit)


def crosstab(index: Index, rows: str = "outlet", columns: str = "month", *,
             query: str = "*", filters: Filters = None, dates: Dates = None) -> pd.DataFrame:
    """Article counts for every pair of two facets (e.g. outlet x month) as a table.

    Rows and columns are the values of ``rows`` and ``columns`` (outlet or month);
    for months every month from the first to the last is a column, so gaps show as 0.
    Articles without a value (no outlet, no date) are left out.
    """
    codes = {"outlet": (index.outlet_code, index.outlets),
             "month": (index.month_code, index.months)}
    if rows not in codes or columns not in codes or rows == columns:
        raise QueryError("crosstab takes two different facets of: outlet, month.")
    mask = selection(index, query, filters, dates)
    (rc, rl), (cc, cl) = codes[rows], codes[columns]
    keep = mask & (rc >= 0) & (cc >= 0)
    counts = np.bincount(rc[keep].astype(np.int64) * len(cl) + cc[keep],
                         minlength=len(rl) * len(cl)).reshape(len(rl), len(cl))
    df = pd.DataFrame(counts, index=pd.Index(rl, name=rows), columns=pd.Index(cl, name=columns))
    for axis, name in ((0, rows), (1, columns)):
        if name == "month" and len(cl if axis else rl):
            labels = [str(p) for p in pd.period_range(min(cl if axis else rl),
                                                      max(cl if axis else rl), freq="M")]
            df = df.reindex(labels, axis=axis, fill_value=0)
            df = df.rename_axis(name, axis=axis)
    order = df.sum(axis=1).sort_values(ascending=False, kind="stable").index if rows == \
        "outlet" else df.index
    return df.loc[order]


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

    def to_dict(self) -> dict:
        """The JSON form the CLI prints with ``--json``."""
        return {"doc_id": self.doc_id, "title": self.title, "outlet": self.outlet,
                "date": self.date.isoformat() if self.date else None, "url": self.url,
                "source": self.source, "text": self.text,
                "entities": self.entities.to_dict(orient="records")}

    def __repr__(self) -> str:
        where = ", ".join(x for x in (self.outlet, self.date.date().isoformat()
                                      if self.date else "") if x)
        return (f"<Article {self.doc_id}: {self.title!r}{f' ({where})' if where else ''}, "
                f"{len(self.text.split()):,} words, {len(self.entities)} entities>")

    def _repr_html_(self) -> str:
        from ._render import article_html

        return article_html(self)


def show(index: Index, doc_id: str) -> Article:
    """The stored article ``doc_id`` with its entities (corpus-level types)."""
    import json

    docnum = index.docnum.get(doc_id)
    if docnum is None:
        raise ArticleNotFoundError(f"no article {doc_id!r} in {index.path}/")
    f = index.searcher.stored_fields(docnum)
    types = {}
    for code in index.ent_ids[index.ent_indptr[docnum] : index.ent_indptr[docnum + 1]]:
        name, t = index.entities[code]
        types[name] = t
    rows = [(n, types.get(n, t), c, list(s)) for n, t, c, s in json.loads(f.get("entities", "[]"))]
    ents = pd.DataFrame(rows, columns=["name", "type", "count", "surfaces"])
    return Article(doc_id=f["doc_id"], title=f.get("title", ""), text=f.get("text", ""),
                   outlet=f.get("outlet", "") or "", date=f.get("date"), url=f.get("url", ""),
                   source=f.get("source", ""), entities=ents)
