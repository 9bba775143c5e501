"""Boilerplate found from the data: lines repeated verbatim across one outlet's articles.

A site stamps the same lines on many of its articles ("(c) 2022 BBC. The BBC is not
responsible for the content of external sites. ..."). No hand-kept list can know every
site, so they are found from the corpus itself: a line (compared after collapsing
whitespace) that appears in at least :data:`BOILERPLATE_MIN_SHARE` of one outlet's
articles *and* in at least :data:`BOILERPLATE_MIN_ARTICLES` of them is furniture of that
outlet. Such lines are kept in the stored text, greyed in views, and left out of
indexing, counts and entity extraction (with the hand-kept patterns of ``_analysis`` as a
seed, which always apply).

Counting works in one streamed pass and in chunks: :class:`BoilerplateCounter` holds an
8-byte hash and a 4-byte count per distinct line of each outlet (in sorted numpy arrays),
and the text only of lines that reached :data:`BOILERPLATE_MIN_ARTICLES`; counters of
chunks are merged with :meth:`BoilerplateCounter.merge`.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._analysis import furniture_ranges, norm_line, strip_furniture

__all__ = [
    "BOILERPLATE_COLUMNS",
    "BOILERPLATE_MAX_CHARS",
    "BOILERPLATE_MIN_ARTICLES",
    "BOILERPLATE_MIN_CHARS",
    "BOILERPLATE_MIN_SHARE",
    "Boilerplate",
    "BoilerplateCounter",
    "boilerplate_from_rows",
    "countable_lines",
    "find_boilerplate",
    "strip_boilerplate",
]

BOILERPLATE_MIN_SHARE = 0.05
"""A line is furniture of an outlet when at least this share of its articles hold it..."""
BOILERPLATE_MIN_ARTICLES = 5
"""...and at least this many of its articles."""
BOILERPLATE_MIN_CHARS = 20
"""Lines shorter than this (after whitespace is collapsed) are not counted: datelines,
one-word headings; the hand-kept patterns cover short furniture ("Share", "Image")."""
BOILERPLATE_MAX_CHARS = 1000
"""Lines longer than this are not counted (no site stamps a page of text)."""

BOILERPLATE_COLUMNS = ("outlet", "line", "articles", "share")
"""Columns of :attr:`Boilerplate.table`: outlet, line (whitespace collapsed), articles
(how many of the outlet's articles hold it), share (of the outlet's articles, 0-1)."""


def _hash(line: str) -> int:
    return int.from_bytes(hashlib.blake2b(line.encode("utf-8", "surrogatepass"),
                                          digest_size=8).digest(), "little")


_EMPTY = (np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.uint32))


def _sum(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
         ) -> tuple[np.ndarray, np.ndarray]:
    """Two (hashes, counts) tables as one, sorted by hash, counts added."""
    hashes, inverse = np.unique(np.concatenate([a[0], b[0]]), return_inverse=True)
    counts = np.bincount(inverse, weights=np.concatenate([a[1], b[1]]),
                         minlength=len(hashes))
    return hashes, counts.astype(np.uint32)


def _lookup(table: tuple[np.ndarray, np.ndarray], hashes: np.ndarray) -> np.ndarray:
    """The counts of ``hashes`` in a (sorted hashes, counts) table (0 where absent)."""
    keys, counts = table
    if not len(keys):
        return np.zeros(len(hashes), dtype=np.int64)
    pos = np.minimum(np.searchsorted(keys, hashes), len(keys) - 1)
    return np.where(keys[pos] == hashes, counts[pos], 0).astype(np.int64)


def _lines(body: str, min_chars: int, max_chars: int) -> dict[int, str]:
    """The countable lines of one body, by hash (each once)."""
    out: dict[int, str] = {}
    for raw in body.split("\n"):
        if len(raw) < min_chars:  # collapsing whitespace never lengthens a line
            continue
        line = norm_line(raw)
        if min_chars <= len(line) <= max_chars:
            out.setdefault(_hash(line), line)
    return out


_FOLD_LINES = 500_000
"""Recent counts are folded into sorted arrays once they hold this many lines (or half
the folded ones, whichever is more: O(log n) folds)."""


@dataclass
class BoilerplateCounter:
    """Counts, per outlet, in how many articles each line occurs (by hash).

    Counts live in two tiers: a ``Counter`` of the lines seen since the last fold, and,
    per outlet, sorted numpy arrays of hashes (8 bytes) and counts (4 bytes): ~12 bytes
    per distinct line of the corpus, where a ``Counter`` alone costs ~100 (1 GB for the
    ten million lines of a million articles).

    Parameters
    ----------
    min_articles : int, default BOILERPLATE_MIN_ARTICLES
        Lines are held as text once they reach this many articles; a line found in fewer
        articles can never be reported, whatever ``min_share``.
    min_chars, max_chars : int
        Lines outside this length (after whitespace is collapsed) are not counted.
    """

    min_articles: int = BOILERPLATE_MIN_ARTICLES
    min_chars: int = BOILERPLATE_MIN_CHARS
    max_chars: int = BOILERPLATE_MAX_CHARS
    _counts: dict[str, Counter[int]] = field(default_factory=dict, init=False, repr=False)
    """per outlet, the counts since the last fold"""
    _folded: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict,
                                                              init=False, repr=False)
    """per outlet, (sorted uint64 hashes, uint32 counts) folded so far"""
    _recent: int = field(default=0, init=False, repr=False)
    _texts: dict[str, dict[int, str]] = field(default_factory=dict, init=False, repr=False)
    _articles: Counter[str] = field(default_factory=Counter, init=False, repr=False)

    def add(self, outlet: str, body: str) -> None:
        """Count the lines of one article of ``outlet`` (each distinct line once)."""
        self._articles[outlet] += 1
        lines = _lines(body, self.min_chars, self.max_chars)
        if not lines:
            return
        counts = self._counts.setdefault(outlet, Counter())
        texts = self._texts.setdefault(outlet, {})
        folded = self._folded.get(outlet)
        if folded is None:
            for h, line in lines.items():
                c = counts[h] = counts[h] + 1
                if c >= self.min_articles and h not in texts:
                    texts[h] = line
        else:
            hs = list(lines)
            before = _lookup(folded, np.fromiter(hs, dtype=np.uint64, count=len(hs)))
            for h, b in zip(hs, before.tolist(), strict=True):
                c = counts[h] = counts[h] + 1
                if c + b >= self.min_articles and h not in texts:
                    texts[h] = lines[h]
        self._recent += len(lines)
        if self._recent >= max(_FOLD_LINES, self.counted_folded // 2):
            self._fold()

    @property
    def counted_folded(self) -> int:
        """How many (outlet, line) hashes the folded arrays hold."""
        return sum(len(h) for h, _ in self._folded.values())

    def _fold(self) -> None:
        """Fold the recent counts into the sorted arrays."""
        for outlet, counts in self._counts.items():
            if counts:
                recent = (np.fromiter(counts.keys(), dtype=np.uint64, count=len(counts)),
                          np.fromiter(counts.values(), dtype=np.uint32, count=len(counts)))
                old = self._folded.get(outlet, _EMPTY)
                self._folded[outlet] = _sum(old, recent)
        self._counts = {o: Counter() for o in self._counts}
        self._recent = 0

    def _totals(self, outlet: str) -> tuple[np.ndarray, np.ndarray]:
        """All of ``outlet``'s counts: sorted hashes and their counts."""
        self._fold()
        return self._folded.get(outlet, _EMPTY)

    def update(self, pairs: Iterable[tuple[str, str]]) -> None:
        """:meth:`add` each ``(outlet, body)`` pair (streamed; nothing is kept)."""
        for outlet, body in pairs:
            self.add(outlet, body)

    def merge(self, other: BoilerplateCounter) -> None:
        """Add the counts of ``other`` (another chunk of the same corpus) to these.

        A line that reaches the threshold only in the sum (say 3 + 3 articles) has its
        hash counted but no text on either side: :meth:`pending` says how many such lines
        there are, and :meth:`fill_texts` (a second streamed pass) collects them.
        """
        self._fold()
        other._fold()
        self._articles.update(other._articles)
        for outlet, theirs in other._folded.items():
            mine = self._folded.get(outlet)
            self._folded[outlet] = theirs if mine is None else _sum(mine, theirs)
            self._counts.setdefault(outlet, Counter())
            texts = self._texts.setdefault(outlet, {})
            for h, line in other._texts.get(outlet, {}).items():
                texts.setdefault(h, line)

    def _need(self, outlet: str, min_share: float) -> int:
        return max(self.min_articles, math.ceil(min_share * self._articles[outlet] - 1e-9))

    def _missing(self, min_share: float) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for outlet in list(self._counts):
            hashes, counts = self._totals(outlet)
            need, texts = self._need(outlet, min_share), self._texts.get(outlet, {})
            missing = {h for h in hashes[counts >= need].tolist() if h not in texts}
            if missing:
                out[outlet] = missing
        return out

    def pending(self, *, min_share: float = BOILERPLATE_MIN_SHARE) -> int:
        """How many furniture lines are known by hash only (after :meth:`merge`)."""
        return sum(len(m) for m in self._missing(min_share).values())

    def fill_texts(self, pairs: Iterable[tuple[str, str]], *,
                   min_share: float = BOILERPLATE_MIN_SHARE) -> None:
        """Second pass over the same ``(outlet, body)`` pairs: take the text of the lines
        :meth:`pending` counts (nothing is counted again)."""
        missing = self._missing(min_share)
        if not missing:
            return
        for outlet, body in pairs:
            want = missing.get(outlet)
            if not want:
                continue
            for h, line in _lines(body, self.min_chars, self.max_chars).items():
                if h in want:
                    self._texts.setdefault(outlet, {})[h] = line
                    want.discard(h)

    @property
    def articles(self) -> int:
        """How many articles were counted."""
        return sum(self._articles.values())

    @property
    def counted_lines(self) -> int:
        """How many distinct (outlet, line) hashes are held."""
        self._fold()
        return self.counted_folded

    @property
    def stored_lines(self) -> int:
        """How many line texts are held (only lines in ``min_articles`` or more articles)."""
        return sum(len(t) for t in self._texts.values())

    def result(self, *, min_share: float = BOILERPLATE_MIN_SHARE) -> Boilerplate:
        """The furniture lines per outlet.

        Parameters
        ----------
        min_share : float, default BOILERPLATE_MIN_SHARE
            Share of an outlet's articles a line must be in (with at least
            ``min_articles`` of them).

        Returns
        -------
        Boilerplate
        """
        rows: list[tuple[str, str, int, float]] = []
        for outlet in sorted(self._counts):
            n = self._articles[outlet]
            need = self._need(outlet, min_share)
            texts = self._texts.get(outlet, {})
            hashes, counts = self._totals(outlet)
            keep = counts >= need
            for h, count in zip(hashes[keep].tolist(), counts[keep].tolist(), strict=True):
                if h in texts:
                    rows.append((outlet, texts[h], count, round(count / n, 4)))
        return boilerplate_from_rows(rows)


def boilerplate_from_rows(rows: list[tuple[str, str, int, float]]) -> Boilerplate:
    """The :class:`Boilerplate` of ``(outlet, line, articles, share)`` rows, in any order."""
    rows = sorted(rows, key=lambda r: (r[0], -r[2], r[1]))
    table = pd.DataFrame(rows, columns=list(BOILERPLATE_COLUMNS)).astype(
        {"outlet": "object", "line": "object", "articles": "int64", "share": "float64"})
    lines: dict[str, frozenset[str]] = {}
    for outlet, line, _, _ in rows:
        lines[outlet] = lines.get(outlet, frozenset()) | {line}
    return Boilerplate(lines=lines, table=table)


def countable_lines(body: str, min_chars: int = BOILERPLATE_MIN_CHARS,
                    max_chars: int = BOILERPLATE_MAX_CHARS) -> dict[int, str]:
    """The lines of one body that count for boilerplate, by their 8-byte hash (each once),
    as :class:`BoilerplateCounter` counts them."""
    return _lines(body, min_chars, max_chars)


@dataclass(frozen=True)
class Boilerplate:
    """The furniture lines found per outlet, and the table to report them.

    ``lines`` maps an outlet to its furniture lines (whitespace collapsed); ``table`` has
    the columns :data:`BOILERPLATE_COLUMNS`, by outlet, most frequent line first.
    """

    lines: Mapping[str, frozenset[str]]
    table: pd.DataFrame

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Boilerplate:
        """Rebuild from :attr:`table` (as an index stores it next to its articles).

        Parameters
        ----------
        table : pandas.DataFrame
            With at least the columns ``outlet`` and ``line`` of :data:`BOILERPLATE_COLUMNS`.

        Returns
        -------
        Boilerplate
        """
        lines: dict[str, frozenset[str]] = {}
        for outlet, line in zip(table["outlet"], table["line"], strict=True):
            lines[outlet] = lines.get(outlet, frozenset()) | {norm_line(str(line))}
        return cls(lines=lines, table=table.loc[:, list(BOILERPLATE_COLUMNS)].copy())

    def lines_for(self, outlet: str) -> frozenset[str]:
        """The furniture lines of ``outlet`` (empty when none were found)."""
        return self.lines.get(outlet, frozenset())

    def strip(self, outlet: str, body: str) -> tuple[str, list[tuple[int, int]]]:
        """:func:`strip_boilerplate` with the lines of ``outlet``."""
        return strip_boilerplate(body, self.lines_for(outlet))


def find_boilerplate(pairs: Iterable[tuple[str, str]], *,
                     min_share: float = BOILERPLATE_MIN_SHARE,
                     min_articles: int = BOILERPLATE_MIN_ARTICLES,
                     min_chars: int = BOILERPLATE_MIN_CHARS) -> Boilerplate:
    """Find the lines repeated verbatim across many articles of the same outlet.

    Parameters
    ----------
    pairs : iterable of (str, str)
        ``(outlet, body)`` per article, streamed (``""`` is an outlet like any other).
    min_share : float, default BOILERPLATE_MIN_SHARE
        Share of the outlet's articles a line must occur in.
    min_articles : int, default BOILERPLATE_MIN_ARTICLES
        Number of the outlet's articles a line must occur in.
    min_chars : int, default BOILERPLATE_MIN_CHARS
        Shorter lines are not counted.

    Returns
    -------
    Boilerplate
        ``.table`` (columns :data:`BOILERPLATE_COLUMNS`) for the build report,
        ``.lines_for(outlet)`` / ``.strip(outlet, body)`` for indexing and views.
    """
    counter = BoilerplateCounter(min_articles=min_articles, min_chars=min_chars)
    counter.update(pairs)
    return counter.result(min_share=min_share)


def strip_boilerplate(body: str, lines: Collection[str]
                      ) -> tuple[str, list[tuple[int, int]]]:
    """A body with furniture removed, and where the furniture was.

    Parameters
    ----------
    body : str
        The stored text.
    lines : collection of str
        Furniture lines found from the data (as in :meth:`Boilerplate.lines_for`); the
        hand-kept patterns of ``_analysis`` always apply too.

    Returns
    -------
    tuple of (str, list of (int, int))
        The text to index and send to entity extraction (removed lines left empty, so
        paragraphs stay apart), and the character ranges of ``body`` that were removed,
        sorted, for greying in views.
    """
    return strip_furniture(body, lines), furniture_ranges(body, lines)
