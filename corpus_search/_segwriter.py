"""Writing a Whoosh segment in bulk, from arrays (private).

Whoosh's ``SegmentWriter`` takes one document at a time: every posting is a tuple put in
a pool, sorted again, then handed one by one to the codec (``add_posting``,
``doc_field_length``, a pickled position list, the flat-postings tee...). Here a whole
batch becomes one new segment in one pass:

1. Per document, the per-document data (stored fields, field lengths, the ``doc_id``
   column) goes through Whoosh's own ``W3PerDocWriter``, exactly as ``add_document``
   calls it (a few calls per field, no per-posting work).
2. Text fields analysed by :class:`~corpus_search._analysis.StemTokenizer` are tokenised
   once per distinct value (``body`` and ``pairs`` share one pass) into arrays of
   (term id, position); ``pairs`` is derived from the body's stem ids with numpy. A
   document may bring a value's tokens already cut (its ``_tokens``, see
   :func:`write_segment`; the build's surface-word pass made them): then its words are
   stemmed once per distinct word of the batch, not looked up once per token. Other
   indexed fields (keywords, ids, dates) go through ``field.index`` as in Whoosh.
3. Each field's tokens are sorted once with numpy into postings (term, docnum, frequency,
   positions); the position lists are encoded as Whoosh's ``Positions`` format encodes
   them (``pack_uint(n) + pickle.dumps(deltas, 2)``), with numpy, a chunk of postings
   at a time as step 4 writes them (a field's encoded values are never all held).
4. Terms and posting blocks are written in order with the W3 codec's block layout
   (``W3PostingsWriter._write_block``: per block of up to 128 postings, a pickled and
   compressed tuple of ids, weights and values, and its info; term infos in the ``.trm``
   ordered hash). The blocks' pickles are made with numpy, many at a time
   (:func:`_block_pickles`: protocol 3, which holds bytes as they are, where Whoosh's
   protocol 2 makes each value a call of ``_codecs.encode``), and deflated by ISA-L
   (zlib's format, see :data:`_COMPRESSION`): the only Python step per block is its
   compression. Blocks whose pickle is shorter than :data:`_MIN_COMPRESS` are stored
   uncompressed (a per-block choice of the W3 format that Whoosh's own writer means to
   make but does not).
5. The flat postings files (``_postings``) of the segment are written from the same
   arrays.

The result is a plain W3 segment: ``whoosh.index.open_dir`` reads it, and it holds what
the segment ``add_document`` would have written for the same documents (the tests compare
term infos, every posting block's unpickled data, lengths, stored fields and scores;
every file but the postings, the term file whose offsets point into them and the
ISA-L-deflated stored fields, byte for byte).

Merging: :func:`commit` lets Whoosh's own merge policy (``MERGE_SMALL``, as
``writer.commit()``) fold small existing segments into the writer's own segment, which
Whoosh writes (with the flat-postings tee); the new documents always get a segment of
their own, added after it. Deletions recorded on the writer are kept in the TOC.

Two processes: ``commit(two_processes=True)`` splits the new documents into two fixed
halves; this process writes the first half's segments while a dask worker (a one-process
``LocalCluster`` started and closed by the commit, with ``_enrich``'s kill safety) writes
the second half's into the same folder; the segments are gathered in docnum order and
the TOC is committed here. The halves do not depend on who writes them, so the segments
are those of writing both halves in this process (a test compares their bytes). The
worker is always local, even when entity extraction was given a remote scheduler: it
writes into the index folder, so it needs this machine's filesystem.
"""

from __future__ import annotations

import ctypes
import pickle
import re
import sys
import types
from array import array
from collections.abc import Callable, Sequence
from hashlib import md5
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

import numpy as np
from isal.isal_zlib import compress as _deflate
from whoosh import formats
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3TermInfo
from whoosh.fields import Schema, UnknownFieldError
from whoosh.lang.porter import stem as _stem_word
from whoosh.system import pack_ushort
from whoosh.util import fib
from whoosh.util.numeric import _length_byte_cache, byte_to_length, length_to_byte
from whoosh.writing import MERGE_SMALL

from . import _enrich, _postings
from ._analysis import MIN_TOKEN_CHARS, StemTokenizer
from ._errors import IndexProblem

__all__ = ["SEGMENT_MAX_DOCS", "WORKERS_ONLY_MIN_DOCS", "commit", "give_back_memory",
           "write_segment", "write_segments"]

_FINDALL = re.compile(r"\w+(?:\.?\w+)*", re.UNICODE).findall  # StemTokenizer's tokens
_DROPPED = -1  # a token of one character (not indexed)
_BLOCK = 128  # postings per block, as W3Codec's default blocklimit
_COMPRESSION = 1
"""The level written in a compressed block's info: blocks are compressed with ISA-L's
zlib-compatible deflate (``isal.isal_zlib``, level 1), not the standard library's zlib at
the W3 codec's level 3. Whoosh reads a block with ``zlib.decompress`` whatever the level
(the info's level only says whether it is compressed), so the blocks read back the same.
Over the 314,260 blocks of one segment of 25,000 synthetic articles (593 MB pickled;
``benchmarks/records/compressors-25000-session12.txt``): zlib level 3 9.38 s, 222.1 MB;
ISA-L level 1 3.46 s, 233.6 MB (+5% on the postings file)."""
_MIN_COMPRESS = 100
"""A block whose pickle is shorter than this is stored as it is, its info saying
compression level 0 (``W3LeafMatcher`` reads the level of each block and decompresses only
when it is not 0), which saves a zlib call of several microseconds on most blocks. Below
64 bytes zlib makes a pickle longer, not shorter (a one-posting block of the ``pairs``
field: 60 bytes, 61 compressed); from 64 to 99 it saves 8% (measured on 3,000 synthetic
articles: 84,000 such blocks, 5.95 MB pickled, 5.50 MB compressed). Whoosh's
``_write_block`` means to skip compressing below 20 bytes, but its next line sets the
level back to the codec's."""


class _Vocab:
    """Stems of a batch as ids, with the raw token -> stem id cache."""

    def __init__(self) -> None:
        self.stems: list[str] = []
        self.ids: dict[str, int] = {}
        self.raw: dict[str, int] = {}
        self._words: tuple[list[str], np.ndarray] | None = None

    def of_words(self, words: list[str]) -> np.ndarray:
        """The stem id of each of ``words`` (lower-cased indexed tokens), made once for
        the list the batch's ``_tokens`` documents share."""
        if self._words is not None and self._words[0] is words:
            return self._words[1]
        cache, ids, stems = StemTokenizer._cache, self.ids, self.stems
        codes = np.empty(len(words), dtype=np.int32)
        for i, low in enumerate(words):
            stemmed = cache.get(low) or _stem_word(low)
            code = ids.get(stemmed)
            if code is None:
                code = ids[stemmed] = len(stems)
                stems.append(stemmed)
            codes[i] = code
        self._words = (words, codes)
        return codes

    def _miss(self, tok: str) -> int:
        low = tok.lower()
        if len(low) < MIN_TOKEN_CHARS:
            code = _DROPPED
        else:
            stemmed = StemTokenizer._cache.get(low) or _stem_word(low)
            code = self.ids.get(stemmed)
            if code is None:
                code = self.ids[stemmed] = len(self.stems)
                self.stems.append(stemmed)
        self.raw[tok] = code
        return code

    def tokens(self, text: str) -> tuple[np.ndarray, int]:
        """Stem ids of the indexed tokens of ``text`` and the position of the first."""
        toks = _FINDALL(text)
        get = self.raw.get
        codes = [get(t, -2) for t in toks]
        if -2 in codes:
            miss = self._miss
            codes = [c if c != -2 else miss(t) for c, t in zip(codes, toks, strict=True)]
        arr = np.fromiter(codes, dtype=np.int32, count=len(codes))
        kept = arr != _DROPPED
        if not kept.any():
            return arr[:0], 0
        first = int(np.argmax(kept))
        return arr[kept], first


class _Tokens:
    """One field's tokens over the batch: docnum, term id, position (in document order)."""

    def __init__(self) -> None:
        self.ids: list[np.ndarray] = []
        self.docs: list[int] = []
        self.firsts: list[int] = []

    def add(self, docnum: int, ids: np.ndarray, first: int) -> None:
        self.ids.append(ids)
        self.docs.append(docnum)
        self.firsts.append(first)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Term ids and positions (int32) of all tokens, and how many tokens each
        document has; the per-document arrays are released."""
        sizes = np.fromiter((len(a) for a in self.ids), dtype=np.int64, count=len(self.ids))
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, dtype=np.int32)
        self.ids = []
        shift = (np.cumsum(sizes) - sizes - np.asarray(self.firsts, dtype=np.int64))
        pos = np.arange(len(ids), dtype=np.int32)
        pos -= np.repeat(shift.astype(np.int32), sizes)
        return ids, pos, sizes

    def docnums(self, sizes: np.ndarray) -> np.ndarray:
        """The docnum (int32) of each token, given each document's token count."""
        return np.repeat(np.asarray(self.docs, dtype=np.int32), sizes)


def _fast_field(field) -> bool:
    """Whether a field is indexed with the fused StemTokenizer in a format handled here."""
    return (type(getattr(field, "analyzer", None)) is StemTokenizer
            and type(field.format) in (formats.Positions, formats.Frequency)
            and bool(field.scorable) and not field.vector
            and not field.separate_spelling())


def _check_schema(schema: Schema) -> None:
    for name, field in schema.items():
        if field.vector or field.separate_spelling():
            raise IndexProblem(f"field {name!r}: vectors and spelling fields are not "
                             "written in bulk")


# --- postings of a field ---------------------------------------------------------------------


class _Positions(NamedTuple):
    """Positions of postings: posting p's are ``pos[starts[p]:starts[p + 1]]``."""

    starts: np.ndarray
    pos: np.ndarray


class _Postings:
    """One field's postings, sorted by (term bytes, docnum)."""

    def __init__(self, btexts: list[bytes], starts: np.ndarray, docs: np.ndarray,
                 freqs: np.ndarray, weights: np.ndarray | float,
                 values: list[bytes] | _Positions | None) -> None:
        self.btexts = btexts  # one per term, ascending
        self.starts = starts  # term t's postings are [starts[t], starts[t + 1])
        self.docs = docs  # docnums (int32 or int64)
        self.freqs = freqs  # int32 or int64
        # float64 per posting, or the field boost: then each posting's weight is its
        # frequency times it, as Whoosh computes it, made only when asked (see weight).
        self.weights = weights
        # Encoded value bytes per posting: a list, or the postings' positions, encoded a
        # chunk at a time when written (Positions); None for the Frequency format (its
        # value is the frequency).
        self.values = values

    def weight(self, sel: np.ndarray | slice = slice(None)) -> np.ndarray:
        """The float64 weights of the postings ``sel`` (all by default)."""
        if isinstance(self.weights, np.ndarray):
            return self.weights[sel]
        return self.freqs[sel] * self.weights


def _term_order(enc: list[bytes]) -> tuple[list[bytes], np.ndarray]:
    """Terms' UTF-8 bytes (``enc``, by term id) in ascending order, and each term id's
    rank in that order."""
    order = sorted(range(len(enc)), key=enc.__getitem__)
    rank = np.empty(len(enc), dtype=np.int64)
    rank[order] = np.arange(len(enc), dtype=np.int64)
    return [enc[i] for i in order], rank


def _encode_chunk(post_start: np.ndarray, pos: np.ndarray, *, framed: bool = False
                  ) -> tuple[bytes, np.ndarray]:
    """``Positions.encode`` of every posting's positions, computed for all at once.

    ``pos`` holds all positions, posting after posting; posting p's are
    ``pos[post_start[p]:post_start[p + 1]]``. Each value is ``pack_uint(n)`` plus the
    protocol-2 pickle of the list of position deltas: PROTO 2, EMPTY_LIST, BINPUT 0, then
    one item (K, M or J opcode and its bytes) and APPEND, or MARK ... APPENDS per run of
    up to 1,000 items (pickle's batch size), then STOP.

    Returns all values in one buffer and where each starts (``bounds``, one more entry
    than postings): posting p's value is ``data[bounds[p]:bounds[p + 1]]``. ``framed``:
    each value is written as a pickle item of its block's values tuple (see
    :func:`_block_pickles`): ``SHORT_BINBYTES`` (``C`` and a length byte) or ``BINBYTES``
    (``B`` and four, little-endian) before it, and ``bounds`` includes them."""
    n = np.diff(post_start)
    npost = len(n)
    if npost == 0:
        return b"", np.zeros(1, dtype=np.int64)
    owner = np.repeat(np.arange(npost), n)
    k = np.arange(len(pos), dtype=np.int64) - post_start[:-1][owner]  # index in posting
    delta = pos.astype(np.int64)
    delta[1:] -= pos[:-1]
    delta[k == 0] = pos[k == 0]
    size = np.where(delta < 256, 2, np.where(delta < 65536, 3, 5)).astype(np.int8)
    multi = n > 1
    batches = -(-n // 1000)
    item_sum = np.add.reduceat(size.astype(np.int64), post_start[:-1])
    # 9 bytes of count and header; the items; MARK + APPENDS per batch or APPEND; STOP.
    total = 9 + item_sum + np.where(multi, 2 * batches, 1) + 1
    head = np.where(total < 256, 2, 5) if framed else 0
    ends = np.cumsum(total + head)
    begins = ends - total
    buf = np.zeros(int(ends[-1]), dtype=np.uint8)
    if framed:
        short = head == 2
        buf[begins[short] - 2] = ord("C")
        buf[begins[short] - 1] = total[short]
        buf[begins[~short] - 5] = ord("B")
        size4 = total[~short].astype("<u4").view(np.uint8).reshape(-1, 4)
        for i in range(4):
            buf[begins[~short] - 4 + i] = size4[:, i]
    count = n.astype(">u4").view(np.uint8).reshape(-1, 4)
    for i in range(4):
        buf[begins + i] = count[:, i]
    for i, byte in enumerate(b"\x80\x02]q\x00"):
        buf[begins + 4 + i] = byte
    csum = np.cumsum(size, dtype=np.int64)
    before = csum - size - (csum - size)[post_start[:-1]][owner]  # item bytes before it
    batch = k // 1000
    at = begins[owner] + 9 + multi[owner] + before + 2 * batch
    buf[at] = np.where(size == 2, ord("K"), np.where(size == 3, ord("M"), ord("J")))
    le = delta.astype("<u4").view(np.uint8).reshape(-1, 4)
    for i in range(4):
        has = size > i + 1
        buf[at[has] + 1 + i] = le[has, i]
    in_multi = multi[owner]
    buf[at[in_multi & (k % 1000 == 0)] - 1] = ord("(")
    last = (k == n[owner] - 1) | (k % 1000 == 999)
    buf[(at + size)[in_multi & last]] = ord("e")
    buf[(at + size)[~in_multi]] = ord("a")
    buf[ends - 1] = ord(".")
    return buf.tobytes(), np.append(begins - head, ends[-1])


_ENCODE_TOKENS = 1 << 18  # positions encoded per numpy pass (bounds its temporaries)


def _encode_positions(post_start: np.ndarray, pos: np.ndarray, *, framed: bool = False
                      ) -> tuple[bytearray, np.ndarray]:
    """:func:`_encode_chunk` over runs of about ``_ENCODE_TOKENS`` positions, joined.

    The values are appended to one ``bytearray`` as they are made (grown in place: not
    a list of parts and their join, twice the values' bytes at once)."""
    cuts = np.searchsorted(post_start, np.arange(0, int(post_start[-1]), _ENCODE_TOKENS))
    cuts = np.unique(np.append(cuts, len(post_start) - 1))
    data = bytearray()
    bounds = np.zeros(len(post_start), dtype=np.int32)  # int64 once they need it
    for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        starts = post_start[a:b + 1]
        part, bnd = _encode_chunk(starts - starts[0], pos[starts[0]:starts[-1]],
                                  framed=framed)
        if len(data) + len(part) >= 2**31 and bounds.dtype != np.int64:
            bounds = bounds.astype(np.int64)
        bounds[a + 1:b + 1] = bnd[1:] + len(data)
        data += part
    return data, bounds


_PASS = 1 << 20  # array entries per pass of a step done in runs to bound its temporaries


def _flat_index(mask: np.ndarray, dtype: type) -> np.ndarray:
    """``np.flatnonzero(mask)`` in ``dtype`` (not int64 first), in runs of ``_PASS``."""
    out = np.empty(int(np.count_nonzero(mask)), dtype=dtype)
    k = 0
    for a in range(0, len(mask), _PASS):
        got = np.flatnonzero(mask[a:a + _PASS])
        got += a
        out[k:k + len(got)] = got
        k += len(got)
    return out


def _text_postings(tokens: _Tokens, texts: list[bytes], field, ndocs: int) -> _Postings:
    """Postings of a StemTokenizer field from its tokens (term ids index ``texts``, the
    terms' UTF-8 bytes)."""
    ids, pos, sizes = tokens.arrays()
    btexts, rank = _term_order(texts)
    key = rank[ids]
    del ids
    key *= ndocs + 1
    key += tokens.docnums(sizes)
    npos = int(pos.max()) + 1 if len(pos) else 1
    if (len(btexts) + 1) * (ndocs + 1) * npos < 2**63:
        # (term, doc, position) in one int64 sorted in place: no argsort, no gathered
        # copies (12 bytes a token at the peak instead of ~40); positions are unique
        # within a (term, doc), so the order is the stable argsort's.
        key *= npos
        key += pos
        key.sort()
        np.remainder(key, npos, out=pos, casting="unsafe")
        key //= npos
    else:
        order = np.argsort(key, kind="stable")  # stable: positions stay ascending
        key = key[order]
        pos = pos[order]
        del order
    # Postings: where each (term, doc) run of tokens starts, its docnum, and where each
    # term's postings start; made in runs of _PASS (no int64 array of a value per posting
    # besides the tokens' keys: this is a build's peak).
    new = np.ones(len(key) + 1, dtype=bool)  # and one past the end
    np.not_equal(key[1:], key[:-1], out=new[1:-1])
    post_start = _flat_index(new, np.int32 if len(key) < 2**31 else np.int64)
    del new
    nposts = len(post_start) - 1
    pdoc = np.empty(nposts, dtype=np.int32)
    tnew = np.empty(nposts + 1, dtype=bool)  # a posting starts a term (and one past the end)
    tnew[-1] = True
    used, prev, pterm = [], -1, None
    for a in range(0, nposts, _PASS):
        b = min(a + _PASS, nposts)
        pterm = key[post_start[a:b]]
        pdoc[a:b] = pterm % (ndocs + 1)
        pterm //= ndocs + 1
        tnew[a] = pterm[0] != prev
        np.not_equal(pterm[1:], pterm[:-1], out=tnew[a + 1:b])
        used.append(pterm[tnew[a:b]])
        prev = int(pterm[-1])
    del key, pterm  # (arrays are dropped as soon as they are used)
    starts = np.flatnonzero(tnew)
    del tnew
    used = np.concatenate(used) if used else np.zeros(0, dtype=np.int64)
    freqs = np.diff(post_start).astype(np.int32)
    fmt = field.format
    values = _Positions(post_start, pos) if type(fmt) is formats.Positions else None
    return _Postings([btexts[t] for t in used.tolist()], starts, pdoc, freqs,
                     float(fmt.field_boost), values)


def _generic_postings(items: list[tuple[bytes, int, float, bytes, int]]) -> _Postings:
    """Postings of a field indexed through ``field.index`` (docnums already ascending)."""
    items.sort(key=lambda it: it[0])  # stable: docnums stay ascending within a term
    btexts: list[bytes] = []
    starts: list[int] = []
    last = None
    for i, it in enumerate(items):
        if it[0] != last:
            last = it[0]
            btexts.append(last)
            starts.append(i)
    starts.append(len(items))
    return _Postings(btexts, np.asarray(starts, dtype=np.int64),
                     np.asarray([it[1] for it in items], dtype=np.int64),
                     np.asarray([it[4] for it in items], dtype=np.int64),
                     np.asarray([it[2] for it in items], dtype=np.float64),
                     [it[3] for it in items])


# --- writing the codec's files ---------------------------------------------------------------


_LENGTH_CACHE = np.asarray(_length_byte_cache, dtype=np.int64)


def _length_bytes(lengths: np.ndarray) -> np.ndarray:
    """``length_to_byte`` of every entry (the bisection into Whoosh's table, at once)."""
    out = np.searchsorted(_LENGTH_CACHE, lengths, side="left")
    out[lengths >= _LENGTH_CACHE[-1]] = 255
    return out.astype(np.uint8)


def _const(data: bytes, n: int) -> tuple[np.ndarray, None]:
    """The same bytes in each of ``n`` rows (a part for :func:`_rows`)."""
    return np.tile(np.frombuffer(data, dtype=np.uint8), (n, 1)), None


def _column(values: np.ndarray, dtype: str) -> tuple[np.ndarray, None]:
    """Each row's value in the fixed-size ``dtype`` (a part for :func:`_rows`)."""
    raw = np.ascontiguousarray(values.astype(dtype))
    return raw.view(np.uint8).reshape(len(values), -1), None


def _pickled_ints(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's int as pickle (protocol 2) writes it: BININT1 (``K``, one byte),
    BININT2 (``M``, two) or BININT (``J``, four; little-endian); a part for
    :func:`_rows`. Only for 0 <= value < 2**31."""
    v = np.asarray(values, dtype=np.int64)
    if len(v) and (int(v.min()) < 0 or int(v.max()) >= 2**31):
        raise ValueError("only ints in [0, 2**31) are pickled here")
    cols = np.empty((len(v), 5), dtype=np.uint8)
    cols[:, 0] = np.where(v < 256, ord("K"), np.where(v < 65536, ord("M"), ord("J")))
    cols[:, 1:] = v.astype("<u4").view(np.uint8).reshape(-1, 4)
    size = np.where(v < 256, 2, np.where(v < 65536, 3, 5))
    return cols, np.arange(5) < size[:, None]


def _rows(parts: list[tuple[np.ndarray, np.ndarray | None]]) -> tuple[bytes, np.ndarray]:
    """Rows of bytes made of ``parts`` side by side (each a byte matrix and which of its
    bytes are used; None: all), in one buffer: row r is ``data[bounds[r]:bounds[r + 1]]``."""
    mat = np.hstack([cols for cols, _ in parts])
    used = np.hstack([np.ones(cols.shape, dtype=bool) if u is None else u
                      for cols, u in parts])
    bounds = np.zeros(len(mat) + 1, dtype=np.int64)
    np.cumsum(used.sum(axis=1), out=bounds[1:])
    return mat[used].tobytes(), bounds


_PROTOCOL = b"\x80\x03"
"""The header of a block's pickle written here: protocol 3, whose ``SHORT_BINBYTES`` and
``BINBYTES`` hold bytes as they are. Whoosh pickles a block with protocol 2, where bytes
are a call of ``_codecs.encode`` on their latin-1 text (~20 bytes more a value, and a
byte from 0x80 takes two). The reader only unpickles a block (``W3LeafMatcher._read_data``),
so what it reads back is the same tuple."""

_VALUES_TAIL = b"t\x87."  # after the framed values of a block: TUPLE, TUPLE3, STOP


def _block_pickles(ids: np.ndarray, at: np.ndarray, ends: np.ndarray, wkind: np.ndarray,
                   weights: np.ndarray, values: np.ndarray | bool | None
                   ) -> tuple[bytes, np.ndarray]:
    """The pickles of many posting blocks' ``(ids, weights, values)``, made with numpy.

    Block ``k`` holds the postings ``at[k]`` to ``ends[k]`` (blocks back to back, covering
    all postings) of ``ids`` (ints in [0, 2**31): the block's first docnum, then the
    differences) and ``weights`` (float32). Its ``wkind``: 0, weights None (all 1); 1, the
    first weight (all equal); 2, a tuple of all. ``values``: None, no values (``N``); a
    byte matrix, a row of fixed size per posting, the block's rows as one bytes
    (``Frequency``: the frequency's 4 big-endian bytes); True, a tuple of values the
    caller adds: each block's pickle then ends with the tuple's MARK, to be followed by
    the values framed by :func:`_encode_chunk` and :data:`_VALUES_TAIL`.

    The pickle (see :data:`_PROTOCOL`, no memo): PROTO 3, MARK, each id (``K``, ``M`` or
    ``J``), TUPLE; ``N``, ``G`` and a double, or MARK, ``G``... TUPLE; the values; TUPLE3,
    STOP. Returns all in one buffer: block k's is ``data[bounds[k]:bounds[k + 1]]``."""
    nb, n = len(at), len(ids)
    counts = ends - at
    owner = np.repeat(np.arange(nb), counts)
    k_in = np.arange(n) - at[owner]  # each posting's index in its block
    icols, iused = _pickled_ints(ids)  # (raises unless 0 <= id < 2**31)
    isize = iused.sum(axis=1)
    before = np.cumsum(isize) - isize  # id bytes before each id, in the chunk
    ids_len = np.add.reduceat(isize, at) if nb else np.zeros(0, dtype=np.int64)
    wlen = np.where(wkind == 0, 1, np.where(wkind == 1, 9, 2 + 9 * counts))
    if values is None:
        vlen = np.full(nb, 3)  # N TUPLE3 STOP
    elif values is True:
        vlen = np.ones(nb, dtype=np.int64)  # MARK
    else:
        width = values.shape[1]
        flen = width * counts
        fhead = np.where(flen < 256, 2, 5)
        vlen = fhead + flen + 2
    bounds = np.zeros(nb + 1, dtype=np.int64)
    np.cumsum(3 + ids_len + 1 + wlen + vlen, out=bounds[1:])
    start = bounds[:-1]
    buf = np.zeros(int(bounds[-1]), dtype=np.uint8)
    buf[start] = _PROTOCOL[0]
    buf[start + 1] = _PROTOCOL[1]
    buf[start + 2] = ord("(")
    ipos = start[owner] + 3 + before - before[at][owner]
    for j in range(icols.shape[1]):
        has = iused[:, j]
        buf[ipos[has] + j] = icols[has, j]
    del icols, iused
    w0 = start + 3 + ids_len
    buf[w0] = ord("t")
    w0 += 1
    buf[w0[wkind == 0]] = ord("N")
    one = np.flatnonzero(wkind == 1)
    buf[w0[one]] = ord("G")
    f8 = weights[at[one]].astype(">f8").view(np.uint8).reshape(-1, 8)
    for j in range(8):
        buf[w0[one] + 1 + j] = f8[:, j]
    many = wkind == 2
    buf[w0[many]] = ord("(")
    buf[w0[many] + 1 + 9 * counts[many]] = ord("t")
    inmany = many[owner]
    wpos = w0[owner[inmany]] + 1 + 9 * k_in[inmany]
    buf[wpos] = ord("G")
    f8 = weights[inmany].astype(">f8").view(np.uint8).reshape(-1, 8)
    for j in range(8):
        buf[wpos + 1 + j] = f8[:, j]
    v0 = w0 + wlen
    if values is None:
        buf[v0] = ord("N")
        buf[v0 + 1] = 0x87
        buf[v0 + 2] = ord(".")
    elif values is True:
        buf[v0] = ord("(")
    else:
        short = fhead == 2
        buf[v0[short]] = ord("C")
        buf[v0[short] + 1] = flen[short]
        buf[v0[~short]] = ord("B")
        size4 = flen[~short].astype("<u4").view(np.uint8).reshape(-1, 4)
        for j in range(4):
            buf[v0[~short] + 1 + j] = size4[:, j]
        fpos = (v0 + fhead)[owner] + width * k_in
        for j in range(width):
            buf[fpos + j] = values[:, j]
        buf[v0 + fhead + flen] = 0x87
        buf[v0 + fhead + flen + 1] = ord(".")
    return buf.tobytes(), bounds


_TERMINFO = np.dtype([("flags", "u1"), ("weight", ">f4"), ("df", ">u4"), ("minlength", "u1"),
                      ("maxlength", "u1"), ("maxweight", ">f4"), ("minid", ">u4"),
                      ("maxid", ">u4"), ("offset", ">i8"), ("length", ">i4")])
"""``W3TermInfo.to_bytes`` of a term whose postings are not inlined (``!BfIBBfII`` and
the postings' offset and length)."""
assert _TERMINFO.itemsize == W3TermInfo._struct.size + 12

_FIELD_TERMS = 8192  # about as many posting blocks are written at a time
_FIELD_POSTINGS = 1 << 18  # ... or postings
_BLOCK_PASS = 1 << 20  # postings per pass of the per-block statistics


def _block_runs(bstart: np.ndarray) -> list[tuple[int, int]]:
    """Blocks (starting at ``bstart``, ascending, each ending where the next starts) in
    runs ``[b0, b1)`` of about ``_BLOCK_PASS`` postings."""
    cuts = np.searchsorted(bstart, np.arange(0, int(bstart[-1]) + 1, _BLOCK_PASS))
    cuts = np.unique(np.append(cuts, len(bstart))).tolist()
    return list(pairwise(cuts))


def _write_field(fw, name: str, field, p: _Postings, dfl: np.ndarray) -> None:
    """Write one field's terms and posting blocks through the W3 field writer ``fw``.

    ``dfl`` is each document's field length as Whoosh's per-document reader returns it
    (decoded from its byte; 0 for none): the blocks' min/max lengths come from it.

    The layout is that of ``W3PostingsWriter`` and ``W3FieldWriter.finish_term``; a
    block's data is the pickle of its ids, weights and values (protocol 3, made with
    numpy: :func:`_block_pickles`), deflated by ISA-L (see ``_COMPRESSION``) when long
    enough. Per block only the compression is a Python step: pickles, block infos,
    headers, term infos and the term file's records are made with numpy for many terms at
    a time, and written in one call each."""
    fw.start_field(name, field)
    fieldkey = pack_ushort(fw._fieldid)
    postfile, tindex = fw._postfile, fw._tindex
    if tindex.hashtype != 0 or fieldkey + p.btexts[0] <= tindex.lastkey:
        raise ValueError(f"field {name!r}: terms must follow the previous ones (MD5 hash)")
    fixed = field.format.fixed_value_size()
    # Block boundaries: every term's postings in runs of _BLOCK, computed at once.
    counts = np.diff(p.starts)
    nblocks = -(-counts // _BLOCK)
    nb = int(nblocks.sum())
    bterm = np.repeat(np.arange(len(counts)), nblocks)
    tblock = np.cumsum(nblocks) - nblocks  # each term's first block
    bstart = p.starts[:-1][bterm] + _BLOCK * (np.arange(nb) - tblock[bterm])
    bend = np.minimum(bstart + _BLOCK, p.starts[1:][bterm])
    # Per block: max and sum of weights, which weights (see wkind below), min and max
    # field length. Computed over runs of about _BLOCK_PASS postings: no array of a value
    # per posting is made for the whole field (a field's postings are a build's peak).
    # Decoded lengths are at most 106,374 (the length byte 255): int32, and a larger
    # value stands for "no length" in block minima.
    big = np.iinfo(np.int32).max
    dfl32 = dfl.astype(np.int32)
    bmaxw, bsumw = np.empty(nb), np.empty(nb)
    bmin, bmax = np.empty(nb, dtype=np.int32), np.empty(nb, dtype=np.int32)
    ones, same = np.empty(nb, dtype=bool), np.empty(nb, dtype=bool)
    for b0, b1 in _block_runs(bstart):
        i0, i1 = int(bstart[b0]), int(bend[b1 - 1])
        at = bstart[b0:b1] - i0
        weights = p.weight(slice(i0, i1))
        bmaxw[b0:b1] = np.maximum.reduceat(weights, at)
        w32 = weights.astype(np.float32)
        del weights
        bsumw[b0:b1] = np.add.reduceat(w32.astype(np.float64), at)
        ones[b0:b1] = ~np.logical_or.reduceat(w32 != 1.0, at)
        same[b0:b1] = np.maximum.reduceat(w32, at) == np.minimum.reduceat(w32, at)
        del w32
        lengths = dfl32[p.docs[i0:i1]] if len(dfl) else np.zeros(i1 - i0, dtype=np.int32)
        bmax[b0:b1] = np.maximum.reduceat(lengths, at)
        lengths[lengths == 0] = big
        bmin[b0:b1] = np.minimum.reduceat(lengths, at)
        del lengths

    def block_infos(b0: int, b1: int) -> tuple[np.ndarray, np.ndarray]:
        # Blocks b0..b1's info tuples (count, last id, max weight, compression, min and
        # max length bytes), pickled as W3PostingsWriter._write_block does, for all at
        # once: the bytes, and where each starts (and the last ends) in them.
        n, be, lo = b1 - b0, bend[b0:b1], bmin[b0:b1]
        info, info_at = _rows([
            _const(b"\x80\x02(K", n), _column(be - bstart[b0:b1], "u1"),
            _pickled_ints(p.docs[be - 1]), _const(b"G", n), _column(bmaxw[b0:b1], ">f8"),
            _const(b"K%cK" % _COMPRESSION, n),  # the level is set per block below
            _column(_length_bytes(np.where(lo == big, 0, lo)) * (lo != big), "u1"),
            _const(b"K", n), _column(_length_bytes(bmax[b0:b1]), "u1"),
            _const(b"tq\x00.", n)])
        return np.frombuffer(info, dtype=np.uint8).copy(), info_at

    # Term statistics, as W3TermInfo.add_block accumulates them over a term's blocks.
    tinfo = np.zeros(len(counts), dtype=_TERMINFO)
    weight = bsumw[tblock]
    for t in np.flatnonzero(nblocks > 1).tolist():  # summed in order, as Whoosh does
        weight[t] = sum(bsumw[tblock[t]:tblock[t] + nblocks[t]].tolist())
    tinfo["weight"] = weight
    tinfo["df"] = counts
    tmin = np.minimum.reduceat(bmin, tblock)
    tinfo["minlength"] = _length_bytes(np.where(tmin == big, 0, tmin)) * (tmin != big)
    tinfo["maxlength"] = _length_bytes(np.maximum.reduceat(bmax, tblock))
    tinfo["maxweight"] = np.maximum(np.maximum.reduceat(bmaxw, tblock), 0)
    tinfo["minid"] = p.docs[p.starts[:-1]]
    tinfo["maxid"] = p.docs[p.starts[1:] - 1]
    del bsumw, tmin, weight
    # Per block, the pickle's parts: ids (delta-coded, the first absolute), weights
    # (None if all 1, one float if all equal, else all) and values. They are made a chunk
    # at a time (a whole field's would be a second copy of its postings).
    wkind = np.where(ones, 0, np.where(same, 1, 2)).astype(np.int8)
    del ones, same
    positions = p.values if isinstance(p.values, _Positions) else None
    freq_values = fixed == 4 and p.values is None  # each value is the frequency's 4 bytes
    # Blocks are pickled with numpy (_block_pickles) unless their values have no fixed
    # size (other formats than these fields', from Whoosh's own field.index): then with
    # pickle, a block at a time.
    with_numpy = positions is not None or (fixed is not None and fixed >= 0)
    dumps, compress, tail = pickle.dumps, _deflate, _VALUES_TAIL
    # Terms in chunks of about _FIELD_TERMS blocks or _FIELD_POSTINGS postings.
    cum = np.maximum(np.cumsum(nblocks) // _FIELD_TERMS, p.starts[1:] // _FIELD_POSTINGS)
    cuts = np.append(np.flatnonzero(np.diff(cum)) + 1, len(counts))
    t0 = 0
    for t1 in cuts.tolist():
        b0 = int(tblock[t0])
        b1 = int(tblock[t1]) if t1 < len(counts) else nb
        # The chunk's postings are [p0, p1); its lists count from p0.
        p0, p1 = int(p.starts[t0]), int(p.starts[t1])
        at, ends = bstart[b0:b1] - p0, bend[b0:b1] - p0
        ids = np.diff(p.docs[p0:p1], prepend=0)
        ids[at] = p.docs[p0:p1][at]
        w32 = p.weight(slice(p0, p1)).astype(np.float32)
        if with_numpy:
            if positions is not None:
                vals = True
            elif fixed == 0:
                vals = None
            elif freq_values:
                vals = p.freqs[p0:p1].astype(">u4").view(np.uint8).reshape(-1, 4)
            else:
                vals = np.frombuffer(b"".join(p.values[p0:p1]), dtype=np.uint8)
                vals = vals.reshape(-1, fixed)
            pdata, pb = _block_pickles(ids, at, ends, wkind[b0:b1], w32, vals)
            del ids, w32
            pbl = pb.tolist()
            if positions is not None:  # the chunk's values, encoded and framed now
                ps = positions.starts[p0:p1 + 1]
                vdc, vb = _encode_positions(ps - ps[0], positions.pos[ps[0]:ps[-1]],
                                            framed=True)
                vbl = vb.tolist()
                del ps, vb
                pks = [pdata[a:b] + vdc[vbl[i]:vbl[j]] + tail
                       for a, b, i, j in zip(pbl[:-1], pbl[1:], at.tolist(), ends.tolist(),
                                             strict=True)]
                del vdc, vbl
            else:
                pks = [pdata[a:b] for a, b in pairwise(pbl)]
            del pdata, pbl
        else:
            idl = ids.tolist()
            wkl = wkind[b0:b1].tolist()
            wl = w32.tolist()
            del ids, w32
            pks = []
            for k, i, j in zip(wkl, at.tolist(), ends.tolist(), strict=True):
                w = None if k == 0 else wl[i] if k == 1 else tuple(wl[i:j])
                vs = tuple(p.values[p0 + i:p0 + j])
                pks.append(dumps((tuple(idl[i:j]), w, vs), 2))
        datas = []
        levels = []
        for pk in pks:
            if len(pk) < _MIN_COMPRESS:
                datas.append(pk)
                levels.append(0)
            else:
                datas.append(compress(pk, _COMPRESSION))
                levels.append(_COMPRESSION)
        del pks
        info, iat = block_infos(b0, b1)
        info[iat[1:] - 9] = levels  # each info ends K<level>K<min>K<max>tq\x00.
        # Block headers: the term's magic before its first block, the block's length
        # (negative for the term's last block) and info.
        dlen = np.fromiter(map(len, datas), dtype=np.int64, count=len(datas))
        blen = np.diff(iat) + dlen
        first = np.zeros(b1 - b0, dtype=bool)
        first[tblock[t0:t1] - b0] = True
        last = np.zeros(b1 - b0, dtype=bool)
        last[tblock[t0:t1] + nblocks[t0:t1] - 1 - b0] = True
        magic = np.tile(np.frombuffer(WHOOSH3_HEADER_MAGIC, dtype=np.uint8), (b1 - b0, 1))
        head, hat = _rows([(magic, np.repeat(first[:, None], 4, axis=1)),
                           _column(np.where(last, -blen, blen), ">i4")])
        hat_l = hat.tolist()
        iat_l = iat.tolist()
        chunk_info = info.tobytes()
        parts = []
        for x, data in enumerate(datas):
            parts += (head[hat_l[x]:hat_l[x + 1]], chunk_info[iat_l[x]:iat_l[x + 1]], data)
        del datas
        # Term extents in the postings file.
        rec = np.diff(hat) + np.diff(iat) + dlen
        tlen = np.add.reduceat(rec, tblock[t0:t1] - b0)
        toff = postfile.tell() + np.cumsum(tlen) - tlen
        postfile.write(b"".join(parts))
        del parts
        ti = tinfo[t0:t1]
        ti["offset"] = toff
        ti["length"] = tlen
        _add_terms(tindex, fieldkey, p.btexts[t0:t1], ti.tobytes(), _TERMINFO.itemsize)
        t0 = t1
    fw.finish_field()


def _add_terms(tindex, fieldkey: bytes, btexts: list[bytes], values: bytes,
               vsize: int) -> None:
    """``OrderedHashWriter.add(fieldkey + btext, value)`` for each term (ascending, after
    the writer's last key), its values ``vsize`` bytes each: the records in one write."""
    n = len(btexts)
    blens = np.fromiter(map(len, btexts), dtype=np.int64, count=n)
    klen = blens + len(fieldkey)
    reclen = 8 + klen + vsize
    rstart = np.cumsum(reclen) - reclen
    buf = np.empty(int(reclen.sum()), dtype=np.uint8)
    prefix = np.empty((n, 8 + len(fieldkey)), dtype=np.uint8)
    prefix[:, :4] = klen.astype(">i4").view(np.uint8).reshape(n, 4)
    prefix[:, 4:8] = np.frombuffer(vsize.to_bytes(4, "big"), dtype=np.uint8)
    prefix[:, 8:] = np.frombuffer(fieldkey, dtype=np.uint8)
    buf[rstart[:, None] + np.arange(prefix.shape[1])] = prefix
    tstart = np.cumsum(blens) - blens
    at = np.repeat(rstart + prefix.shape[1] - tstart, blens) + np.arange(int(blens.sum()))
    buf[at] = np.frombuffer(b"".join(btexts), dtype=np.uint8)
    vat = rstart + prefix.shape[1] + blens
    buf[vat[:, None] + np.arange(vsize)] = np.frombuffer(values, dtype=np.uint8).reshape(n, vsize)
    dbfile = tindex.dbfile
    pos = dbfile.tell() + rstart
    dbfile.write(buf.tobytes())
    # The key positions (GrowableArray: retyped, as appending them would, for the last).
    pos_l = pos.tolist()
    index = tindex.index
    if isinstance(index.array, array):
        try:
            array(index.array.typecode, [pos_l[-1]])
        except OverflowError:
            index._retype(pos_l[-1])
    index.array.extend(pos_l)
    # The hash buckets, in insertion order (HashWriter.add; MD5's last four bytes).
    hashes = np.fromiter((int.from_bytes(md5(fieldkey + bt, usedforsecurity=False)
                                         .digest()[12:], "big") for bt in btexts),
                         dtype=np.int64, count=n)
    # Each bucket gets an (n, 2) array of (hash, position) rows, not n tuples (~130 bytes
    # each, held until the term file is closed: a million terms a segment).
    low = hashes & 255
    order = np.argsort(low, kind="stable")
    bounds = np.searchsorted(low[order], np.arange(257)).tolist()
    entries = np.stack([hashes[order], pos[order]], axis=1)
    buckets = tindex.buckets
    for k in range(256):
        if bounds[k + 1] > bounds[k]:
            buckets[k].append(entries[bounds[k]:bounds[k + 1]])
    tindex.lastkey = fieldkey + btexts[-1]


_POINTER = np.dtype([("hash", ">u4"), ("pos", ">i8")])


def _write_hashes(self) -> None:
    """``HashWriter._write_hashes`` with each table written in one call (the slots are
    filled by the same linear probing, in the same order). A bucket holds ``(hash,
    position)`` tuples (``HashWriter.add``) or arrays of them (:func:`_add_terms`)."""
    dbfile = self.dbfile
    for bucket in self.buckets:
        entries = []
        for e in bucket:
            if isinstance(e, np.ndarray):
                entries += map(tuple, e.tolist())
            else:
                entries.append(e)
        pos = dbfile.tell()
        numslots = 2 * len(entries)
        self.directory.append((pos, numslots))
        if not numslots:
            continue
        hashes = [0] * numslots
        positions = [0] * numslots  # 0: empty (no key starts at 0: the header is there)
        for hashval, position in entries:
            slot = (hashval >> 8) % numslots
            while positions[slot]:
                slot = (slot + 1) % numslots
            hashes[slot] = hashval
            positions[slot] = position
        table = np.empty(numslots, dtype=_POINTER)
        table["hash"] = hashes
        table["pos"] = positions
        dbfile.write(table.tobytes())


# --- the segment -----------------------------------------------------------------------------


def _deflate_stored(pdw) -> None:
    """Make the per-document writer ``pdw`` compress each document's stored fields (the
    ``_stored`` column: a pickle per document, zlib level 3 in Whoosh) with ISA-L at
    :data:`_COMPRESSION`. The column's reader decompresses with ``zlib.decompress``,
    which reads either. One segment of 25,000 synthetic articles: 1.7 s of zlib."""
    column = pdw._get_column("_stored")._child  # PickleColumn's CompressedBytes writer
    column._compress, column._level = _deflate, _COMPRESSION


def write_segment(storage, schema: Schema, indexname: str, docs: Sequence[dict], *,
                  flat_fields: frozenset[str] = _postings.FLAT_FIELDS):
    """Write ``docs`` as one new W3 segment of the index in ``storage``; not committed.

    Parameters
    ----------
    storage : whoosh.filedb.filestore.FileStorage
        The index's storage (its folder gets the segment's files).
    schema : whoosh.fields.Schema
        The index's schema; every key of every document must be one of its fields.
    indexname : str
        The index's name in the storage (``"MAIN"`` for ``open_dir``'s default).
    docs : sequence of dict
        Field name -> value, as for ``writer.add_document(**doc)``; ``None`` values are
        skipped. Docnums follow the order of ``docs``. A document may also hold
        ``"_tokens"``: field name -> ``(ids, first, words)``, that field's value already
        cut into its indexed tokens (as :class:`~corpus_search._analysis.StemTokenizer`
        cuts it, before stemming): ``words[ids[i]]`` is the i-th token lower-cased,
        ``first`` the position of the first. Documents of a batch share one ``words``.
    flat_fields : frozenset of str
        Fields whose common terms get flat postings files beside the segment.

    Returns
    -------
    whoosh.codec.whoosh3.W3Segment
        The segment, to be listed in the index's TOC (see :func:`commit`).
    """
    _check_schema(schema)
    codec = W3Codec()
    segment = codec.new_segment(storage, indexname)
    pdw = codec.per_document_writer(storage, segment)
    _deflate_stored(pdw)
    fast = {n: f for n, f in schema.items() if _fast_field(f)}
    vocab = _Vocab()
    tokens: dict[str, _Tokens] = {n: _Tokens() for n in fast}
    common = {n: _Flags(f.analyzer.common) for n, f in fast.items() if f.analyzer.pairs}
    generic: dict[str, list] = {}
    lengths: dict[str, np.ndarray] = {}
    ndocs = len(docs)
    for docnum, doc in enumerate(docs):
        names = sorted(k for k in doc if not k.startswith("_"))
        for name in names:
            if name not in schema:
                raise UnknownFieldError(f"No field named {name!r} in {schema}")
        pdw.start_doc(docnum)
        seen: dict[int, tuple[np.ndarray, int]] = {}  # one tokenisation per value
        for name, (ids, first, words) in doc.get("_tokens", {}).items():
            seen[id(doc[name])] = (vocab.of_words(words)[ids], first)
        for name in names:
            value = doc[name]
            if value is None:
                continue
            field = schema[name]
            length = 0
            if name in fast:
                got = seen.get(id(value))
                if got is None:
                    got = seen[id(value)] = vocab.tokens(value)
                ids, first = got
                if name in common:
                    ok = common[name].of(ids, vocab.stems)
                    both = np.flatnonzero(ok[1:] & ok[:-1])
                    ids = ids[both].astype(np.int64) * _PAIR + ids[both + 1]
                tokens[name].add(docnum, ids, first)
                length = len(ids)
            elif field.indexed:
                items = generic.setdefault(name, [])
                for tbytes, freq, weight, vbytes in field.index(value):
                    if field.scorable:
                        length += freq
                    items.append((tbytes, docnum, weight, vbytes, freq))
            if length:
                lengths.setdefault(name, np.zeros(ndocs, dtype=np.int64))[docnum] = length
            pdw.add_field(name, field, value if field.stored else None, length)
            if field.column_type:
                pdw.add_column_value(name, field.column_type, field.to_column_value(value))
        pdw.finish_doc()
    pdw.close()
    segment.set_doc_count(ndocs)

    # One field at a time (in name order, as the terms file wants them): its postings are
    # built, written and dropped before the next field's are built.
    def field_postings(name: str) -> _Postings:
        if name in generic:
            return _generic_postings(generic.pop(name))
        field, toks = schema[name], tokens.pop(name)
        stems = [s.encode("utf-8") for s in vocab.stems]
        if name not in common:
            return _text_postings(toks, stems, field, ndocs)
        sizes = np.fromiter(map(len, toks.ids), dtype=np.int64, count=len(toks.ids))
        keys = np.concatenate(toks.ids) if toks.ids else np.zeros(0, dtype=np.int64)
        toks.ids = []
        # Distinct pair keys and each token's rank among them, from one sort (a binary
        # search per token cost more than the sort).
        order = np.argsort(keys)
        keys = keys[order]
        new = np.empty(len(keys), dtype=bool)
        new[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        uniq = keys[new]
        del keys
        small = np.int32 if len(order) < 2**31 else np.int64
        rank = np.empty(len(order), dtype=small)
        rank[order] = np.cumsum(new, dtype=small) - 1
        del order, new
        texts = [stems[k // _PAIR] + b" " + stems[k % _PAIR] for k in uniq.tolist()]
        del uniq, stems
        toks.ids = np.split(rank, np.cumsum(sizes)[:-1]) if len(sizes) else []
        del rank  # (held by the views until _Tokens.arrays releases them)
        return _text_postings(toks, texts, field, ndocs)

    flat = []
    fw = codec.field_writer(storage, segment)
    fw._tindex._write_hashes = types.MethodType(_write_hashes, fw._tindex)
    try:
        for name in sorted(set(tokens) | set(generic)):
            p = field_postings(name)
            if len(p.btexts):
                _write_field(fw, name, schema[name], p, _decoded_lengths(lengths.get(name)))
            if name in flat_fields:
                flat.append(_flat_part(name, p))
            del p
    finally:
        fw.close()
    _postings.write_flat(Path(storage.folder) / segment.make_filename(".csp"), flat)
    return segment


def _flat_part(name: str, p: _Postings) -> tuple:
    """The part of a field's postings that goes into flat postings files (terms held by
    at least ``FLAT_MIN_DF`` articles), as ``_postings.write_flat`` takes it."""
    counts = np.diff(p.starts)
    kept = counts >= _postings.FLAT_MIN_DF
    keep = np.flatnonzero(kept)
    btexts = [p.btexts[t] for t in keep.tolist()]
    sel = np.repeat(kept, counts)  # the kept terms' postings (a byte each)
    starts = np.append(0, np.cumsum(counts[keep]))
    docs = p.docs[sel].astype(np.int32, copy=False)
    weights = np.empty(len(docs), dtype=np.float32)  # (float64 a run at a time)
    k = 0
    for a in range(0, len(sel), _PASS):
        w = p.weight(slice(a, a + _PASS))[sel[a:a + _PASS]]
        weights[k:k + len(w)] = w
        k += len(w)
    return name, btexts, starts, docs, weights


_PAIR = 1 << 31  # a pair of stem ids (a, b) is the key a * _PAIR + b


class _Flags:
    """Whether each stem id of the batch's vocabulary is in a set (grown with it)."""

    def __init__(self, words: frozenset[str]) -> None:
        self.words = words
        self.flags = np.zeros(0, dtype=bool)

    def of(self, ids: np.ndarray, stems: list[str]) -> np.ndarray:
        n = len(self.flags)
        if len(stems) > n:
            more = np.fromiter((s in self.words for s in stems[n:]), dtype=bool,
                               count=len(stems) - n)
            self.flags = np.concatenate([self.flags, more])
        return self.flags[ids]


def _decoded_lengths(lengths: np.ndarray | None) -> np.ndarray:
    """Field lengths as Whoosh's reader returns them: through the length byte."""
    if lengths is None:
        return np.zeros(0, dtype=np.int64)
    table = np.array([0] + [byte_to_length(b) for b in range(1, 256)], dtype=np.int64)
    out = np.zeros(len(lengths), dtype=np.int64)
    has = lengths > 0
    out[has] = table[[length_to_byte(x) for x in lengths[has].tolist()]]
    return out


SEGMENT_MAX_DOCS = 25_000
"""A batch larger than this is written as several segments, so that the arrays of one
segment bound the writer's memory: about 37 bytes per body token at the peak (measured:
+525 MB of RSS over one call for 25,000 synthetic articles of benchmarks/data/100000,
14.3M body tokens, documents made one at a time), per writing process."""


def write_segments(storage, schema: Schema, indexname: str,
                   docs: Sequence[dict]) -> list:
    """:func:`write_segment` over runs of at most ``SEGMENT_MAX_DOCS`` documents.

    Parameters
    ----------
    storage : whoosh.filedb.filestore.FileStorage
        The index's storage.
    schema : whoosh.fields.Schema
        The index's schema.
    indexname : str
        The index's name in the storage.
    docs : sequence of dict
        The documents, in docnum order.

    Returns
    -------
    list of whoosh.codec.whoosh3.W3Segment
        The new segments, in docnum order.
    """
    step = max(1, SEGMENT_MAX_DOCS)
    segments = []
    for i in range(0, len(docs), step):
        segments.append(write_segment(storage, schema, indexname, docs[i:i + step]))
        give_back_memory()
    return segments


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None (another C library, another system). Looked up
    in the process's own symbols: no ``find_library`` (it runs ``ldconfig``)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # musl has no malloc_trim
        return None


_MALLOC_TRIM = _libc_trim()


def give_back_memory() -> None:
    """Return the heap memory a segment's arrays and documents were freed from to the
    system (glibc's ``malloc_trim``; nothing where there is none).

    glibc keeps freed memory for the process: after the segments of 20,000 synthetic
    articles the build's process held 705 MB, 430 MB with this (a few milliseconds). The
    build calls it after each of its big steps too. It does not return everything: at 1M
    articles the process still held ~600 MB more after the segments than before them
    (1,308 -> 1,922 MB), while tracemalloc at 10k finds only +39 B an article of Python
    objects; the rest is heap the allocator cannot give back (fragmentation)."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


_CARRIED = (("_segwriter", "SEGMENT_MAX_DOCS"), ("_segwriter", "_ENCODE_TOKENS"),
            ("_postings", "FLAT_MIN_DF"), ("_postings", "_FLUSH"))
"""Module settings that shape a segment's files. A dask worker is a fresh process that
imports this package anew: these values go with its task, so that both parts of a commit
follow the same rules (as a forked worker inherited them)."""


def _settings() -> tuple[tuple[str, str, object], ...]:
    """This process's values of ``_CARRIED``."""
    mods = {"_segwriter": sys.modules[__name__], "_postings": _postings}
    return tuple((m, name, getattr(mods[m], name)) for m, name in _CARRIED)


def _write_part(settings: tuple[tuple[str, str, object], ...], folder: str,
                schema: Schema, indexname: str, docs: Sequence[dict]) -> list:
    """Run on a dask worker: :func:`write_segments` into the index folder ``folder``, with
    this process's writer settings (a worker runs one task at a time, and only ours)."""
    from whoosh.filedb.filestore import FileStorage  # noqa: PLC0415 - worker side only

    mods = {"_segwriter": sys.modules[__name__], "_postings": _postings}
    for m, name, value in settings:
        setattr(mods[m], name, value)
    return write_segments(FileStorage(folder), schema, indexname, docs)


_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
"""Dask starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536`` (glibc returns freed
memory to the system at once), which makes this writer's many short-lived numpy arrays
25% slower (half of 10,000 synthetic articles: 18.4 s of CPU -> 23.1 s); the worker lives
for one commit, so it keeps glibc's default."""


WORKERS_ONLY_MIN_DOCS = 200_000
"""From this many new documents, two dask workers write all the segments and this
process none: it only makes and sends their runs. Writing a segment leaves this process
holding heap it cannot give back (freed, fragmented: +30 to +110 MB a segment of 25,000
synthetic articles, +620 MB over the 20 it wrote of a million), which every later step
started from; a worker's heap goes when the worker does. At a million synthetic articles
the process's peak fell from 2,856 to 1,942 MB, the segments step took 676 s instead of
665 s. The cost is pickling this process's half of the runs for a worker (~1.3 s a run
of 25,000): at 100,000 the step took 68.0 s instead of 62.9 s, for a peak of 334 instead
of 899 MB; below this size the process writes half (see
``benchmarks/records/1000000-session11-phases.txt``). Measured again after the blocks were
pickled with numpy and deflated by ISA-L (session 12, ``100000-session12-workers-only.txt``):
at 100,000 workers-only took the segments step from 35.0 to 38.8 s and this process's
peak from 873 to 339 MB, but all processes together peaked higher (1,778 against 1,606
MB): the threshold stays."""


def _write_on_dask(storage, schema: Schema, indexname: str, docs: Sequence[dict]) -> list:
    """The segments of ``docs`` in two fixed halves: the second half on a dask worker
    (``_enrich.run_halves``: a new one-process ``LocalCluster``) while this process writes
    the first; in docnum order. From ``WORKERS_ONLY_MIN_DOCS`` documents on, two workers
    write them all (a two-process cluster), shared as they become free. The workers write
    the segment files into the index folder; the documents of their runs are made (texts
    read) only when a run is sent."""
    step = max(1, SEGMENT_MAX_DOCS)
    workers, half = (2, 0) if len(docs) >= WORKERS_ONLY_MIN_DOCS else (1, (len(docs) + 1) // 2)
    mine = [docs[i:min(i + step, half)] for i in range(0, half, step)]
    theirs = [docs[i:i + step] for i in range(half, len(docs), step)]
    got: list[list] = [[] for _ in range(len(mine) + len(theirs))]

    def here(run: Sequence[dict]) -> list:
        segment = write_segment(storage, schema, indexname, run)
        give_back_memory()
        return [segment]

    def took(k: int, segments: list) -> None:
        got[k] = segments

    _enrich.run_halves(mine, theirs, here, _write_part,
                       (_settings(), storage.folder, schema, indexname), took,
                       doing="writing the index segments", config=_WORKER_CONFIG,
                       n_workers=workers)
    return [seg for segs in got for seg in segs]


MERGE_MAX_DOCS = 2_000
"""Whoosh's merge policy may fold segments into the writer's new one only while they hold
at most this many documents together: Whoosh merges a posting at a time in Python."""


def _merge_small(writer, segments: list) -> list:
    """Whoosh's ``MERGE_SMALL``, unless the segments it would merge hold more than
    :data:`MERGE_MAX_DOCS` documents: then nothing is merged. Its Fibonacci rule merges
    the smaller of many large segments (at a million articles, a rebuild adding 1,000
    would have merged 26 segments of 25,000, hours of Whoosh's per-posting merging);
    tiny segments left by small updates are still folded together as before."""
    ordered = sorted(segments, key=lambda s: s.doc_count_all())
    total = 0
    for i, seg in enumerate(ordered):
        total += seg.doc_count_all()
        if i > 3 and total < fib(i + 5):  # MERGE_SMALL's merge point
            if total > MERGE_MAX_DOCS:
                return segments
            break
    return MERGE_SMALL(writer, segments)


def commit(writer, docs: Sequence[dict], *, two_processes: bool = False) -> None:
    """Commit Whoosh ``writer`` with ``docs`` added as new segments written in bulk.

    Parameters
    ----------
    writer : whoosh.writing.SegmentWriter
        The index's locked writer, holding any deletions; nothing may have been added
        to it. Whoosh's merge policy (``MERGE_SMALL``, as ``writer.commit()``, capped by
        :data:`MERGE_MAX_DOCS`) may fold small existing segments into it; Whoosh then
        writes them as its segment, before the new ones.
    docs : sequence of dict
        The documents to add, in docnum order.
    two_processes : bool
        Write the second half of ``docs`` on a dask worker at the same time (a local
        one-worker cluster started and closed here, even when entity extraction uses a
        remote scheduler: the worker writes into the index folder); from
        :data:`WORKERS_ONLY_MIN_DOCS` documents, all of them on two workers. Two
        segments or more; the same documents in the same docnum order, and the same
        segments whichever process writes a run.
    """
    try:
        # A segment whose every document was deleted (an update that replaced them all,
        # e.g. a search-first build adding entities) is dropped, not carried: Whoosh
        # would keep it, its files and its share of the term statistics for ever.
        segments = [s for s in writer._merge_segments(_merge_small, False, True)
                    if s.doc_count()]
        if writer._added:
            segments.append(writer._finalize_segment())
        else:
            writer._close_segment()
        if docs and two_processes:
            segments += _write_on_dask(writer.storage, writer.schema, writer.indexname,
                                       docs)
        elif docs:
            segments += write_segments(writer.storage, writer.schema, writer.indexname,
                                       docs)
    except BaseException:
        if not writer.is_closed:
            writer._close_segment()
            writer._finish()
        raise
    writer._commit_toc(segments)
    writer._finish()
    give_back_memory()
