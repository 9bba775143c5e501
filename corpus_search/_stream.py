"""The token stream: every article's words in order, as one array (a forward index).

Whoosh keeps, per word, the articles and positions it occurs at (an inverted index).
Collocates, n-grams, dispersion and near-duplicate detection need the opposite: per
article, its sequence of words. The build writes it into the generation folder::

    stream.npy          one word id per token, all articles in docnum order: uint16
                        when the vocabulary has at most 65,536 words (most corpora),
                        else int32 (memory-mapped on open: the OS pages in what a
                        query touches)
    stream_meta.npz     indptr (int64, docnum -> offset, length docs + 1),
                        word_stem (int32, word id -> stem id),
                        word_freq (int64, tokens per word id over the whole stream)
    stream_vocab.json   {"words": [...], "stems": [...]}: lower-cased surface words and
                        the Porter stems they index as

Tokens are exactly the indexed tokens of the body (:func:`corpus_search._analysis.
article_tokens`: page furniture left out, one-letter tokens dropped), so the ``k``-th
token of an article is at Whoosh position ``k`` of its ``body`` field. Deleted docnums
have an empty range. Cost: 2 (or 4) bytes a token on disk, plus the vocabulary.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import repeat
from pathlib import Path

import numpy as np

from . import _analysis as analysis
from ._corpus import _Spill
from ._errors import IndexProblem, QueryError

__all__ = ["PreparedIds", "TokenStream", "build_stream", "in_scope", "load_stream", "stream_of",
           "write_stream"]

STREAM_FILE = "stream.npy"
META_FILE = "stream_meta.npz"
VOCAB_FILE = "stream_vocab.json"
STREAM_FILES = (STREAM_FILE, META_FILE, VOCAB_FILE)

_TOKEN_RE = analysis._TOKEN_RE


def _tokens(text: str) -> Iterator[str]:
    """Lower-cased surface words of :func:`~corpus_search._analysis.article_tokens`.

    The same regular expression, minimum length and furniture ranges, in one loop (the
    fast path of the index's own tokenizer); tested equal to ``article_tokens``.
    """
    ranges = analysis.furniture_ranges(text)
    i = 0
    for m in _TOKEN_RE.finditer(text):
        low = m.group().lower()
        if len(low) < analysis.MIN_TOKEN_CHARS:
            continue
        if ranges:
            start = m.start()
            while i < len(ranges) and ranges[i][1] <= start:
                i += 1
            if i < len(ranges) and ranges[i][0] <= start < ranges[i][1]:
                continue
        yield low


_FINDALL = analysis._FINDALL


def _word_ids(text: str, vocab: dict[str, int], raw: dict[str, int],
              toks: list[str] | None = None) -> np.ndarray:
    """Word ids of :func:`_tokens` of ``text`` (new words are added to ``vocab`` in order
    of first occurrence). Texts without furniture are cut by one ``findall`` (or given
    its result, ``toks``), and each token as written is looked up in ``raw`` (token ->
    word id, -1 if not indexed)."""
    if analysis.furniture_ranges(text):
        setdefault = vocab.setdefault
        return np.fromiter((setdefault(w, len(vocab)) for w in _tokens(text)),
                           dtype=np.int32)
    arr = _plain_word_ids(_FINDALL(text) if toks is None else toks, vocab, raw)
    return arr[arr >= 0]


def _plain_word_ids(toks: list[str], vocab: dict[str, int], raw: dict[str, int]
                    ) -> np.ndarray:
    """A word id for each of ``toks`` (a text's ``findall``, furniture ranges ignored),
    -1 where the token is not indexed; new words numbered as first met, as by
    :func:`_word_ids`. (One C-level lookup of every token, with a default; then a Python
    step for each token not seen before, at its positions.)"""
    arr = np.fromiter(map(raw.get, toks, repeat(-2)), dtype=np.int32, count=len(toks))
    new = np.flatnonzero(arr == -2)
    if len(new):
        for p in new.tolist():
            t = toks[p]
            got = raw.get(t)
            if got is None:
                low = t.lower()
                got = raw[t] = (-1 if len(low) < analysis.MIN_TOKEN_CHARS
                                else vocab.setdefault(low, len(vocab)))
            arr[p] = got
    return arr


class PreparedIds:
    """Articles' stream word ids, made where their text is cut into tokens anyway (the
    build's surface-word count) and kept in a nameless temporary file: the token stream
    renumbers them (:func:`write_stream`'s ``prepared``) instead of tokenising again.
    Ids count from this object's own ``vocab``, in order of first occurrence.

    Where an article's ids are also its indexed tokens (no furniture range inside its
    text: the stream and the index then drop the same tokens), :meth:`first` gives the
    position of the first, and the segment writer takes its tokens from here too
    (``_segwriter``'s ``_tokens`` documents)."""

    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self._words: list[str] | None = None
        self._spill = _Spill()
        self._at: dict[str, int] = {}  # key -> offset << 32 | count (one int: ~60 B less)
        self._firsts: dict[str, int] = {}  # only where not 0

    def add_run(self, keys: Sequence[str], words: list[str], ids: np.ndarray,
                lengths: np.ndarray, firsts: Sequence[int] | None = None) -> None:
        """Keep the word ids of a run of articles made elsewhere (by :func:`_word_ids`
        with a vocabulary of their own, whose words are ``words``), renumbered to this
        object's: ``ids`` holds the articles' ids one after another, ``lengths`` how many
        each, ``keys`` their keys; ``firsts`` each article's :meth:`first` (all -1 when
        not given)."""
        if self._words is not None:
            raise ValueError("PreparedIds.add_run after finish()")
        if len(keys) != len(lengths) or int(np.sum(lengths)) != len(ids):
            raise ValueError("add_run: keys, lengths and ids do not agree")
        if firsts is None:
            firsts = [-1] * len(keys)
        if len(firsts) != len(keys):
            raise ValueError("add_run: keys and firsts do not agree")
        for key, first in zip(keys, firsts, strict=True):
            if first:
                self._firsts[key] = first
            else:
                self._firsts.pop(key, None)
        vocab = self.vocab
        table = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words),
                            dtype=np.int32, count=len(words))
        base = self._spill.put_bytes(table[ids].tobytes())
        starts = np.cumsum(lengths) - lengths
        for key, start, n in zip(keys, starts.tolist(), lengths.tolist(), strict=True):
            self._at[key] = (base + 4 * start) << 32 | n

    def __contains__(self, key: object) -> bool:
        """Whether word ids are kept under ``key``."""
        return key in self._at

    def get(self, key: str) -> np.ndarray | None:
        """The word ids kept under ``key`` (int32), or None."""
        at = self._at.get(key)
        if at is None:
            return None
        return np.frombuffer(self._spill.get_bytes(at >> 32, 4 * (at & 0xFFFFFFFF)),
                             dtype=np.int32)

    def first(self, key: str) -> int:
        """Where the ids under ``key`` are its article's indexed tokens: the position of
        the first (how many tokens of one character come before it); -1 where they are
        not, or nothing is kept under ``key``."""
        return self._firsts.get(key, 0) if key in self._at else -1

    def finish(self) -> None:
        """No more articles: keep the words as a list and let the word -> id dict go (a
        build writes its segments in between; the dict grows with the vocabulary)."""
        self._words = list(self.vocab)
        self.vocab = {}

    @property
    def words(self) -> list[str]:
        """The words of the ids, by id."""
        return self._words if self._words is not None else list(self.vocab)


def write_stream(gen_dir: str | Path, docs: Iterable[tuple[int, str | np.ndarray]], *,
                 n_docs: int | None = None, previous: TokenStream | None = None,
                 carry: np.ndarray | None = None,
                 prepared: list[str] | None = None) -> int:
    """Write the token stream of ``docs`` into the generation folder ``gen_dir``.

    Parameters
    ----------
    gen_dir
        The generation folder being built.
    docs
        ``(docnum, stored text)`` pairs in increasing docnum order (the stored ``text``
        field: furniture is left out here, as the index does). Missing docnums (deleted
        articles) get an empty range. Instead of its text, an article may come as its
        word ids from a :class:`PreparedIds` whose ``words`` are ``prepared``.
    n_docs
        Number of docnums (Whoosh's ``doc_count_all()``); default the last docnum + 1
        (``len(carry)`` when ``carry`` is given).
    previous
        The previous generation's stream (see :func:`build_stream`), whose articles
        ``carry`` copies instead of tokenising them again.
    carry
        Per docnum, the docnum in ``previous`` whose tokens it gets (-1: from ``docs`` or
        empty). Its word ids are kept; words no article holds any more are dropped.
    prepared
        The words of the prepared word ids among ``docs`` (``PreparedIds.words``); the
        stream is the same as from their texts.

    Returns
    -------
    int
        The number of tokens written.

    Tokens go to the file in chunks as they are made: the memory held is the
    vocabulary and the per-docnum offsets, not the stream.
    """
    gen_dir = Path(gen_dir)
    if carry is not None and previous is None:
        raise ValueError("carry needs the previous stream")
    vocab: dict[str, int] = dict(previous.word_index) if previous is not None else {}
    out = _NpyWriter(gen_dir / STREAM_FILE, "<i4")
    parts: list[np.ndarray] = []  # word ids not yet written, and how many
    held = 0
    freq_new = np.zeros(0, dtype=np.int64)
    docnums: list[int] = []
    lens: list[int] = []
    carried = carry if carry is not None else np.zeros(0, dtype=np.int64)
    runs = _runs(previous, carried)  # (first docnum, old start, old stop), in docnum order
    run_at = 0
    last = -1

    def flush() -> None:
        nonlocal parts, held, freq_new
        if held:
            chunk = np.concatenate(parts)
            freq_new = _padded(freq_new, len(vocab)) + np.bincount(chunk, minlength=len(vocab))
            out.write(chunk)
        parts, held = [], 0

    def copy_until(docnum: int) -> None:
        nonlocal run_at
        while run_at < len(runs) and runs[run_at][0] < docnum:
            flush()
            _, a, b = runs[run_at]
            out.copy_from(previous, a, b)
            run_at += 1

    raw: dict[str, int] = {}  # token as written -> word id (-1: not indexed)
    table = np.full(len(prepared or ()), -1, dtype=np.int64)  # prepared id -> word id
    try:
        for docnum, text in docs:
            if docnum <= last:
                raise ValueError(f"docnums must increase (got {docnum} after {last})")
            if docnum < len(carried) and carried[docnum] >= 0:
                raise ValueError(f"docnum {docnum} is both carried over and given")
            last = docnum
            copy_until(docnum)
            if isinstance(text, np.ndarray):
                if prepared is None:
                    raise ValueError(f"docnum {docnum} comes as word ids: give their words "
                                     "(prepared=)")
                got = table[text]
                if (got < 0).any():  # words new to the stream, numbered as first met
                    for w in dict.fromkeys(text[got < 0].tolist()):
                        table[w] = vocab.setdefault(prepared[w], len(vocab))
                    got = table[text]
                got = got.astype(np.int32)
            else:
                got = _word_ids(text or "", vocab, raw)
            parts.append(got)
            held += len(got)
            docnums.append(docnum)
            lens.append(len(got))
            if held >= _WRITE_TOKENS:
                flush()
        copy_until(1 << 62)
        flush()
    except BaseException:
        out.fh.close()  # a half-written file in the generation being built
        raise
    total = out.close()
    n = max(last + 1, len(carried)) if n_docs is None else n_docs
    if n <= last or n < len(carried):
        raise ValueError(f"n_docs={n} but docnum {max(last, len(carried) - 1)} was given")
    lengths = np.zeros(n, dtype=np.int64)
    lengths[np.asarray(docnums, dtype=np.int64)] = np.asarray(lens, dtype=np.int64)
    if previous is not None:
        has = np.flatnonzero(carried >= 0)
        lengths[has] = np.diff(previous.indptr)[carried[has]]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    words = list(vocab)
    freq = _padded(freq_new, len(words))
    if previous is not None:
        stems = dict(previous.stem_index)
        word_stem = previous.word_stem.tolist()
        freq += _padded(previous.word_freq, len(words))
        freq -= _padded(_dropped_freq(previous, carried), len(words))
    else:
        stems, word_stem = {}, []
    for w in words[len(word_stem):]:
        word_stem.append(stems.setdefault(analysis.stem(w), len(stems)))
    stem_list = list(stems)
    word_stem_arr = np.asarray(word_stem, dtype=np.int32)
    if previous is not None and (freq <= 0).any():
        words, stem_list, word_stem_arr, freq = _compact(gen_dir / STREAM_FILE, words,
                                                         stem_list, word_stem_arr, freq)
    if len(words) <= _SMALL_VOCAB:
        _narrow(gen_dir / STREAM_FILE)
    np.savez(gen_dir / META_FILE, indptr=indptr, word_stem=word_stem_arr, word_freq=freq)
    tmp = gen_dir / f".{VOCAB_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps({"words": words, "stems": stem_list}, ensure_ascii=False),
                   "utf-8")
    os.replace(tmp, gen_dir / VOCAB_FILE)
    return total


_WRITE_TOKENS = 1 << 20  # tokens buffered, copied or renumbered at a time


def _padded(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` as int64, zero-padded to at least ``n`` entries."""
    out = np.zeros(max(n, len(a)), dtype=np.int64)
    out[:len(a)] = a
    return out


def _runs(previous: TokenStream | None, carry: np.ndarray) -> list[tuple[int, int, int]]:
    """Carried docnums as runs copied in one piece: (first new docnum, old token start,
    old token stop), where consecutive new docnums take consecutive old ones."""
    if previous is None or not len(carry):
        return []
    new = np.flatnonzero(carry >= 0)
    if not len(new):
        return []
    old = carry[new]
    cut = np.flatnonzero((np.diff(new) != 1) | (np.diff(old) != 1)) + 1
    firsts = np.concatenate([[0], cut])
    lasts = np.concatenate([cut - 1, [len(new) - 1]])
    starts = previous.indptr[old[firsts]]
    stops = previous.indptr[old[lasts] + 1]
    return list(zip(new[firsts].tolist(), starts.tolist(), stops.tolist(), strict=True))


def _dropped_freq(previous: TokenStream, carry: np.ndarray) -> np.ndarray:
    """Tokens per word id of the previous stream's articles that are not carried over."""
    kept = np.zeros(len(previous.indptr) - 1, dtype=bool)
    kept[carry[carry >= 0]] = True
    out = np.zeros(len(previous.words), dtype=np.int64)
    parts: list[np.ndarray] = []
    size = 0
    for d in np.flatnonzero(~kept & (np.diff(previous.indptr) > 0)).tolist():
        parts.append(np.asarray(previous.doc(d)))
        size += len(parts[-1])
        if size >= _WRITE_TOKENS:
            out += np.bincount(np.concatenate(parts), minlength=len(out))
            parts, size = [], 0
    if parts:
        out += np.bincount(np.concatenate(parts), minlength=len(out))
    return out


def _compact(path: Path, words: list[str], stems: list[str], word_stem: np.ndarray,
             freq: np.ndarray) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Drop words no article holds (and stems no word has): renumber the stream file in
    place, chunk by chunk."""
    keep = freq > 0
    remap = np.cumsum(keep, dtype=np.int64) - 1
    with open(path, "r+b") as fh:
        header = _header_size(fh)
        fh.seek(0, os.SEEK_END)
        count = (fh.tell() - header) // 4
        for a in range(0, count, _WRITE_TOKENS):
            b = min(count, a + _WRITE_TOKENS)
            fh.seek(header + 4 * a)
            chunk = np.frombuffer(fh.read(4 * (b - a)), dtype="<i4")
            fh.seek(header + 4 * a)
            fh.write(remap[chunk].astype("<i4").tobytes())
    kept_stems = np.unique(word_stem[keep])
    stem_remap = np.full(len(stems), -1, dtype=np.int64)
    stem_remap[kept_stems] = np.arange(len(kept_stems))
    return ([w for w, k in zip(words, keep.tolist(), strict=True) if k],
            [stems[s] for s in kept_stems.tolist()],
            stem_remap[word_stem[keep]].astype(np.int32), freq[keep])


def _header_size(fh) -> int:
    return _header(fh)[0]


def _header(fh) -> tuple[int, np.dtype]:
    """The size of an ``.npy`` file's header, and its dtype."""
    fh.seek(0)
    np.lib.format.read_magic(fh)
    _, _, dtype = np.lib.format.read_array_header_1_0(fh)
    return fh.tell(), np.dtype(dtype)


_SMALL_VOCAB = 1 << 16
"""A stream whose vocabulary has at most this many words is kept as uint16."""


def _narrow(path: Path) -> None:
    """Rewrite the int32 stream file ``path`` as uint16, chunk by chunk (its word ids
    all fit: the vocabulary is small)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(path, "rb") as src:
        header = _header_size(src)
        src.seek(0, os.SEEK_END)
        count = (src.tell() - header) // 4
        src.seek(header)
        out = _NpyWriter(tmp, "<u2")
        try:
            for a in range(0, count, _WRITE_TOKENS):
                b = min(count, a + _WRITE_TOKENS)
                out.write(np.frombuffer(src.read(4 * (b - a)), dtype="<i4"))
        finally:
            out.close()
    os.replace(tmp, path)


class _NpyWriter:
    """A 1-D ``.npy`` file written in chunks: the header is rewritten with the final
    length at :meth:`close` (numpy pads it to the same size whatever the length)."""

    def __init__(self, path: Path, dtype: str) -> None:
        self.path = path
        self.dtype = dtype
        self.fh = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._header(0)
        self.start = self.fh.tell()
        self.count = 0

    def _header(self, n: int) -> None:
        np.lib.format.write_array_header_1_0(
            self.fh, {"descr": self.dtype, "fortran_order": False, "shape": (n,)})

    def write(self, values: np.ndarray) -> None:
        self.fh.write(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        self.count += len(values)

    def copy_from(self, previous: TokenStream, a: int, b: int) -> None:
        """Append tokens ``a:b`` of ``previous`` (read from its file when it has one)."""
        src = getattr(previous.ids, "copy_to", None)
        if src is None or previous.ids.dtype != np.dtype(self.dtype):
            for x in range(a, b, _WRITE_TOKENS):
                self.write(np.asarray(previous.ids[x:min(b, x + _WRITE_TOKENS)]))
            return
        self.fh.flush()
        src(self.fh, a, b)
        self.count += b - a

    def close(self) -> int:
        self.fh.flush()
        end = self.fh.tell()
        self.fh.seek(0)
        self._header(self.count)
        if self.fh.tell() != self.start:
            raise AssertionError("npy header changed size")
        self.fh.seek(end)
        self.fh.close()
        return self.count


class _FileIds:
    """The word ids of a stream file read on demand (``os.pread``), not memory-mapped:
    a build reads the whole stream once and should not keep it resident."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            self.header, self.dtype = _header(fh)
            fh.seek(0, os.SEEK_END)
            self.n = (fh.tell() - self.header) // self.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, key: slice) -> np.ndarray:
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("only contiguous slices are read")
        a, b, _ = key.indices(self.n)
        if b <= a:
            return np.zeros(0, dtype=np.int32)
        size = self.dtype.itemsize
        data = os.pread(self.fd, size * (b - a), self.header + size * a)
        return np.frombuffer(data, dtype=self.dtype).astype(np.int32, copy=False)

    def copy_to(self, fh, a: int, b: int) -> None:
        """Append tokens ``a:b`` to the open file ``fh`` (kernel-side copy if possible),
        as they are stored (the writer's dtype must be this file's)."""
        size = self.dtype.itemsize
        offset, left = self.header + size * a, size * (b - a)
        out = fh.fileno()
        while left > 0:
            try:
                done = os.copy_file_range(self.fd, out, min(left, 1 << 28), offset)
            except (AttributeError, OSError):
                done = 0
            if done <= 0:  # not supported here: through user space
                data = os.pread(self.fd, min(left, 1 << 24), offset)
                os.write(out, data)
                done = len(data)
            offset += done
            left -= done

    def close(self) -> None:
        """Close the file (once; later calls do nothing)."""
        fd, self.fd = getattr(self, "fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        with contextlib.suppress(OSError):
            self.close()


def build_stream(gen_dir: str | Path) -> TokenStream:
    """A generation's stream for the build: like :func:`load_stream`, but its ids are read
    from the file on demand (see :class:`_FileIds`) instead of memory-mapped."""
    gen_dir = Path(gen_dir)
    with np.load(gen_dir / META_FILE, allow_pickle=False) as meta:
        indptr, word_stem, word_freq = meta["indptr"], meta["word_stem"], meta["word_freq"]
    vocab = json.loads((gen_dir / VOCAB_FILE).read_text("utf-8"))
    return TokenStream(ids=_FileIds(gen_dir / STREAM_FILE), indptr=indptr,
                       words=vocab["words"], stems=vocab["stems"], word_stem=word_stem,
                       word_freq=word_freq)


@dataclass(eq=False)
class TokenStream:
    """A loaded token stream (see the module docstring for the files).

    ``ids`` is memory-mapped and never copied whole: stems are matched through the word
    ids that carry them (:meth:`stem_positions`), so no per-token stem array is held.
    """

    ids: np.ndarray
    indptr: np.ndarray
    words: list[str]
    stems: list[str]
    word_stem: np.ndarray
    word_freq: np.ndarray
    word_index: dict[str, int] = field(init=False)
    stem_index: dict[str, int] = field(init=False)
    _by_stem: tuple[np.ndarray, np.ndarray] | None = field(init=False, default=None)
    _stem_freq: np.ndarray | None = field(init=False, default=None)
    _surface: list[str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.stem_index = {s: i for i, s in enumerate(self.stems)}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        """Tokens per docnum."""
        return np.diff(self.indptr)

    def words_of_stem(self, stem_id: int) -> np.ndarray:
        """Word ids whose stem is ``stem_id``."""
        if self._by_stem is None:
            order = np.argsort(self.word_stem, kind="stable")
            bounds = np.searchsorted(self.word_stem[order], np.arange(len(self.stems) + 1))
            self._by_stem = (order, bounds)
        order, bounds = self._by_stem
        return order[bounds[stem_id] : bounds[stem_id + 1]]

    def stem_positions(self, stem_id: int) -> np.ndarray:
        """Stream positions of every token whose stem is ``stem_id``, in order."""
        words = self.words_of_stem(stem_id)
        if len(words) == 1:
            return np.flatnonzero(self.ids == words[0])
        return np.flatnonzero(np.isin(self.ids, words))

    def stems_at(self, positions: np.ndarray) -> np.ndarray:
        """Stem id of the token at each stream position."""
        return self.word_stem[self.ids[positions]]

    @property
    def stem_freq(self) -> np.ndarray:
        """Tokens per stem id over the whole stream."""
        if self._stem_freq is None:
            self._stem_freq = np.bincount(self.word_stem, weights=self.word_freq,
                                          minlength=len(self.stems)).astype(np.int64)
        return self._stem_freq

    @property
    def surface(self) -> list[str]:
        """Per stem id, its most frequent surface word (ties: alphabetical)."""
        if self._surface is None:
            freq = self.word_freq.tolist()
            best: dict[int, str] = {}
            for w in sorted(range(len(self.words)), key=lambda i: (-freq[i], self.words[i])):
                best.setdefault(int(self.word_stem[w]), self.words[w])
            best_list = [best.get(s, "") for s in range(len(self.stems))]
            self._surface = best_list
        return self._surface

    def doc(self, docnum: int) -> np.ndarray:
        """Word ids of one article."""
        return self.ids[self.indptr[docnum] : self.indptr[docnum + 1]]

    def doc_of(self, positions: np.ndarray) -> np.ndarray:
        """Docnum of each stream position."""
        return (np.searchsorted(self.indptr, positions, side="right") - 1).astype(np.int64)

    def token_mask(self, docs: np.ndarray) -> np.ndarray:
        """Bool per token: whether its article is in the bool-per-docnum ``docs``."""
        return np.repeat(docs, self.lengths)

    def phrase_stems(self, text: str) -> list[int] | None:
        """Stem ids of a word or phrase as the index analyses it; None if a word is absent
        from the stream (or the text has no indexed word)."""
        stems = analysis.analyse(text)
        if not stems:
            return None
        out = [self.stem_index.get(s) for s in stems]
        return None if any(s is None for s in out) else out  # type: ignore[misc]

    def find(self, stems: list[int]) -> np.ndarray:
        """Stream positions where the stem sequence ``stems`` starts, inside one article."""
        pos = self.stem_positions(stems[0])
        for k, s in enumerate(stems[1:], start=1):
            pos = pos[pos + k < len(self.ids)]
            pos = pos[self.stems_at(pos + k) == s]
        if len(stems) > 1 and len(pos):
            pos = pos[self.doc_of(pos) == self.doc_of(pos + len(stems) - 1)]
        return pos


def in_scope(ix: object, mask: np.ndarray | None) -> np.ndarray:
    """The live articles of ``ix`` (a snapshot), narrowed to ``mask`` when one is given."""
    live = np.asarray(ix.live, dtype=bool)
    if mask is None:
        return live
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != live.shape:
        raise QueryError(f"the selection mask has {mask.shape[0]} entries but the index "
                         f"has {live.shape[0]} articles (docnums); make it again")
    return live & mask


def load_stream(gen_dir: str | Path) -> TokenStream:
    """Open the token stream of a generation folder (the ids memory-mapped)."""
    gen_dir = Path(gen_dir)
    if not (gen_dir / STREAM_FILE).is_file():
        raise IndexProblem(f"{gen_dir} has no token stream (built by an older version); "
                           "rebuild the index")
    ids = np.load(gen_dir / STREAM_FILE, mmap_mode="r") if \
        (gen_dir / STREAM_FILE).stat().st_size > 128 else np.load(gen_dir / STREAM_FILE)
    with np.load(gen_dir / META_FILE, allow_pickle=False) as meta:
        indptr, word_stem, word_freq = meta["indptr"], meta["word_stem"], meta["word_freq"]
    vocab = json.loads((gen_dir / VOCAB_FILE).read_text("utf-8"))
    return TokenStream(ids=ids, indptr=indptr, words=vocab["words"], stems=vocab["stems"],
                       word_stem=word_stem, word_freq=word_freq)


@lru_cache(maxsize=4)
def _cached(gen_dir: str) -> TokenStream:
    return load_stream(gen_dir)


def stream_of(ix) -> TokenStream:
    """The token stream of an open index: its ``stream`` attribute if it has one (the
    snapshot attaches it), else loaded from ``ix.gen_path`` (cached per generation)."""
    s = getattr(ix, "stream", None)
    return s if s is not None else _cached(str(ix.gen_path))
