"""Reading Whoosh postings a block at a time into numpy arrays (private).

Whoosh's matcher API returns one posting per Python call; a W3 posting block holds up to
128 postings with their ids and weights already decoded into arrays. Reading whole blocks
makes a common term's postings ~50x cheaper to collect. Matchers that are not W3 leaf
matchers fall back to the public one-at-a-time API, so a Whoosh change costs speed,
never correctness.
"""

from __future__ import annotations

import weakref

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length

__all__ = ["postings", "query_docs", "ranked"]


def _leaf_arrays(m) -> tuple[np.ndarray, np.ndarray]:
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    fast = all(hasattr(m, a) for a in ("_read_ids", "_read_weights", "_next_block", "_atend"))
    if fast:
        while not m._atend and m._i < m._blocklength:
            m._read_ids()
            m._read_weights()
            ids.append(np.asarray(m._ids, dtype=np.int64)[m._i :])
            ws = m._weights
            if isinstance(ws, int | float):
                ws = [ws] * m._blocklength
            weights.append(np.asarray(ws, dtype=np.float64)[m._i :])
            m._next_block()
    else:  # pragma: no cover - other codecs
        i, w = [], []
        while m.is_active():
            i.append(m.id())
            w.append(m.weight())
            m.next()
        ids.append(np.asarray(i, dtype=np.int64))
        weights.append(np.asarray(w, dtype=np.float64))
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def postings(reader, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
    """Docnums containing ``text`` in ``field`` and the term's frequency in each."""
    ids: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for leaf, offset in reader.leaf_readers():
        if leaf.doc_frequency(field, text) == 0:
            continue
        i, w = _leaf_arrays(leaf.postings(field, text))
        keep = ~np.fromiter((leaf.is_deleted(d) for d in i), bool, len(i)) \
            if leaf.has_deletions() else slice(None)
        ids.append(i[keep] + offset)
        weights.append(w[keep])
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def query_docs(searcher, q: wq.Query, n: int) -> np.ndarray:
    """A boolean mask over docnums of the documents matching ``q``.

    Terms, AND, OR, AND NOT and NOT are computed from posting arrays; anything else
    (phrases, ranges, wildcards) goes through Whoosh's own matcher.
    """
    reader = searcher.reader()
    mask = _mask(reader, searcher, q, n)
    return mask


_ARRAY_QUERIES = (wq.Term, wq.Or, wq.And, wq.AndNot, wq.Not, wq.Every)


def _verify(searcher, q: wq.Query, candidates: np.ndarray) -> np.ndarray:
    """``candidates`` narrowed to the documents ``q`` matches, visiting only those."""
    docs = np.flatnonzero(candidates)
    out = np.zeros(len(candidates), dtype=bool)
    if not len(docs):
        return out
    if len(docs) > len(candidates) // 4:  # dense: one pass of the matcher is cheaper
        out[np.fromiter(searcher.docs_for_query(q), dtype=np.int64)] = True
        return out & candidates
    m = q.matcher(searcher)
    for d in docs.tolist():
        if not m.is_active():
            break
        if m.id() < d:
            m.skip_to(d)
            if not m.is_active():
                break
        if m.id() == d:
            out[d] = True
    return out


def _mask(reader, searcher, q: wq.Query, n: int) -> np.ndarray:
    if isinstance(q, wq.Term):
        mask = np.zeros(n, dtype=bool)
        text = q.text
        try:
            btext = reader.schema[q.fieldname].to_bytes(text)
        except Exception:
            btext = None
        if btext is not None:
            ids, _ = postings(reader, q.fieldname, btext)
            mask[ids] = True
            return mask
    elif isinstance(q, wq.Or) and not isinstance(q, wq.DisjunctionMax):
        mask = np.zeros(n, dtype=bool)
        for child in q.children():
            mask |= _mask(reader, searcher, child, n)
        return mask
    elif isinstance(q, wq.And):
        mask = np.ones(n, dtype=bool)
        slow = []
        for child in q.children():
            if isinstance(child, wq.Not):
                mask &= ~_mask(reader, searcher, child.query, n)
            elif isinstance(child, _ARRAY_QUERIES):
                mask &= _mask(reader, searcher, child, n)
            else:
                slow.append(child)
        for child in slow:  # phrases, ranges: checked only where the rest matched
            mask = _verify(searcher, child, mask)
        return mask
    elif isinstance(q, wq.AndNot):
        return _mask(reader, searcher, q.a, n) & ~_mask(reader, searcher, q.b, n)
    elif isinstance(q, wq.Not):
        return ~_mask(reader, searcher, q.query, n)
    elif isinstance(q, wq.Every):
        return np.ones(n, dtype=bool)
    mask = np.zeros(n, dtype=bool)
    docs = np.fromiter(searcher.docs_for_query(q), dtype=np.int64)
    mask[docs] = True
    return mask


# --- BM25F scores as arrays ------------------------------------------------------------------

_LENGTHS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BYTE_LENGTH = np.array([0.0] + [byte_to_length(b) for b in range(1, 256)], dtype=np.float64)


def _field_lengths(searcher, field: str, n: int) -> np.ndarray:
    """Each document's length of ``field`` as Whoosh's scorer sees it (one byte, decoded)."""
    cache = _LENGTHS.setdefault(searcher, {})
    if field not in cache:
        out = np.zeros(n, dtype=np.float64)
        for leaf, offset in searcher.reader().leaf_readers():
            count = leaf.doc_count_all()
            try:  # one read of the W3 codec's byte column of lengths
                col = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                raw = np.frombuffer(col._dbfile.get(col._basepos, col._count), dtype=np.uint8)
                out[offset : offset + len(raw)] = _BYTE_LENGTH[raw]
            except AttributeError:  # pragma: no cover - another codec: the public API
                out[offset : offset + count] = [leaf.doc_field_length(d, field) or 0
                                                for d in range(count)]
        cache[field] = out
    return cache[field]


def _supported(q: wq.Query) -> bool:
    """Whether :func:`ranked` can score ``q`` (checked before any postings are read)."""
    if isinstance(q, wq.Term):
        return True
    if isinstance(q, wq.Phrase):
        return q.fieldname == "title"
    if type(q) is wq.Or:
        return not q.scale and not q.minmatch and all(_supported(c) for c in q.children())
    if type(q) is wq.And:
        return all(_supported(c.query if isinstance(c, wq.Not) else c) for c in q.children())
    if type(q) is wq.AndNot:
        return _supported(q.a) and _supported(q.b)
    return False


def ranked(searcher, q: wq.Query, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The documents matching ``q`` and their BM25F scores, as arrays over docnums.

    For queries made of terms joined by AND, OR and NOT, with phrases only in the title,
    this computes the same scores as Whoosh's matchers (the same formula on the same
    statistics, so equal up to the order of floating-point additions) from whole posting
    arrays. Returns None for anything else, which is then left to Whoosh.
    """
    w = searcher.weighting
    if type(w) is not scoring.BM25F or not _supported(q):
        return None
    return _ranked(searcher, searcher.reader(), w, q, n)


def _ranked(searcher, reader, w, q: wq.Query, n: int) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(q, wq.Term):
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        field = reader.schema[q.fieldname] if q.fieldname in reader.schema else None  # noqa: SIM401
        try:
            btext = field.to_bytes(q.text) if field is not None else None
        except ValueError:
            btext = None
        if btext is None or (q.fieldname, btext) not in reader:
            return mask, scores
        ids, tf = postings(reader, q.fieldname, btext)
        mask[ids] = True
        if field.scorable:
            idf = searcher.idf(q.fieldname, btext)
            avgfl = searcher.avg_field_length(q.fieldname) or 1
            b, k1 = w._field_B.get(q.fieldname, w.B), w.K1
            fl = _field_lengths(searcher, q.fieldname, n)[ids]
            s = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
        else:
            s = tf
        scores[ids] = s * q.boost if q.boost != 1.0 else s
        return mask, scores
    if isinstance(q, wq.Phrase) and q.fieldname == "title":
        # Titles are short and phrase matches in them few: Whoosh's matcher, one by one.
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        m = q.matcher(searcher)
        while m.is_active():
            mask[m.id()] = True
            scores[m.id()] = m.score()
            m.next()
        return mask, scores
    mask, scores = _compound(searcher, reader, w, q, n)
    return mask, scores * q.boost if q.boost != 1.0 else scores  # as WrappingMatcher


def _compound(searcher, reader, w, q: wq.Query, n: int) -> tuple[np.ndarray, np.ndarray]:
    if type(q) is wq.Or:
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        for child in q.children():
            m, s = _ranked(searcher, reader, w, child, n)
            mask |= m
            scores += s
        return mask, scores
    if type(q) is wq.And:
        mask, scores = np.ones(n, dtype=bool), np.zeros(n, dtype=np.float64)
        for child in q.children():
            if isinstance(child, wq.Not):
                m, _ = _ranked(searcher, reader, w, child.query, n)
                mask &= ~m
                scores += child.boost  # Whoosh's inverse matcher scores its boost
            else:
                m, s = _ranked(searcher, reader, w, child, n)
                mask &= m
                scores += s
        return mask, np.where(mask, scores, 0.0)
    mask, scores = _ranked(searcher, reader, w, q.a, n)  # AndNot
    m, _ = _ranked(searcher, reader, w, q.b, n)
    mask &= ~m
    return mask, np.where(mask, scores, 0.0)
