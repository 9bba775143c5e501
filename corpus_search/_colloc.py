"""Collocates, n-gram clusters and dispersion, computed on the token stream.

All three read the index's forward index (:mod:`corpus_search._stream`), never the
corpus. Words are matched as search matches them: a query word stands for all its
stemmed forms (``sanction`` finds ``sanctions`` and ``sanctioned``); results show the
surface word readers know (a stem's most frequent form, or the words as written for
n-grams).

Every function takes the open index (or snapshot) first and a ``mask``: a bool array over
docnums, the articles in scope (from a query, filters, dates); None means every article.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import _analysis as analysis
from ._errors import QueryError
from ._stream import TokenStream, in_scope, stream_of

__all__ = [
    "COLLOCATE_COLUMNS",
    "COMPARE_COLUMNS",
    "DISPERSION_COLUMNS",
    "DISPERSION_MEASURE_COLUMNS",
    "MEASURES",
    "NGRAM_COLUMNS",
    "collocates",
    "compare_collocates",
    "dispersion",
    "dispersion_measures",
    "ngrams",
]

MEASURES = ("logdice", "mi", "g2", "t_score")
"""Association measures :func:`collocates` computes (and can sort by)."""

COLLOCATE_COLUMNS = ("collocate", "stem", "cooc", "freq", "node_freq", "logdice", "mi",
                     "g2", "t_score", "articles")
"""Columns of :func:`collocates`: the collocate as readers know it (its most frequent
form), its stem, co-occurrences with the node inside the window, the collocate's
frequency in scope (tokens), the node's frequency in scope, the four measures, and the
number of articles in which the two co-occur."""

COMPARE_COLUMNS = ("collocate", "stem", "cooc_a", "score_a", "rank_a", "cooc_b", "score_b",
                   "rank_b", "difference")
"""Columns of :func:`compare_collocates`: per collocate, its co-occurrence count, score
(the chosen measure) and rank in slice A and in slice B (NaN where it is not a collocate
there), and ``score_a - score_b``."""

NGRAM_COLUMNS = ("ngram", "n", "count", "articles")
"""Columns of :func:`ngrams`: the words as written (lower case), their number, how often
the sequence occurs, and in how many articles."""

DISPERSION_COLUMNS = ("term", "docnum", "doc_id", "position", "date")
"""Columns of :func:`dispersion`: one row per occurrence: the term as asked, the article's
docnum and doc_id, where the occurrence falls in the ordered corpus (0..1), the date."""

DISPERSION_MEASURE_COLUMNS = ("term", "freq", "articles", "parts", "juilland_d", "dp",
                              "dp_norm")
"""Columns of :func:`dispersion_measures`: occurrences, articles with the term, articles
in scope (the parts), Juilland's D, Gries' DP and DP normalised to 0..1."""


# --- shared ------------------------------------------------------------------------------




def _phrase(stream: TokenStream, text: str) -> list[int] | None:
    """Stem ids of a word or phrase; None if a word of it is not in the corpus."""
    if not isinstance(text, str) or not analysis.analyse(text):
        raise QueryError(f"{text!r} has no word the index keeps (words of two or more "
                         "letters or digits)")
    return stream.phrase_stems(text)


def _in_scope(stream: TokenStream, pos: np.ndarray, scope: np.ndarray) -> np.ndarray:
    return pos[scope[stream.doc_of(pos)]] if len(pos) else pos


def _xlogx_ratio(o: np.ndarray, e: np.ndarray) -> np.ndarray:
    """``o * ln(o / e)``, 0 where ``o`` is 0."""
    o = np.asarray(o, dtype=float)
    e = np.asarray(e, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(o > 0, o * np.log(np.where(o > 0, o, 1) / np.where(e > 0, e, 1)), 0.0)


def g2_2x2(o11, o12, o21, o22) -> np.ndarray:
    """Log-likelihood G2 of 2x2 contingency tables (arrays of the four cells):
    ``2 * sum(O * ln(O / E))`` with ``E`` from the margins (Dunning 1993)."""
    o11, o12, o21, o22 = (np.asarray(x, dtype=float) for x in (o11, o12, o21, o22))
    n = o11 + o12 + o21 + o22
    r1, r2, c1, c2 = o11 + o12, o21 + o22, o11 + o21, o12 + o22
    with np.errstate(divide="ignore", invalid="ignore"):
        e = [r1 * c1 / n, r1 * c2 / n, r2 * c1 / n, r2 * c2 / n]
    return 2 * sum(_xlogx_ratio(o, ee) for o, ee in zip((o11, o12, o21, o22), e, strict=True))


# --- collocates --------------------------------------------------------------------------


def _window_hits(stream: TokenStream, starts: np.ndarray, length: int, window_left: int,
                 window_right: int) -> tuple[np.ndarray, np.ndarray]:
    """Stream positions inside the windows of node occurrences ``starts`` (each ``length``
    tokens long), one entry per (occurrence, position) pair, with the occurrence index."""
    if not len(starts):
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    doc = stream.doc_of(starts)
    lo = stream.indptr[doc]
    hi = stream.indptr[doc + 1]
    offsets = [*range(-window_left, 0), *range(length, length + window_right)]
    pos_parts, occ_parts = [], []
    occ = np.arange(len(starts))
    for off in offsets:
        p = starts + off
        ok = (p >= lo) & (p < hi)
        pos_parts.append(p[ok])
        occ_parts.append(occ[ok])
    return np.concatenate(pos_parts), np.concatenate(occ_parts)


def _collocate_table(ix, stream: TokenStream, node: str, scope: np.ndarray,
                     window_left: int, window_right: int
                     ) -> tuple[pd.DataFrame, dict, tuple[np.ndarray, np.ndarray]]:
    """Every collocate with its counts and measures (no frequency floor, unsorted), the
    scope facts, and per window token its stem and the node occurrence's article."""
    if window_left < 0 or window_right < 0 or window_left + window_right == 0:
        raise QueryError("the window must reach at least one word (window_left/right >= 0, "
                         "not both 0)")
    stems = _phrase(stream, node)
    lengths = stream.lengths
    n_tokens = int(lengths[scope].sum())
    info = {"node": node, "tokens": n_tokens, "articles": int(scope.sum()), "node_freq": 0}
    if stems is None or n_tokens == 0:
        return pd.DataFrame(columns=list(COLLOCATE_COLUMNS)), info, (np.zeros(0), np.zeros(0))
    starts = _in_scope(stream, stream.find(stems), scope)
    node_freq = len(starts)
    info["node_freq"] = node_freq
    pos, occ = _window_hits(stream, starts, len(stems), window_left, window_right)
    coll = stream.stems_at(pos)
    n_stems = len(stream.stems)
    cooc = np.bincount(coll, minlength=n_stems)
    if scope.all():
        freq = stream.stem_freq
    else:  # word frequencies in scope, summed by stem
        words = np.bincount(stream.ids[stream.token_mask(scope)], minlength=len(stream.words))
        freq = np.bincount(stream.word_stem, weights=words, minlength=n_stems).astype(np.int64)
    ids = np.flatnonzero(cooc)
    o = cooc[ids].astype(float)
    fc = freq[ids].astype(float)
    fn = float(node_freq)
    span = window_left + window_right
    n = float(n_tokens)
    # 2x2 table: rows = inside / outside the node's windows, columns = collocate / other.
    r1 = fn * span
    e = r1 * fc / n
    with np.errstate(divide="ignore", invalid="ignore"):
        logdice = 14 + np.log2(2 * o / (fn + fc))
        mi = np.log2(o / e)
        t_score = (o - e) / np.sqrt(o)
    g2 = g2_2x2(o, np.maximum(r1 - o, 0), np.maximum(fc - o, 0),
                np.maximum(n - r1 - fc + o, 0))
    table = pd.DataFrame({
        "collocate": [stream.surface[i] for i in ids], "stem": [stream.stems[i] for i in ids],
        "cooc": cooc[ids].astype(np.int64), "freq": freq[ids].astype(np.int64),
        "node_freq": np.full(len(ids), node_freq, dtype=np.int64), "logdice": logdice,
        "mi": mi, "g2": g2, "t_score": t_score})
    occ_doc = stream.doc_of(starts)[occ] if len(occ) else occ
    return table, info, (coll, occ_doc)


def _distinct_per_group(group: np.ndarray, docs: np.ndarray, groups: int,
                        n_docs: int) -> np.ndarray:
    """For group numbers ``0..groups-1``, how many distinct ``docs`` each has."""
    if not len(group):
        return np.zeros(groups, dtype=np.int64)
    if groups * n_docs <= 64_000_000:  # a bit table: linear time, no sort
        seen = np.zeros(groups * n_docs, dtype=bool)
        seen[group.astype(np.int64) * n_docs + docs] = True
        return seen.reshape(groups, n_docs).sum(axis=1).astype(np.int64)
    key = np.unique(group.astype(np.int64) * n_docs + docs)
    return np.bincount(key // n_docs, minlength=groups).astype(np.int64)


def _article_counts(coll: np.ndarray, docs: np.ndarray, ids: np.ndarray,
                    n_stems: int, n_docs: int) -> np.ndarray:
    """Articles in which each collocate stem id in ``ids`` co-occurs with the node."""
    slot = np.full(n_stems, -1, dtype=np.int64)
    slot[ids] = np.arange(len(ids))
    k = slot[coll] if len(coll) else np.zeros(0, np.int64)
    keep = k >= 0
    return _distinct_per_group(k[keep], docs[keep], len(ids), n_docs)


def collocates(ix, node: str, *, window_left: int = 5, window_right: int = 5,
               measure: str = "logdice", min_freq: int = 3, limit: int | None = 50,
               mask: np.ndarray | None = None) -> pd.DataFrame:
    """The words that keep company with ``node`` within a window, with association scores.

    Counting (as AntConc, #LancsBox and Sketch Engine): every occurrence of the node (a
    word in all its stemmed forms, or a phrase) in an article in scope opens a window of
    ``window_left`` words before it and ``window_right`` after it, inside the article;
    each word in a window is one co-occurrence ``O`` of its stem (a word in the windows of
    two nearby node occurrences counts twice; the node itself counts as a collocate when
    it recurs within the window). With ``f_n`` the node's frequency in scope, ``f_c`` the
    collocate's, ``N`` the tokens in scope and ``W = window_left + window_right``, the
    expected co-occurrence is ``E = f_n * W * f_c / N`` (Evert 2008, section 3; Brezina
    2018, ch. 3, window-size-adjusted), and:

    - ``logdice = 14 + log2(2 * O / (f_n + f_c))`` (Rychlý 2008): at most 14; comparable
      across corpora and slices of different sizes;
    - ``mi = log2(O / E)`` (Church & Hanks 1990): favours rare, exclusive pairs;
    - ``g2 = 2 * sum(O_ij * ln(O_ij / E_ij))`` over the 2x2 table (Dunning 1993): rows
      inside/outside the node's windows (``f_n * W`` and ``N - f_n * W`` tokens), columns
      the collocate / any other word: ``O11 = O``, ``O12 = f_n * W - O``,
      ``O21 = f_c - O``, ``O22 = N - f_n * W - f_c + O``; evidence, not effect size
      (3.84 is p < 0.05, 10.83 is p < 0.001);
    - ``t_score = (O - E) / sqrt(O)`` (Church et al. 1991): favours frequent pairs.

    References: S. Evert (2008), "Corpora and collocations", in Lüdeling & Kytö (eds.),
    *Corpus Linguistics. An International Handbook*, art. 58; P. Rychlý (2008), "A
    lexicographer-friendly association score", RASLAN; V. Brezina (2018), *Statistics in
    Corpus Linguistics*, CUP.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    node
        A word (all its stemmed forms) or a phrase (its words in order, as search matches
        a quoted phrase).
    window_left, window_right
        Words before and after the node that count as its company.
    measure
        What to sort by: one of :data:`MEASURES`.
    min_freq
        Keep collocates co-occurring at least this often.
    limit
        At most this many rows (None: all).
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLLOCATE_COLUMNS`, best first by ``measure``. ``attrs`` holds
        ``node``, ``node_freq``, ``tokens`` and ``articles`` in scope, the window and
        the measure.
    """
    if measure not in MEASURES:
        raise QueryError(f"unknown measure {measure!r}; use one of {', '.join(MEASURES)}")
    stream = stream_of(ix)
    scope = in_scope(ix, mask)
    table, info, (coll, docs) = _collocate_table(ix, stream, node, scope, window_left,
                                                 window_right)
    attrs = dict(info, window=(window_left, window_right), measure=measure)
    if table.empty:
        out = pd.DataFrame(columns=list(COLLOCATE_COLUMNS))
        out.attrs.update(attrs)
        return out
    keep = (table["cooc"] >= min_freq).to_numpy()
    kept = table[keep].sort_values([measure, "cooc", "collocate"],
                                   ascending=[False, False, True], kind="stable")
    if limit is not None:
        kept = kept.head(limit)
    sel = np.array([stream.stem_index[x] for x in kept["stem"]], dtype=np.int64)
    kept = kept.assign(articles=_article_counts(coll, docs, sel, len(stream.stems),
                                                 len(scope)))
    out = kept.reset_index(drop=True)[list(COLLOCATE_COLUMNS)]
    out.attrs.update(attrs)
    return out


def compare_collocates(ix, node: str, mask_a: np.ndarray | None, mask_b: np.ndarray | None,
                       *, window_left: int = 5, window_right: int = 5,
                       measure: str = "logdice", min_freq: int = 3, limit: int | None = 50,
                       labels: tuple[str, str] = ("A", "B")) -> pd.DataFrame:
    """Collocates of ``node`` in two slices side by side (RT vs the rest, say).

    Parameters
    ----------
    ix
        The open index (or snapshot).
    node
        A word or phrase, as for :func:`collocates`.
    mask_a, mask_b
        Bool per docnum: the two slices (None: every article).
    window_left, window_right, measure, min_freq
        As for :func:`collocates`, applied in each slice.
    limit
        At most this many rows: the union of each slice's top ``limit``, ordered by the
        better of the two ranks (None: every collocate reaching ``min_freq`` in either).
    labels
        Names of the two slices, kept in ``attrs["labels"]`` for display.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COMPARE_COLUMNS`.
    """
    a = collocates(ix, node, window_left=window_left, window_right=window_right,
                   measure=measure, min_freq=min_freq, limit=limit, mask=mask_a)
    b = collocates(ix, node, window_left=window_left, window_right=window_right,
                   measure=measure, min_freq=min_freq, limit=limit, mask=mask_b)
    sides = []
    for t, tag in ((a, "a"), (b, "b")):
        sides.append(pd.DataFrame({
            "stem": t["stem"].astype(object), f"collocate_{tag}": t["collocate"],
            f"cooc_{tag}": t["cooc"].astype(float), f"score_{tag}": t[measure].astype(float),
            f"rank_{tag}": np.arange(1, len(t) + 1, dtype=float)}))
    m = sides[0].merge(sides[1], on="stem", how="outer")
    m["collocate"] = m["collocate_a"].fillna(m["collocate_b"])
    m["difference"] = m["score_a"] - m["score_b"]
    m["_best"] = np.fmin(m["rank_a"], m["rank_b"])
    m = m.sort_values(["_best", "rank_a"], kind="stable").reset_index(drop=True)
    out = m[list(COMPARE_COLUMNS)]
    out.attrs.update(node=node, measure=measure, labels=tuple(labels),
                     window=(window_left, window_right), node_freq_a=a.attrs["node_freq"],
                     node_freq_b=b.attrs["node_freq"])
    return out


# --- n-grams -----------------------------------------------------------------------------

_BASE = np.uint64(0x9E3779B97F4A7C15)


def _ngram_keys(ids: np.ndarray, starts: np.ndarray, n: int, vocab: int) -> np.ndarray:
    """One uint64 key per n-gram starting at ``starts``: exact when ``vocab ** n`` fits in
    63 bits, otherwise a 64-bit polynomial hash (collision odds ~1e-4 at 10^8 n-grams)."""
    if vocab ** n < 2**63:
        key = np.zeros(len(starts), dtype=np.uint64)
        for k in range(n):
            key = key * np.uint64(vocab) + ids[starts + k].astype(np.uint64)
        return key
    key = np.zeros(len(starts), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(n):
            key = (key ^ ids[starts + k].astype(np.uint64)) * _BASE
    return key


_BUCKETS = 1 << 22


def _top_candidates(starts: np.ndarray, keys: np.ndarray, limit: int, min_freq: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The n-gram occurrences that can be among the ``limit`` most frequent (ties at the
    cut included), found without counting every distinct n-gram exactly.

    Occurrences are counted per hash bucket (one ``bincount``): a bucket's count bounds
    the count of every n-gram in it from above. Only occurrences in buckets counting at
    least a threshold ``t`` are kept and counted exactly; if the ``limit``-th largest exact
    count among them is at least ``t``, every n-gram left out (count < t) ranks below
    the cut, so the top ``limit`` is exact. Otherwise ``t`` is lowered and tried again
    (down to ``min_freq``, where nothing that could qualify is left out).
    """
    if len(keys) <= 4 * _BUCKETS:
        bucket = (keys % np.uint64(_BUCKETS)).astype(np.int64)
    else:  # pragma: no cover - very large scopes: the same with more buckets
        bucket = (keys % np.uint64(4 * _BUCKETS)).astype(np.int64)
    per_bucket = np.bincount(bucket)
    occupied = np.sort(per_bucket[per_bucket >= min_freq])[::-1]
    rank = 4 * limit
    while rank < len(occupied):
        t = max(int(occupied[rank]), min_freq)
        keep = per_bucket[bucket] >= t
        sub = keys[keep]
        _, counts = np.unique(sub, return_counts=True)
        top = np.sort(counts)[::-1]
        if len(top) >= limit and top[limit - 1] >= t and t > min_freq:
            return starts[keep], sub
        rank *= 4
    return starts, keys


def ngrams(ix, *, n: int | tuple[int, ...] = (2, 3), contains: str | None = None,
           anchor: str | None = None, min_freq: int = 2, limit: int | None = 50,
           mask: np.ndarray | None = None) -> pd.DataFrame:
    """The most frequent word sequences (clusters, lexical bundles) in scope.

    Sequences never cross an article boundary. Words are shown as written (lower case);
    ``contains`` matches a word in all its stemmed forms.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    n
        Sequence length, or several lengths (each 2 to 5).
    contains
        Only sequences holding this word (any form); None: all.
    anchor
        With ``contains``: ``"left"`` keeps sequences that start with the word,
        ``"right"`` those that end with it, None those that hold it anywhere.
    min_freq
        Keep sequences occurring at least this often.
    limit
        At most this many rows (None: all).
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`NGRAM_COLUMNS`, most frequent first (ties: shorter, then
        alphabetical).
    """
    sizes = (n,) if isinstance(n, int) else tuple(n)
    if not sizes or any(not isinstance(k, int) or k < 2 or k > 5 for k in sizes):
        raise QueryError(f"n-gram length must be 2 to 5 (got {n!r})")
    if anchor not in (None, "left", "right"):
        raise QueryError(f"anchor must be 'left', 'right' or None (got {anchor!r})")
    if anchor is not None and contains is None:
        raise QueryError("anchor needs a word to anchor on: give contains=")
    stream = stream_of(ix)
    scope = in_scope(ix, mask)
    ids = stream.ids
    hits = None
    if contains is not None:
        word = _phrase(stream, contains)
        if word is None:
            return pd.DataFrame(columns=list(NGRAM_COLUMNS))
        if len(word) != 1:
            raise QueryError(f"contains= takes one word (got {contains!r})")
        hits = _in_scope(stream, stream.stem_positions(word[0]), scope)
    frames = []
    for k in sizes:
        if hits is None:
            docs = np.flatnonzero(scope & (stream.lengths >= k))
            lo, hi = stream.indptr[docs], stream.indptr[docs + 1] - k + 1
            total = int((hi - lo).sum())
            starts = (np.repeat(lo - np.concatenate([[0], np.cumsum(hi - lo)[:-1]]), hi - lo)
                      + np.arange(total)) if total else np.zeros(0, np.int64)
        else:
            shifts = {"left": [0], "right": [k - 1]}.get(anchor, list(range(k)))
            cand = np.unique(np.concatenate([hits - s for s in shifts])) if len(hits) else hits
            cand = cand[(cand >= 0) & (cand + k - 1 < len(ids))]
            starts = cand[stream.doc_of(cand) == stream.doc_of(cand + k - 1)] if len(cand) \
                else cand
        if not len(starts):
            continue
        keys = _ngram_keys(ids, starts, k, len(stream.words))
        if limit is not None:
            starts, keys = _top_candidates(starts, keys, limit, min_freq)
        codes, uniq = pd.factorize(keys, sort=False)  # hash table: no sort of all n-grams
        counts = np.bincount(codes, minlength=len(uniq))
        # factorize numbers codes in order of first appearance: where the running maximum
        # rises is where each sequence first occurs (its words are shown from there).
        prev_max = np.maximum.accumulate(codes)
        first = np.flatnonzero(np.concatenate([[True], codes[1:] > prev_max[:-1]]))
        sel = np.flatnonzero(counts >= min_freq)
        if limit is not None and len(sel) > limit:
            cut = np.partition(counts[sel], len(sel) - limit)[len(sel) - limit]
            sel = sel[counts[sel] >= cut]  # keep ties at the cut so the final sort is fair
        slot = np.full(len(uniq), -1, dtype=np.int64)
        slot[sel] = np.arange(len(sel))
        g = slot[codes]
        keep = g >= 0
        arts = _distinct_per_group(g[keep], stream.doc_of(starts[keep]), len(sel), len(scope))
        first, counts = first[sel], counts[sel]
        words = stream.words
        text = [" ".join(words[w] for w in ids[starts[f] : starts[f] + k].tolist())
                for f in first.tolist()]
        frames.append(pd.DataFrame({"ngram": text, "n": k, "count": counts.astype(np.int64),
                                    "articles": arts.astype(np.int64)}))
    if not frames:
        return pd.DataFrame(columns=list(NGRAM_COLUMNS))
    out = pd.concat(frames, ignore_index=True).sort_values(
        ["count", "n", "ngram"], ascending=[False, True, True], kind="stable")
    if limit is not None:
        out = out.head(limit)
    out = out.reset_index(drop=True)[list(NGRAM_COLUMNS)]
    out.attrs.update(contains=contains, anchor=anchor, n=sizes, articles=int(scope.sum()))
    return out


# --- dispersion --------------------------------------------------------------------------


def _order(ix, scope: np.ndarray, order: str) -> np.ndarray:
    docs = np.flatnonzero(scope)
    if order == "date":
        day = np.asarray(ix.day)[docs].astype(np.int64)
        day = np.where(day == np.iinfo(np.int32).min, np.iinfo(np.int64).max, day)
        return docs[np.lexsort((docs, day))]  # undated last
    if order == "article":
        return docs
    raise QueryError(f"order must be 'date' or 'article' (got {order!r})")


def dispersion(ix, terms: str | list[str], *, order: str = "date",
               mask: np.ndarray | None = None) -> pd.DataFrame:
    """Where each term occurs along the corpus: the data of a dispersion plot.

    The articles in scope are laid end to end, ordered by date (undated last; ties by
    docnum) or by docnum (``order="article"``); each occurrence's ``position`` is the
    share of the corpus's words before it (0 = the first word, 1 = the end).

    Counted in article bodies only, the token stream (titles are not in it): these are
    the totals of ``term_frequency(..., field="body")``, not of its default ``"all"``,
    which adds titles.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    terms
        A word (all its stemmed forms), a phrase, or a list of them.
    order
        ``"date"`` or ``"article"``.
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISPERSION_COLUMNS`, by term (in the order given) then position.
        ``attrs``: ``terms``, ``order``, ``tokens`` and ``articles`` in scope, and
        ``boundaries`` (position where each month starts, for ``order="date"``).
    """
    terms = [terms] if isinstance(terms, str) else list(terms)
    stream = stream_of(ix)
    scope = in_scope(ix, mask)
    docs = _order(ix, scope, order)
    lengths = stream.lengths[docs]
    total = int(lengths.sum())
    start_in_order = np.zeros(len(stream.indptr) - 1, dtype=np.int64)
    start_in_order[docs] = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(docs) else []
    frames = []
    for term in terms:
        stems = _phrase(stream, term)
        pos = stream.find(stems) if stems is not None else np.zeros(0, np.int64)
        pos = _in_scope(stream, pos, scope)
        doc = stream.doc_of(pos)
        where = start_in_order[doc] + (pos - stream.indptr[doc])
        day = np.asarray(ix.day)[doc].astype(np.int64)
        date = pd.to_datetime(np.where(day == np.iinfo(np.int32).min, np.nan,
                                       day.astype(float)), unit="D")
        frames.append(pd.DataFrame({
            "term": term, "docnum": doc, "doc_id": [ix.doc_ids[d] for d in doc],
            "position": (where + 0.5) / max(total, 1), "date": date}).sort_values(
                "position", kind="stable"))
    out = pd.concat(frames, ignore_index=True) if frames else \
        pd.DataFrame(columns=list(DISPERSION_COLUMNS))
    out = out[list(DISPERSION_COLUMNS)]
    out.attrs.update(terms=terms, order=order, tokens=total, articles=len(docs))
    if order == "date" and len(docs):
        months = np.asarray(ix.month_code)[docs]
        change = np.flatnonzero(np.diff(months) != 0) + 1
        starts = np.concatenate([[0], change])
        out.attrs["boundaries"] = [
            (ix.months[months[i]] if months[i] >= 0 else "undated",
             float(start_in_order[docs[i]] / max(total, 1))) for i in starts.tolist()]
    return out


def dispersion_measures(ix, terms: str | list[str], *,
                        mask: np.ndarray | None = None) -> pd.DataFrame:
    """How evenly each term is spread over the articles in scope.

    The parts are the articles in scope, of unequal sizes: ``s_i`` is article ``i``'s
    share of the words in scope, ``v_i`` its share of the term's occurrences, ``n`` the
    number of articles.

    Counted in article bodies only (the token stream), as :func:`dispersion`.

    - Gries' DP (Gries 2008, "Dispersions and adjusted frequencies in corpora", IJCL
      13(4)): ``DP = 0.5 * sum(|v_i - s_i|)``: 0 = spread exactly as the text is, near 1 =
      all in a small part. ``dp_norm = DP / (1 - min(s_i))`` (Lijffijt & Gries 2012)
      reaches 1 when everything is in the smallest article.
    - Juilland's D (Juilland & Chang-Rodríguez 1964), for unequal parts on the
      occurrences per word of each part, ``p_i = f_i / size_i`` (as Gries 2008 computes
      it): ``D = 1 - (sd(p) / mean(p)) / sqrt(n - 1)``, population standard deviation;
      1 = perfectly even, 0 = all in one article. NaN with fewer than two parts.

    Parameters
    ----------
    ix
        The open index (or snapshot).
    terms
        A word (all its stemmed forms), a phrase, or a list of them.
    mask
        Bool per docnum: the articles in scope; None: every article.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`DISPERSION_MEASURE_COLUMNS`, one row per term in the order given.
        Terms that do not occur get 0 counts and NaN measures.
    """
    terms = [terms] if isinstance(terms, str) else list(terms)
    stream = stream_of(ix)
    scope = in_scope(ix, mask) & (stream.lengths > 0)
    docs = np.flatnonzero(scope)
    sizes = stream.lengths[docs].astype(float)
    s = sizes / sizes.sum() if len(docs) else sizes
    rows = []
    for term in terms:
        stems = _phrase(stream, term)
        pos = stream.find(stems) if stems is not None else np.zeros(0, np.int64)
        pos = _in_scope(stream, pos, scope)
        f = np.bincount(stream.doc_of(pos), minlength=len(scope))[docs].astype(float)
        total = f.sum()
        if total == 0 or len(docs) == 0:
            rows.append((term, 0, 0, len(docs), np.nan, np.nan, np.nan))
            continue
        v = f / total
        dp = 0.5 * np.abs(v - s).sum()
        dp_norm = dp / (1 - s.min()) if s.min() < 1 else np.nan
        if len(docs) > 1:
            p = f / sizes
            d = 1 - (p.std() / p.mean()) / np.sqrt(len(docs) - 1)
        else:
            d = np.nan
        rows.append((term, int(total), int((f > 0).sum()), len(docs), float(d), float(dp),
                     float(dp_norm)))
    return pd.DataFrame(rows, columns=list(DISPERSION_MEASURE_COLUMNS))
