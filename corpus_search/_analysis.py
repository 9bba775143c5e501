"""Text analysis shared by indexing, counting, concordance and highlighting.

One analyzer is used everywhere, so a term is counted the same way it is searched:
Unicode word tokens (``U.S.`` stays one token), lower-cased, tokens of one character
dropped, no stop words (so ``the`` and ``US`` are searchable and phrases are exact), then
Porter-stemmed (``sanctions``, ``sanctioned`` and ``sanction`` are one term).

Page furniture ("Read Full Article at RT.com", "Leave a Comment", related-article lists)
is kept in the stored text but cut from what is indexed and from entity extraction.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from functools import lru_cache
from typing import ClassVar

from whoosh.analysis import (
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
    Token,
    Tokenizer,
)
from whoosh.lang.porter import stem as _porter

TOKEN_PATTERN = r"\w+(\.?\w+)*"
MIN_TOKEN_CHARS = 2
_TOKEN_RE = re.compile(TOKEN_PATTERN, re.UNICODE)
# _TOKEN_RE's matches as strings: its group made non-capturing, so findall gives them
# (one C call per text instead of a match object per token).
_FINDALL = re.compile(TOKEN_PATTERN.replace("(", "(?:"), re.UNICODE).findall

#: Bumped whenever analysis changes what is indexed: a build then re-processes everything.
ANALYSIS_VERSION = "3"


def reference_analyzer():
    """The analyzer as a Whoosh pipeline; :class:`StemTokenizer` is the same, fused."""
    return (
        RegexTokenizer(TOKEN_PATTERN)
        | LowercaseFilter()
        | StopFilter(stoplist=None, minsize=MIN_TOKEN_CHARS)
        | StemFilter(cachesize=100_000)
    )


_STEM_CACHE_MAX = 500_000


class StemTokenizer(Tokenizer):
    """Tokenise, lower-case, drop one-letter tokens and Porter-stem in one loop.

    Gives exactly the tokens of :func:`reference_analyzer` (tested) at about half the
    cost: one Python loop instead of four chained generators. With ``pairs=True`` it
    yields instead each pair of neighbouring stems that are both in ``common`` ("of the",
    "said the"): the terms of the ``pairs`` field, which makes a phrase of common words
    (whose positional check would visit a large share of the corpus) one lookup. This
    is Lucene's CommonGrams idea; a phrase with a rarer word is cheap to check anyway.
    """

    _cache: ClassVar[dict[str, str]] = {}

    def __init__(self, pairs: bool = False, common: frozenset[str] = frozenset()) -> None:
        self.pairs = pairs
        self.common = frozenset(common)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and other.pairs == self.pairs
                and other.common == self.common)

    def __hash__(self) -> int:
        return hash((type(self), self.pairs, self.common))

    def __call__(self, value, positions=False, chars=False, keeporiginal=False,
                 removestops=True, start_pos=0, start_char=0, tokenize=True, mode="",
                 **kwargs):
        if not (tokenize and removestops) and not self.pairs:
            # Query-time forms (wildcards keep the whole text; stops kept and marked): rare
            # and short, so the Whoosh pipeline itself handles them.
            yield from _REFERENCE(value, positions=positions, chars=chars,
                                  keeporiginal=keeporiginal, removestops=removestops,
                                  start_pos=start_pos, start_char=start_char,
                                  tokenize=tokenize, mode=mode, **kwargs)
            return
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        cache = self._cache
        common = self.common
        pos: int | None = None  # as Whoosh's StopFilter renumbers: from the first kept token
        prev: str | None = None
        prev_start = 0
        for raw, m in enumerate(_TOKEN_RE.finditer(value)):
            low = m.group().lower()
            if len(low) < MIN_TOKEN_CHARS:
                continue
            pos = start_pos + raw if pos is None else pos + 1
            stemmed = cache.get(low)
            if stemmed is None:
                if len(cache) > _STEM_CACHE_MAX:
                    cache.clear()
                stemmed = cache[low] = _porter(low)
            if self.pairs:
                if prev is None or prev not in common or stemmed not in common:
                    prev, prev_start = stemmed, m.start()
                    continue
                t.text = f"{prev} {stemmed}"
                start = prev_start
                prev, prev_start = stemmed, m.start()
            else:
                t.text = stemmed
                start = m.start()
            t.boost = 1.0
            t.stopped = False
            if keeporiginal:
                t.original = t.text
            if positions:
                t.pos = pos
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + m.end()
            yield t


_REFERENCE = reference_analyzer()


def make_analyzer() -> StemTokenizer:
    """The Whoosh analyzer for title and body."""
    return StemTokenizer()


def make_pairs_analyzer(common: frozenset[str] = frozenset()) -> StemTokenizer:
    """The analyzer of the ``pairs`` field: neighbouring stems that are both in
    ``common``, space-separated."""
    return StemTokenizer(pairs=True, common=common)


_ANALYZER = make_analyzer()


def iter_tokens(text: str) -> Iterator[tuple[str, str, int, int]]:
    """Yield ``(surface, stem, start, end)`` for each indexed token of ``text``."""
    for tok in _ANALYZER(text, chars=True, mode="index"):
        yield text[tok.startchar : tok.endchar], tok.text, tok.startchar, tok.endchar


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The indexed form of one word (``"Sanctions"`` -> ``"sanction"``)."""
    toks = [t.text for t in _ANALYZER(word, mode="query")]
    return toks[0] if toks else ""


def analyse(text: str) -> list[str]:
    """The indexed forms of every token in ``text``, in order."""
    return [t.text for t in _ANALYZER(text, mode="query")]


def cased_words(text: str, toks: list[str] | None = None) -> list[str]:
    """The surface tokens that the analyzer keeps, in order, as written (``toks``:
    ``_FINDALL(text)`` if already made)."""
    return [t for t in (_FINDALL(text) if toks is None else toks) if len(t) >= MIN_TOKEN_CHARS]


def surface_words(text: str) -> list[str]:
    """The lower-cased surface tokens that the analyzer keeps, in order."""
    return [t.lower() for t in _FINDALL(text) if len(t) >= MIN_TOKEN_CHARS]


# --- page furniture -------------------------------------------------------------------

# A line matching one of these ends the article: it and everything after are furniture
# (related-article lists, comment forms).
_TERMINAL_LINES = [
    r"read (the )?full (story|article) (at|on) .{1,60}",
    r"you (may|might) also like:?",
    r"leave a (comment|reply)",
    r"related( articles| stories| coverage)?:?",
    r"more (from|on) this (story|topic):?",
]
# Whole lines that are furniture but do not end the article.
_FURNITURE_LINES = [
    r"share( this( article| story)?)?:?",
    r"image",
    r"main image source:?.*",
    r"read more:?",
    r"advertisement",
    r"watch .{1,60} live( on .{1,40})?\.?",
    r"your email address will not be published\..*",
    r"(click|tap) here .{0,80}",
    r"follow us on .{1,60}",
    r"sign up for .{1,80}newsletter.*",
]
# Phrases cut out of the middle or end of a line.
_FURNITURE_INLINE = [
    r"read (the )?full (story|article) (at|on) [\w.\-]+(\.com|\.org|\.net|\.co\.uk)?\.?",
]

_TERMINAL_RE = re.compile(r"^\s*(" + "|".join(_TERMINAL_LINES) + r")\s*$", re.IGNORECASE)
_LINE_RE = re.compile(r"^\s*(" + "|".join(_FURNITURE_LINES) + r")\s*$", re.IGNORECASE)
_INLINE_RE = re.compile(r"\s*(" + "|".join(_FURNITURE_INLINE) + r")", re.IGNORECASE)
# The same patterns over a whole text at once: a line pattern matches some line only if
# this matches there (``[^\S\n]`` is ``\s`` within a line), an inline one only if that does.
_ANY_LINE_RE = re.compile(r"^[^\S\n]*(" + "|".join(_TERMINAL_LINES + _FURNITURE_LINES)
                          + r")[^\S\n]*$", re.IGNORECASE | re.MULTILINE)
_ANY_INLINE_RE = re.compile("|".join(_FURNITURE_INLINE), re.IGNORECASE)


def _may_have_furniture(text: str) -> bool:
    """False only if no hand-kept furniture pattern matches in ``text`` (two searches of
    the whole text: most articles need no line-by-line pass)."""
    return _ANY_LINE_RE.search(text) is not None or _ANY_INLINE_RE.search(text) is not None


def norm_line(line: str) -> str:
    """A line as furniture lines are compared: runs of whitespace made one space, trimmed."""
    return " ".join(line.split())


def strip_furniture(text: str, extra_lines: Collection[str] = frozenset()) -> str:
    """The part of an article's text that is the article: furniture removed.

    Parameters
    ----------
    text : str
        The stored text.
    extra_lines : collection of str, default empty
        Further whole lines (compared after :func:`norm_line`) that are furniture: the
        boilerplate found from the data for the article's outlet
        (``_boilerplate.Boilerplate.lines_for``). The hand-kept patterns always apply.

    Returns
    -------
    str
        Line structure is kept (removed lines become empty), so the result is only ever
        shorter than ``text``.
    """
    if not extra_lines and not _may_have_furniture(text):
        return text.strip()
    out: list[str] = []
    for line in text.split("\n"):
        if _TERMINAL_RE.match(line):
            break
        if _LINE_RE.match(line) or (extra_lines and norm_line(line) in extra_lines):
            out.append("")
            continue
        out.append(_INLINE_RE.sub("", line))
    return "\n".join(out).strip()


def furniture_ranges(text: str,
                     extra_lines: Collection[str] = frozenset()) -> list[tuple[int, int]]:
    """Character ranges of ``text`` that :func:`strip_furniture` removes (for greying).

    ``extra_lines`` as for :func:`strip_furniture`. Ranges are sorted and do not overlap.
    """
    if not extra_lines and not _may_have_furniture(text):
        return []
    ranges: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        if _TERMINAL_RE.match(line):
            ranges.append((pos, len(text)))
            break
        if _LINE_RE.match(line) or (extra_lines and norm_line(line) in extra_lines):
            ranges.append((pos, end))
        else:
            ranges.extend((pos + m.start(), pos + m.end()) for m in _INLINE_RE.finditer(line))
        pos = end + 1
    return ranges


def article_tokens(text: str, extra_lines: Collection[str] = frozenset()
                   ) -> list[tuple[str, str, int, int]]:
    """:func:`iter_tokens` of a stored text, leaving out tokens inside page furniture.

    Offsets are into ``text`` itself; the stems are exactly those that were indexed.
    ``extra_lines`` as for :func:`strip_furniture`.
    """
    ranges = furniture_ranges(text, extra_lines)
    out = []
    i = 0
    for tok in iter_tokens(text):
        start = tok[2]
        while i < len(ranges) and ranges[i][1] <= start:
            i += 1
        if i < len(ranges) and ranges[i][0] <= start < ranges[i][1]:
            continue
        out.append(tok)
    return out


def is_furniture(phrase: str) -> bool:
    """Whether a short phrase (an entity candidate, say) is page furniture."""
    p = phrase.strip()
    return bool(_TERMINAL_RE.match(p) or _LINE_RE.match(p) or _INLINE_RE.fullmatch(p))
