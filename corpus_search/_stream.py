"""The token stream: every article's words in order, as one array (a forward index).

Whoosh keeps, per word, the articles and positions it occurs at (an inverted index).
Collocates, n-grams, dispersion and near-duplicate detection need the opposite: per
article, its sequence of words. The build writes it into the generation folder::

    stream.npy          int32, one word id per token, all articles in docnum order
                        (memory-mapped on open: the OS pages in what a query touches)
    stream_meta.npz     indptr (int64, docnum -> offset, length docs + 1),
                        word_stem (int32, word id -> stem id),
                        word_freq (int64, tokens per word id over the whole stream)
    stream_vocab.json   {"words": [...], "stems": [...]}: lower-cased surface words and
                        the Porter stems they index as

Tokens are exactly the indexed tokens of the body (:func:`corpus_search._analysis.
article_tokens`: page furniture left out, one-letter tokens dropped), so the ``k``-th
token of an article is at Whoosh position ``k`` of its ``body`` field. Deleted docnums
have an empty range. Cost: 4 bytes a token on disk, plus the vocabulary.
"""

from __future__ import annotations

import json
import os
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import _analysis as analysis
from ._errors import IndexProblem, QueryError

__all__ = ["TokenStream", "in_scope", "load_stream", "stream_of", "write_stream"]

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


def write_stream(gen_dir: str | Path, docs: Iterable[tuple[int, str]], *,
                 n_docs: int | None = None) -> int:
    """Write the token stream of ``docs`` into the generation folder ``gen_dir``.

    Parameters
    ----------
    gen_dir
        The generation folder being built.
    docs
        ``(docnum, stored text)`` pairs in increasing docnum order (the stored ``text``
        field: furniture is left out here, as the index does). Missing docnums (deleted
        articles) get an empty range.
    n_docs
        Number of docnums (Whoosh's ``doc_count_all()``); default the last docnum + 1.

    Returns
    -------
    int
        The number of tokens written.
    """
    gen_dir = Path(gen_dir)
    ids = array("i")
    ends: list[tuple[int, int]] = []
    vocab: dict[str, int] = {}
    last = -1
    for docnum, text in docs:
        if docnum <= last:
            raise ValueError(f"docnums must increase (got {docnum} after {last})")
        last = docnum
        setdefault = vocab.setdefault
        ids.extend(setdefault(w, len(vocab)) for w in _tokens(text or ""))
        ends.append((docnum, len(ids)))
    n = (last + 1) if n_docs is None else n_docs
    if n <= last:
        raise ValueError(f"n_docs={n} but docnum {last} was given")
    indptr = np.zeros(n + 1, dtype=np.int64)
    prev_doc, prev_end = -1, 0
    for docnum, end in ends:
        indptr[prev_doc + 1 : docnum + 1] = prev_end  # empty ranges for skipped docnums
        indptr[docnum + 1] = end
        prev_doc, prev_end = docnum, end
    indptr[prev_doc + 1 :] = prev_end
    words = list(vocab)
    stems: dict[str, int] = {}
    word_stem = np.array([stems.setdefault(analysis.stem(w), len(stems)) for w in words],
                         dtype=np.int32)
    stream = np.frombuffer(ids, dtype=np.int32) if len(ids) else np.zeros(0, np.int32)
    word_freq = np.bincount(stream, minlength=len(words)).astype(np.int64)
    np.save(gen_dir / STREAM_FILE, stream)
    np.savez(gen_dir / META_FILE, indptr=indptr, word_stem=word_stem, word_freq=word_freq)
    tmp = gen_dir / f".{VOCAB_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps({"words": words, "stems": list(stems)}, ensure_ascii=False),
                   "utf-8")
    os.replace(tmp, gen_dir / VOCAB_FILE)
    return len(ids)


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
