"""Reading postings into numpy arrays (private).

Two ways, the first preferred:

1. **Flat postings files** beside each Whoosh segment (``<segment>.csp.*``), written by
   :func:`record` while Whoosh writes the segment: for every term of the ``body``,
   ``pairs`` and ``title`` fields held by at least ``FLAT_MIN_DF`` of the segment's
   articles, its docnums (int32) and frequencies (float32) as one slice of two
   memory-mapped arrays, found through a table of "field<TAB>term" lines.
   A common word's postings are then a slice, not thousands of pickled blocks to decode
   (``said`` in 94k of 100k articles: ~100 ms -> ~1 ms). The files are named after their
   segment, so Whoosh keeps them exactly as long as the segment (merges drop both) and a
   new generation hard-links them with the rest.
2. **Whoosh's W3 posting blocks**: Whoosh's matcher API returns one posting per Python
   call; a block holds up to 128 postings already decoded into arrays, so reading whole
   blocks is ~50x cheaper than the matcher. Used for rarer terms, other fields, and any
   segment without flat files (an index written before them).

Matchers that are not W3 leaf matchers fall back to the public one-at-a-time API, so a
Whoosh change costs speed, never correctness.
"""

from __future__ import annotations

import contextlib
import os
import time
import weakref
from array import array
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh import scoring
from whoosh.codec.whoosh3 import LENGTHS_COLUMN
from whoosh.util.numeric import byte_to_length

from . import _trust
from ._errors import QueryError

__all__ = [
    "FLAT_FIELDS",
    "FLAT_MIN_DF",
    "QUERY_SECONDS",
    "TitleTokens",
    "check_time",
    "matches_among",
    "postings",
    "query_docs",
    "ranked",
    "record",
    "time_budget",
    "write_flat",
]

FLAT_FIELDS = frozenset({"body", "pairs", "title"})
"""Fields whose common terms get flat postings files."""
FLAT_MIN_DF = 64
"""A term gets flat postings in a segment when at least this many of its articles hold it
(below that its postings are one or two Whoosh blocks, cheap to decode)."""
_FLUSH = 1 << 20  # postings buffered before they are appended to the files


# --- the time budget of a query ----------------------------------------------------------

QUERY_SECONDS = 30.0
"""A query that runs longer than this stops with a message (see :func:`time_budget`)."""
_DEADLINE: ContextVar[float | None] = ContextVar("deadline", default=None)


@contextlib.contextmanager
def time_budget(seconds: float | None = None) -> Iterator[None]:
    """Give the queries run inside a deadline (``QUERY_SECONDS`` by default); loops that
    visit documents one at a time call :func:`check_time` and stop when it has passed."""
    token = _DEADLINE.set(time.monotonic() + (QUERY_SECONDS if seconds is None else seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time() -> None:
    """Raise QueryError if the current query's time budget is spent."""
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise QueryError(f"The query took longer than its time budget ({QUERY_SECONDS:g} s) "
                         "and was stopped; narrow it (fewer wildcards, shorter phrases, "
                         "filters).")


def _timed(ids: Iterator[int], every: int = 4096) -> Iterator[int]:
    for i, d in enumerate(ids):
        if not i % every:
            check_time()
        yield d


# --- writing ---------------------------------------------------------------------------------


class _Recorder:
    """Tees the postings Whoosh writes for one new segment into flat files beside it."""

    def __init__(self, writer, fields: frozenset[str]) -> None:
        self.fields = fields
        self.folder = Path(writer.storage.folder)
        self.base = self.folder / writer.newsegment.make_filename(".csp")
        fw = writer.fieldwriter
        self._add, self._close = fw.add_postings, fw.close
        fw.add_postings, fw.close = self.add_postings, self.close
        self.calls = 0
        self.complete = False
        self.terms: list[bytes] = []
        self.ends: list[int] = []

    def _path(self, part: str) -> Path:
        return self.base.with_name(f"{self.base.name}.{part}")

    def add_postings(self, schema, lengths, items) -> None:
        self.calls += 1
        if self.calls > 1:  # not how SegmentWriter writes; leave such a segment to Whoosh
            self._discard()
            return self._add(schema, lengths, items)
        return self._add(schema, lengths, self._tee(items))

    def _tee(self, items):
        wanted = self.fields
        docs, freqs = array("i"), array("f")  # postings not yet appended to the files
        terms, ends = self.terms, self.ends
        written = 0

        def finish(field: str, text: bytes, start: int) -> None:
            """Keep a finished term's postings (a row), or drop them if it is rare."""
            if len(docs) - start >= FLAT_MIN_DF and b"\n" not in text:
                terms.append(field.encode() + b"\t" + text)
                ends.append(written + len(docs))
            else:
                del docs[start:], freqs[start:]

        lastf = lastt = None
        start = 0
        with open(self._path("docs"), "wb") as fd, open(self._path("freqs"), "wb") as ff:
            for item in items:
                f = item[0]
                if f in wanted:
                    t = item[1]
                    if t != lastt or f != lastf:
                        if lastt is not None:
                            finish(lastf, lastt, start)
                            if len(docs) >= _FLUSH:
                                docs.tofile(fd), freqs.tofile(ff)
                                written += len(docs)
                                del docs[:], freqs[:]
                        lastf, lastt, start = f, t, len(docs)
                    docs.append(item[2])
                    freqs.append(item[3])
                yield item
            if lastt is not None:
                finish(lastf, lastt, start)
            docs.tofile(fd), freqs.tofile(ff)
        self.complete = True

    def close(self) -> None:
        self._close()
        if not self.complete:  # cancelled, failed, or nothing written
            self._discard()
            return
        np.save(self._path("ends.npy"), np.asarray(self.ends, dtype=np.int64))
        weights = np.fromfile(self._path("freqs"), dtype=np.float32)
        if _fits_uint16(weights):  # as write_flat keeps them
            weights.astype(np.uint16).tofile(self._path("freqs16"))
            self._path("freqs").unlink()
        # The table of terms is written last: a segment has flat postings once it exists.
        tmp = self._path("terms.tmp")
        tmp.write_bytes(b"\n".join(self.terms))  # "field<TAB>term" per line, in row order
        os.replace(tmp, self._path("terms"))

    def _discard(self) -> None:
        self.complete = False
        for part in ("docs", "freqs", "freqs16", "ends.npy", "terms.tmp", "terms"):
            self._path(part).unlink(missing_ok=True)


def _fits_uint16(weights: np.ndarray) -> bool:
    """Whether every weight is a whole number from 0 to 65,535."""
    return not len(weights) or bool(weights.min() >= 0 and weights.max() <= 65535
                                    and np.array_equal(weights, np.floor(weights)))


def write_flat(base: Path, fields: list[tuple[str, list[bytes], np.ndarray, np.ndarray,
                                               np.ndarray]]) -> None:
    """Write a segment's flat postings files from its postings as arrays.

    Parameters
    ----------
    base : Path
        The files' common name, ``<segment>.csp`` in the index folder.
    fields : list of (field, terms, starts, docnums, weights)
        Per field, in field-name order: its terms (bytes, ascending), where each term's
        postings start (``starts[t]:starts[t + 1]``, one more entry than terms), and the
        docnums and weights of all its postings, term after term.
    """
    min_df = FLAT_MIN_DF
    terms: list[bytes] = []
    docs: list[np.ndarray] = []
    freqs: list[np.ndarray] = []
    for field, btexts, starts, fdocs, weights in fields:
        counts = np.diff(starts)
        prefix = field.encode() + b"\t"
        for t in np.flatnonzero(counts >= min_df).tolist():
            if b"\n" in btexts[t]:
                continue
            terms.append(prefix + btexts[t])
            docs.append(fdocs[starts[t]:starts[t + 1]])
            freqs.append(weights[starts[t]:starts[t + 1]])
    path = base.with_name
    ends = np.cumsum([len(d) for d in docs], dtype=np.int64)
    with open(path(base.name + ".docs"), "wb") as fh:
        for d in docs:
            fh.write(d.astype(np.int32).tobytes())
    # Weights are term frequencies: whole numbers, nearly all small. Kept as 2-byte
    # integers when every one fits (``.freqs16``, half the bytes of float32), else as
    # float32 (``.freqs``), as the tee writes them.
    whole = all(_fits_uint16(w) for *_, w in fields)
    kind, dtype = (".freqs16", np.uint16) if whole else (".freqs", np.float32)
    with open(path(base.name + kind), "wb") as fh:
        for f in freqs:
            fh.write(f.astype(dtype).tobytes())
    np.save(path(base.name + ".ends.npy"), ends)
    # The table of terms is written last: a segment has flat postings once it exists.
    tmp = path(base.name + ".terms.tmp")
    tmp.write_bytes(b"\n".join(terms))  # "field<TAB>term" per line, in row order
    os.replace(tmp, path(base.name + ".terms"))


def record(writer, fields: frozenset[str] = FLAT_FIELDS) -> None:
    """Make ``writer`` (a Whoosh ``SegmentWriter``, just created) also write flat postings
    files for ``fields`` beside the segment it writes."""
    _Recorder(writer, fields)


# --- reading ---------------------------------------------------------------------------------


class _Flat:
    """One segment's flat postings, memory-mapped."""

    def __init__(self, base: Path) -> None:
        keys = base.with_name(base.name + ".terms").read_bytes().split(b"\n")
        self.rows = dict(zip(keys, range(len(keys)), strict=True)) if keys != [b""] else {}
        ends = np.load(base.with_name(base.name + ".ends.npy"))
        self.starts = np.concatenate([[0], ends[:-1]]) if len(ends) else ends
        self.ends = ends
        n = int(ends[-1]) if len(ends) else 0
        self.docs = self._map(base.with_name(base.name + ".docs"), np.int32, n)
        small = base.with_name(base.name + ".freqs16")
        self.freqs = (self._map(small, np.uint16, n) if small.exists() else
                      self._map(base.with_name(base.name + ".freqs"), np.float32, n))

    @staticmethod
    def _map(path: Path, dtype, n: int) -> np.ndarray:
        if n == 0:
            return np.zeros(0, dtype=dtype)
        return np.memmap(path, dtype=dtype, mode="r", shape=(n,))

    def terms(self, field: str) -> list[bytes]:
        """The terms of ``field`` that have flat postings here."""
        prefix = field.encode() + b"\t"
        return [k[len(prefix):] for k in self.rows if k.startswith(prefix)]

    def get(self, field: str, text: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        row = self.rows.get(field.encode() + b"\t" + text)
        if row is None:
            return None
        a, b = int(self.starts[row]), int(self.ends[row])
        return self.docs[a:b].astype(np.int64), self.freqs[a:b].astype(np.float64)


_FLATS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_DELETED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _flat(leaf) -> _Flat | None:
    """The flat postings of a leaf reader's segment, or None (not written for it)."""
    try:
        return _FLATS[leaf]
    except KeyError:
        pass
    flat = None
    try:
        base = Path(leaf.storage().folder) / leaf.segment().make_filename(".csp")
        if base.with_name(base.name + ".terms").is_file():
            with _trust.reading(base.with_name(base.name + ".*"), base.parent.parent):
                flat = _Flat(base)
    except (AttributeError, TypeError):  # pragma: no cover - not a file-based segment
        flat = None
    _FLATS[leaf] = flat
    return flat


def _deleted(leaf) -> np.ndarray:
    """A leaf's deleted docnums as a boolean mask (read once per reader)."""
    try:
        return _DELETED[leaf]
    except KeyError:
        pass
    mask = np.zeros(leaf.doc_count_all(), dtype=bool)
    mask[np.fromiter(leaf.segment().deleted_docs(), dtype=np.int64)] = True
    _DELETED[leaf] = mask
    return mask


# --- title phrases ---------------------------------------------------------------------------


class TitleTokens:
    """Every article's title stems and their positions (as Whoosh indexed them), flat.

    A phrase in titles is then found with a few array comparisons instead of Whoosh's
    position matchers, which visit every article holding all the words (``title:"of the"``
    at 100k articles: 6,000 articles, ~270 ms)."""

    def __init__(self, indptr: np.ndarray, ids: np.ndarray, pos: np.ndarray,
                 terms: list[str]) -> None:
        self.ids, self.pos = ids, pos
        self.doc = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
        self.code = {t: i for i, t in enumerate(terms)}
        self._top = int(pos.max()) if len(pos) else 0

    def phrase_docs(self, words: list[str], n: int) -> np.ndarray:
        """Docnums (as a mask) whose title holds ``words`` at consecutive positions."""
        mask = np.zeros(n, dtype=bool)
        codes = [self.code.get(w) for w in words]
        if not words or None in codes:
            return mask
        width = self._top + len(words) + 1  # so that position + k never reaches the next

        def keys(code: int) -> np.ndarray:  # one number per (document, position) of a word
            at = np.flatnonzero(self.ids == code)
            return self.doc[at] * width + self.pos[at]

        start = keys(codes[0])
        for k, c in enumerate(codes[1:], 1):
            if not len(start):
                break
            start = start[np.isin(start + k, keys(c))]
        mask[start // width] = True
        return mask


def _title_phrase(titles: TitleTokens | None, q: wq.Query) -> TitleTokens | None:
    """The title arrays if ``q`` is an exact title phrase they can answer, else None."""
    if isinstance(q, wq.Phrase) and q.fieldname == "title" and q.slop == 1:
        return titles
    return None


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
        flat = _flat(leaf) if field in FLAT_FIELDS else None
        got = flat.get(field, text) if flat is not None else None
        if got is None:
            if leaf.doc_frequency(field, text) == 0:
                continue
            got = _leaf_arrays(leaf.postings(field, text))
        i, w = got
        if leaf.has_deletions():
            keep = ~_deleted(leaf)[i]
            i, w = i[keep], w[keep]
        ids.append(i + offset)
        weights.append(w)
    if not ids:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return np.concatenate(ids), np.concatenate(weights)


def query_docs(searcher, q: wq.Query, n: int, titles: TitleTokens | None = None
               ) -> np.ndarray:
    """A boolean mask over docnums of the documents matching ``q``.

    Terms, AND, OR, AND NOT and NOT are computed from posting arrays; anything else
    (phrases, ranges, wildcards) goes through Whoosh's own matcher.
    """
    return _mask(searcher.reader(), searcher, titles, q, n)


_ARRAY_QUERIES = (wq.Term, wq.Or, wq.And, wq.AndNot, wq.Not, wq.Every)


def _verify(searcher, q: wq.Query, candidates: np.ndarray) -> np.ndarray:
    """``candidates`` narrowed to the documents ``q`` matches, visiting only those."""
    docs = np.flatnonzero(candidates)
    out = np.zeros(len(candidates), dtype=bool)
    check_time()
    if not len(docs):
        return out
    if len(docs) > len(candidates) // 4:  # dense: one pass of the matcher is cheaper
        out[np.fromiter(_timed(searcher.docs_for_query(q)), dtype=np.int64)] = True
        return out & candidates
    for d in matches_among(q.matcher(searcher), docs.tolist()):
        out[d] = True
    return out


def matches_among(m, docs: list[int]) -> Iterator[int]:
    """The docnums of ``docs`` (ascending) that matcher ``m`` matches, skipping to each in
    turn; while a docnum is yielded, ``m`` sits on it (``m.spans()`` reads it). Checks the
    query's time budget as it goes."""
    for i, d in enumerate(docs):
        if not i % 256:
            check_time()
        if not m.is_active():
            return
        if m.id() < d:
            m.skip_to(d)
            if not m.is_active():
                return
        if m.id() == d:
            yield d


def _mask(reader, searcher, titles: TitleTokens | None, q: wq.Query, n: int) -> np.ndarray:
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
            mask |= _mask(reader, searcher, titles, child, n)
        return mask
    elif isinstance(q, wq.And):
        mask = np.ones(n, dtype=bool)
        slow = []
        for child in q.children():
            if isinstance(child, wq.Not):
                mask &= ~_mask(reader, searcher, titles, child.query, n)
            elif isinstance(child, _ARRAY_QUERIES):
                mask &= _mask(reader, searcher, titles, child, n)
            else:
                slow.append(child)
        for child in slow:  # phrases, ranges: checked only where the rest matched
            mask = _verify(searcher, child, mask)
        return mask
    elif isinstance(q, wq.AndNot):
        return (_mask(reader, searcher, titles, q.a, n)
                & ~_mask(reader, searcher, titles, q.b, n))
    elif isinstance(q, wq.Not):
        return ~_mask(reader, searcher, titles, q.query, n)
    elif isinstance(q, wq.Every):
        return np.ones(n, dtype=bool)
    elif (tt := _title_phrase(titles, q)) is not None:
        return tt.phrase_docs(list(q.words), n)
    mask = np.zeros(n, dtype=bool)
    docs = np.fromiter(_timed(searcher.docs_for_query(q)), dtype=np.int64)
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


def ranked(searcher, q: wq.Query, n: int, titles: TitleTokens | None = None
           ) -> tuple[np.ndarray, np.ndarray] | None:
    """The documents matching ``q`` and their BM25F scores, as arrays over docnums.

    For queries made of terms joined by AND, OR and NOT, with phrases only in the title,
    this computes the same scores as Whoosh's matchers (the same formula on the same
    statistics, so equal up to the order of floating-point additions) from whole posting
    arrays. Returns None for anything else, which is then left to Whoosh.
    """
    w = searcher.weighting
    if type(w) is not scoring.BM25F or not _supported(q):
        return None
    return _ranked(searcher, searcher.reader(), titles, w, q, n)


def _ranked(searcher, reader, titles: TitleTokens | None, w, q: wq.Query,
            n: int) -> tuple[np.ndarray, np.ndarray]:
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
    if (tt := _title_phrase(titles, q)) is not None:
        # Whoosh scores a phrase as the intersection of its words: the sum of their scores.
        mask, scores = tt.phrase_docs(list(q.words), n), np.zeros(n, dtype=np.float64)
        if mask.any():
            for word in q.words:
                scores += _ranked(searcher, reader, titles, w, wq.Term("title", word), n)[1]
        scores = np.where(mask, scores, 0.0)
        return mask, scores * q.boost if q.boost != 1.0 else scores
    if isinstance(q, wq.Phrase) and q.fieldname == "title":
        # Without the title arrays: Whoosh's matcher, one document at a time.
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        m = q.matcher(searcher)
        while m.is_active():
            mask[m.id()] = True
            scores[m.id()] = m.score()
            m.next()
        return mask, scores
    mask, scores = _compound(searcher, reader, titles, w, q, n)
    return mask, scores * q.boost if q.boost != 1.0 else scores  # as WrappingMatcher


def _compound(searcher, reader, titles: TitleTokens | None, w, q: wq.Query,
              n: int) -> tuple[np.ndarray, np.ndarray]:
    if type(q) is wq.Or:
        mask, scores = np.zeros(n, dtype=bool), np.zeros(n, dtype=np.float64)
        for child in q.children():
            m, s = _ranked(searcher, reader, titles, w, child, n)
            mask |= m
            scores += s
        return mask, scores
    if type(q) is wq.And:
        mask, scores = np.ones(n, dtype=bool), np.zeros(n, dtype=np.float64)
        for child in q.children():
            if isinstance(child, wq.Not):
                m, _ = _ranked(searcher, reader, titles, w, child.query, n)
                mask &= ~m
                scores += child.boost  # Whoosh's inverse matcher scores its boost
            else:
                m, s = _ranked(searcher, reader, titles, w, child, n)
                mask &= m
                scores += s
        return mask, np.where(mask, scores, 0.0)
    mask, scores = _ranked(searcher, reader, titles, w, q.a, n)  # AndNot
    m, _ = _ranked(searcher, reader, titles, w, q.b, n)
    mask &= ~m
    return mask, np.where(mask, scores, 0.0)
