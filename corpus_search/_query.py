"""Reading a query typed in the Whoosh query language into a Whoosh query, or a
:class:`QueryError` with a one-line reason and a runnable suggestion.

On top of Whoosh's parser: entity values go through the alias table and the surname rule;
two-word phrases of common words become one ``pairs`` term; dates are read by this
module (``date:2022-06``, ``date:[2022-06-01 to 2022-06-30]``, ``date:>2022-09-01``,
open ranges) and handed to Whoosh as whole days, so every form means what it says;
wildcards, fuzzy terms, phrases and boosts are bounded before anything is expanded.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

from whoosh import qparser
from whoosh import query as wq
from whoosh.qparser.dateparse import DateParserPlugin

from ._entities import ENTITY_TYPES, load_aliases
from ._errors import QueryError
from ._snapshot import Snapshot

__all__ = [
    "DATE_HELP",
    "FIELDS",
    "MAX_BOOST",
    "MAX_EXPANSION",
    "MAX_FUZZY_EDITS",
    "MAX_PHRASE_WORDS",
    "MAX_QUERY_CHARS",
    "clean_query",
    "expand",
    "parse_query",
    "phrase_pairs",
    "phrase_query",
    "resolve_entity",
]

FIELDS = ("title", "body", "person", "org", "place", "outlet", "date")
MAX_QUERY_CHARS = 1000
MAX_EXPANSION = 256
"""A wildcard or fuzzy term may stand for at most this many indexed words."""
MAX_FUZZY_EDITS = 2
"""``word~N`` allows at most this many edits (Whoosh's practical range is 1-2)."""
MAX_FUZZY_CHARS = 30
"""Fuzzy matching is refused for longer words (the automaton grows with the word)."""
MAX_PHRASE_WORDS = 12
MAX_BOOST = 100.0
"""Boosts (``word^3``) are clamped to 0 .. this."""

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


def _parser(snap: Snapshot) -> qparser.QueryParser:
    p = qparser.MultifieldParser(["title", "body"], snap.schema,
                                 fieldboosts={"title": 2.0, "body": 1.0})
    p.add_plugin(DateParserPlugin(free=False))
    p.add_plugin(qparser.FuzzyTermPlugin())
    p.add_plugin(qparser.GtLtPlugin())
    return p


def resolve_entity(snap: Snapshot, type_: str, value: str) -> str:
    """An entity value as typed -> the indexed (lower-cased) canonical name."""
    name = " ".join(value.split())
    canonical, _ = load_aliases().get(name.casefold(), (name, None))
    if snap.entity_code(canonical, type_) is not None:
        return canonical.casefold()
    # A bare surname: the one entity of that type whose last word it is.
    owners = [n for n, t in snap.entities if t == type_ and " " in n
              and n.rsplit(" ", 1)[1].casefold() == name.casefold()]
    if len(owners) == 1:
        return owners[0].casefold()
    return canonical.casefold()


def _without_dates(text: str) -> str:
    """The query with its date terms taken out (a suggestion after a bad date)."""
    rest = " ".join(re.sub(r'date:("[^"]*"|\[[^\]]*\]?|\S+)', " ", text).split())
    ops = r"(AND|OR|NOT|ANDNOT|ANDMAYBE)"
    rest = re.sub(rf"^\s*{ops}\s+|\s+{ops}\s*$", "", rest)  # "NATO AND" -> "NATO"
    rest = re.sub(rf"\s+{ops}\s+{ops}\s+", " AND ", rest)
    return rest.strip() or "*"


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


_DATE_VALUE = r'"[^"]*"|\'[^\']*\'|[^\s()\[\]{}]+'
_DATE_RE = re.compile(
    r"date:(?:\[\s*(?P<lo>[^\]]*?)\s*\bto\b\s*(?P<hi>[^\]]*?)\s*\]"
    r"|(?P<op>>=|<=|>|<)?(?P<val>" + _DATE_VALUE + r"))", re.IGNORECASE)
_PERIOD_RE = re.compile(r"(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?")
DATE_HELP = ("write dates as 2022, 2022-06 or 2022-06-01, and ranges as "
             "date:[2022-06-01 to 2022-06-30], date:[2022-06-01 to] or date:>2022-09-01")


def _period(value: str) -> tuple[date, date]:
    """The first and last day of ``2022``, ``2022-06`` or ``2022-06-01`` (or ``20220601``)."""
    m = _PERIOD_RE.fullmatch(value.strip().strip("\"'"))
    if not m:
        raise ValueError(value)
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    if month is None:
        return date(year, 1, 1), date(year, 12, 31)
    if day is None:
        first = date(year, int(month), 1)
        nxt = date(year + (first.month == 12), first.month % 12 + 1, 1)
        return first, nxt - timedelta(days=1)
    d = date(year, int(month), int(day))
    return d, d


def _date_clause(m: re.Match[str]) -> str:
    """One ``date:`` clause as a closed range of whole days Whoosh reads correctly."""
    lo = hi = None
    if m.group("val") is not None:
        first, last = _period(m.group("val"))
        op = m.group("op") or ""
        if op == ">":
            lo = last + timedelta(days=1)
        elif op == ">=":
            lo = first
        elif op == "<":
            hi = first - timedelta(days=1)
        elif op == "<=":
            hi = last
        else:
            lo, hi = first, last
    else:
        if m.group("lo"):
            lo = _period(m.group("lo"))[0]
        if m.group("hi"):
            hi = _period(m.group("hi"))[1]
        if lo is None and hi is None:
            raise ValueError(m.group())
    if lo and hi and lo > hi:
        raise ValueError(m.group())
    return (f"date:[{lo.strftime('%Y%m%d') if lo else ''} to "
            f"{hi.strftime('%Y%m%d') if hi else ''}]").replace("[ to", "[to")


def _rewrite_dates(text: str) -> str:
    """Every ``date:`` clause outside quotes rewritten as a range of whole days."""
    out, pos = [], 0
    bare = _outside_quotes(text)
    matched = {m.start() for m in _DATE_RE.finditer(bare)}
    for start in (m.start() for m in re.finditer(r"date:", bare, re.IGNORECASE)):
        if start not in matched:
            raise QueryError(f"date: needs a date; {DATE_HELP}.",
                             suggestion=_without_dates(text))
    for m in _DATE_RE.finditer(bare):
        try:
            clause = _date_clause(_DATE_RE.match(text, m.start()) or m)
        except ValueError:
            raise QueryError(f"Could not read {text[m.start():m.end()]!r} as a date; "
                             f"{DATE_HELP}.", suggestion=_without_dates(text)) from None
        out.append(text[pos : m.start()] + clause)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


_BOOST_RE = re.compile(r"\^(\d*\.?\d+(?:[eE][+-]?\d+)?)")


def _clamp_boosts(text: str) -> str:
    """``word^1e300`` -> ``word^100``: boosts in any number form, clamped to
    ``MAX_BOOST`` and written as Whoosh reads them (it took ``1e300`` for a word)."""
    bare = _outside_quotes(text)
    out, pos = [], 0
    for m in _BOOST_RE.finditer(bare):
        value = min(float(m.group(1)), MAX_BOOST)
        out.append(text[pos : m.start()] + f"^{value:g}")
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def clean_query(text: str | None) -> str:
    """The query with control characters (NUL, escapes) made spaces, trimmed."""
    return _CONTROL_RE.sub(" ", text or "").strip()


def _walk(node: wq.Query) -> Iterator[wq.Query]:
    yield node
    for child in node.children():
        yield from _walk(child)


def parse_query(snap: Snapshot, text: str) -> wq.Query:
    """Parse a query string, or raise :class:`QueryError` with a one-line reason.

    Parameters
    ----------
    snap : Snapshot
        The generation whose schema, entities and vocabulary the query is read against.
    text : str
        The query; ``*`` or an empty query means every article.

    Returns
    -------
    whoosh.query.Query
        ``whoosh.query.Every()`` for every article.

    Wildcards and fuzzy terms that would expand to more than ``MAX_EXPANSION`` words are
    refused rather than run; fuzzy edits are capped at ``MAX_FUZZY_EDITS``, phrases at
    ``MAX_PHRASE_WORDS`` words and boosts at ``MAX_BOOST``.
    """
    text = clean_query(text)
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"The query is {len(text):,} characters long; the limit is "
                         f"{MAX_QUERY_CHARS:,}.",
                         suggestion=" ".join(text[:200].split()[:-1]) or None)
    if text in ("", "*", "*:*"):
        return wq.Every()
    _check_syntax(text)
    text = _clamp_boosts(text)
    if "date:" in _outside_quotes(text).lower():
        if not snap.dated:
            raise QueryError("This corpus has no dates, so a date: condition matches "
                             "nothing.", suggestion=_without_dates(text))
        parsed_text = _rewrite_dates(text)
    else:
        parsed_text = text
    try:
        q = _parser(snap).parse(parsed_text)
    except Exception as exc:  # Whoosh raises bare Exception for unparseable values
        if "date" in str(exc).lower() or "day" in str(exc).lower():
            raise QueryError(f"Could not read a date in the query; {DATE_HELP}.",
                             suggestion=_without_dates(text)) from None
        raise QueryError(f"Could not read the query: {exc}.", suggestion=None) from None
    if "date:" in text and any(isinstance(n, type(wq.NullQuery)) for n in _walk(q)):
        raise QueryError(f"Could not read a date in the query; {DATE_HELP}.",
                         suggestion=_without_dates(text))
    common = snap.pair_stems

    def fix(node: wq.Query) -> wq.Query:
        if getattr(node, "boost", 1.0) > MAX_BOOST or getattr(node, "boost", 1.0) < 0:
            node = node.copy()
            node.boost = min(max(node.boost, 0.0), MAX_BOOST)
        if isinstance(node, wq.Term) and node.fieldname in ENTITY_TYPES:
            return wq.Term(node.fieldname, resolve_entity(snap, node.fieldname, node.text),
                           boost=node.boost)
        if isinstance(node, wq.Phrase):
            if len(node.words) > MAX_PHRASE_WORDS:
                raise QueryError(f"A phrase may have at most {MAX_PHRASE_WORDS} words; this "
                                 f"one has {len(node.words)}.", suggestion=None)
            return phrase_query(node, common)
        return node

    q = q.accept(fix)
    reader = snap.searcher.reader()
    for node in q.leaves():
        if isinstance(node, wq.FuzzyTerm):
            if node.maxdist > MAX_FUZZY_EDITS:
                raise QueryError(f"{node.text}~{node.maxdist} allows {node.maxdist} edits; "
                                 f"at most {MAX_FUZZY_EDITS} are allowed.",
                                 suggestion=f"{node.text}~{MAX_FUZZY_EDITS}")
            if len(node.text) > MAX_FUZZY_CHARS:
                raise QueryError(f"Fuzzy matching (~) works on words of up to "
                                 f"{MAX_FUZZY_CHARS} letters.", suggestion=node.text[:200])
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


def expand(node: wq.Query, reader) -> list[str]:
    """The indexed words a wildcard, prefix, fuzzy or regex term stands for."""
    return [t.decode() if isinstance(t, bytes) else t for t in node._btexts(reader)]
