"""Term frequency from the index: postings, per-article token counts and column arrays.

Nothing here re-reads or re-tokenises the corpus. A word is counted in its indexed
(stemmed) form, so ``sanctions`` also counts ``sanction`` and ``sanctioned``; the
``forms`` column says which surface words of the corpus that covers. A phrase
(``"more NATO"``, or any term with a space) is counted as a phrase. By default titles and
bodies are counted, as search matches both (``field="body"`` or ``"title"`` for one);
page furniture is never counted. ``df.attrs["field"]`` and every chart caption say which.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from whoosh import query as wq

from . import _analysis as analysis
from ._errors import QueryError
from ._facets import Dates, Filters, Selection
from ._postings import matches_among, postings
from ._query import phrase_pairs
from ._snapshot import Snapshot

__all__ = ["BY", "FIELDS", "TERM_COLUMNS", "term_counts", "term_frequency"]

TERM_COLUMNS = ("term", "group", "count", "articles", "tokens", "per_10k", "forms")
"""Columns of :func:`term_frequency`: term (as asked), group (outlet, month "YYYY-MM",
doc_id, or "all"), count (occurrences), articles (articles of the group containing it),
tokens (all words of the group's articles), per_10k (count per 10,000 words; NaN when
the group has no words), forms (surface words counted, commonest first)."""
BY = ("outlet", "month", "article", None)
FIELDS = ("all", "body", "title")
"""What :func:`term_frequency` counts: titles and bodies (as search matches), or one."""
UNKNOWN_OUTLET = "(unknown outlet)"


def _stems(term: str) -> list[str]:
    stems = analysis.analyse(term.strip().strip('"'))
    if not stems:
        raise QueryError(f"Nothing to count in {term!r}: words of one letter and "
                         "punctuation are not indexed.")
    return stems


def term_counts(snap: Snapshot, term: str, field: str = "all"
                ) -> tuple[np.ndarray, np.ndarray]:
    """Docnums containing ``term`` in ``field`` ("all", "body", "title") and how often
    (a word's postings, or a phrase's spans)."""
    if field == "all":
        ids_b, f_b = term_counts(snap, term, "body")
        ids_t, f_t = term_counts(snap, term, "title")
        ids = np.concatenate([ids_b, ids_t])
        if not len(ids):
            return ids, np.zeros(0, dtype=np.int64)
        uniq, inv = np.unique(ids, return_inverse=True)
        return uniq, np.bincount(inv, weights=np.concatenate([f_b, f_t])).astype(np.int64)
    stems = _stems(term)
    searcher = snap.searcher
    reader = searcher.reader()
    if len(stems) == 1:  # Whoosh stores a term's weight as frequency x field boost
        ids, weights = postings(reader, field, stems[0].encode("utf-8"))
        boost = getattr(snap.schema[field].format, "field_boost", 1.0) or 1.0
        return ids, np.rint(weights / boost).astype(np.int64)
    pairs = phrase_pairs(stems, snap.pair_stems) if field == "body" else []
    if len(stems) == 2 and pairs:  # two common words: one term of the pairs field
        ids, weights = postings(reader, "pairs", pairs[0].encode("utf-8"))
        return ids, weights.astype(np.int64)
    # Otherwise count spans only in articles that hold every word (and every pair).
    candidates = None
    for fld, word in [*(("pairs", p) for p in pairs), *((field, s) for s in stems)]:
        ids, _ = postings(reader, fld, word.encode("utf-8"))
        candidates = ids if candidates is None else np.intersect1d(candidates, ids)
    m = wq.Phrase(field, stems).matcher(searcher)
    out_ids, freqs = [], []
    for d in matches_among(m, candidates.tolist()):
        out_ids.append(d)
        freqs.append(len(m.spans()))
    return np.asarray(out_ids, dtype=np.int64), np.asarray(freqs, dtype=np.int64)


def _forms(snap: Snapshot, term: str) -> str:
    stems = _stems(term)
    surfaces = snap.surfaces()
    parts = [", ".join(w for w, _ in surfaces.get(s, [])) or s for s in stems]
    return parts[0] if len(parts) == 1 else " + ".join(f"[{p}]" for p in parts)


def _groups(snap: Snapshot, by: str | tuple[str, str] | None, mask: np.ndarray
            ) -> tuple[np.ndarray, list[str]]:
    """Group code per docnum (-1: left out) and the group labels."""
    n = len(snap.live)
    if isinstance(by, tuple | list):
        (ca, la), (cb, lb) = _groups(snap, by[0], mask), _groups(snap, by[1], mask)
        both = (ca >= 0) & (cb >= 0)
        codes = np.where(both, ca * max(len(lb), 1) + cb, -1)
        return codes, [f"{a} | {b}" for a in la for b in lb]
    if by is None:
        return np.where(mask, 0, -1), ["all"]
    if by == "outlet":
        codes = snap.outlet_code.copy()
        labels = list(snap.outlets)
        if (mask & (codes < 0)).any():
            codes[codes < 0] = len(labels)
            labels.append(UNKNOWN_OUTLET)
        return np.where(mask, codes, -1), labels
    if by == "month":
        if not snap.dated:
            raise QueryError("This corpus has no dates, so it cannot be counted by month; "
                             "use by='outlet' or by='article'.")
        present = np.unique(snap.month_code[mask & (snap.month_code >= 0)])
        if not len(present):
            return np.full(n, -1), []
        lo, hi = pd.Period(snap.months[present[0]], "M"), pd.Period(snap.months[present[-1]],
                                                                       "M")
        labels = [str(p) for p in pd.period_range(lo, hi, freq="M")]
        pos = {m: i for i, m in enumerate(labels)}
        remap = np.array([pos.get(m, -1) for m in snap.months] or [-1])
        codes = np.where(snap.month_code >= 0, remap[np.maximum(snap.month_code, 0)], -1)
        return np.where(mask, codes, -1), labels
    if by == "article":
        docs = np.flatnonzero(mask)
        codes = np.full(n, -1)
        codes[docs] = np.arange(len(docs))
        return codes, [snap.doc_ids[d] for d in docs]
    raise QueryError(f"Unknown grouping {by!r}; use outlet, month, article or None.")


def term_frequency(snap: Snapshot, terms: str | Sequence[str], *,
                   by: str | tuple[str, str] | None = "outlet", field: str = "all",
                   query: str | None = None, filters: Filters = None,
                   dates: Dates = None, count_once: bool = False) -> pd.DataFrame:
    """How often each term occurs per group of articles (a long DataFrame).

    Parameters
    ----------
    snap : Snapshot
        The generation to count in.
    terms : str or sequence of str
        Words (all their stemmed forms count) or ``"quoted phrases"``.
    by : {"outlet", "month", "article", None} or ("outlet", "month"), default "outlet"
        Groups: per outlet ("(unknown outlet)" for articles without one); per month
        (every month from the first to the last, empty months with tokens 0 and per_10k
        NaN; undated articles left out; an error on an undated corpus); per article; None
        for one group "all"; or the pair ("outlet", "month") ("RT | 2022-01").
    field : {"all", "body", "title"}, default "all"
        Count in titles and bodies (what search matches), or in one of them.
    query, filters, dates
        Which articles count, as in search.
    count_once : bool, default False
        Count each cluster of near-duplicate articles (wire copy republished by several
        outlets) once: its earliest article in the selection.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TERM_COLUMNS`; ``df.attrs`` holds ``by``, ``field``, ``articles``
        and ``tokens`` (the totals behind the numbers), ``query``, ``filters``, ``dates``.
    """
    if isinstance(terms, str):
        terms = [terms]
    if field not in FIELDS:
        raise QueryError(f"Unknown field {field!r}; use all, body or title.")
    if isinstance(by, tuple | list):
        by = tuple(by)
        if len(by) != 2 or not set(by) <= {"outlet", "month"} or by[0] == by[1]:
            raise QueryError("A pair grouping is ('outlet', 'month') or ('month', 'outlet').")
    elif by not in BY:
        raise QueryError(f"Unknown grouping {by!r}; use outlet, month, article or None.")
    mask = Selection(query or "*", filters, dates, count_once).mask(snap)
    codes, labels = _groups(snap, by, mask)
    k = len(labels)
    valid = codes >= 0
    words = {"all": snap.tokens + snap.title_tokens, "body": snap.tokens,
             "title": snap.title_tokens}[field]
    group_tokens = np.bincount(codes[valid], weights=words[valid], minlength=k)
    frames = []
    for term in terms:
        ids, freqs = term_counts(snap, term, field)
        g = codes[ids] if len(ids) else np.zeros(0, dtype=np.int64)
        keep = g >= 0
        count = np.bincount(g[keep], weights=freqs[keep], minlength=k)
        arts = np.bincount(g[keep], minlength=k)
        with np.errstate(divide="ignore", invalid="ignore"):
            per = np.where(group_tokens > 0, count / group_tokens * 10_000, np.nan)
        frames.append(pd.DataFrame({
            "term": term, "group": labels, "count": count.astype(np.int64),
            "articles": arts.astype(np.int64), "tokens": group_tokens.astype(np.int64),
            "per_10k": per, "forms": _forms(snap, term)}))
    df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=list(TERM_COLUMNS))
    df.attrs = {"by": by, "field": field, "articles": int((mask & valid).sum()),
                "tokens": int(group_tokens.sum()), "query": query, "filters": filters,
                "dates": dates, "count_once": count_once}
    return df
