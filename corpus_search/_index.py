"""Building and opening the index.

Layout of an index folder::

    index/
      CURRENT                 names the generation readers open ("gen-000003")
      gen-000003/             one complete, immutable generation
        corpus_search.json    marker: format version, configuration, counts
        MAIN_*                the Whoosh index: table of contents and, per segment, its files
                              (not one compound .seg file: Whoosh copies those into memory)
        MAIN_*.csp.*          per segment, flat postings of common words (see ``_postings``)
        manifest.sqlite       one row per article: hash, metadata, entities
        columns.npz           per-document arrays (outlet, month, tokens, entities, title
                              stems with their positions, for title phrases)
        vocab.json            the names those arrays number
      entity-cache.sqlite     model output by text hash, shared by all generations
      .build.lock             held (flock) while a build runs

A build makes ``gen-N+1`` beside ``gen-N``: it hard-links the previous generation's
Whoosh files (Whoosh never changes a segment file once written; deletions live in the TOC),
copies the manifest, applies only the new, changed and removed articles, writes the
arrays and marker, and only then points ``CURRENT`` at it with an atomic rename. A build
that fails or is killed at any point leaves ``CURRENT`` and the generation it names
untouched; the half-made generation is removed by the next build.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from whoosh import index as whoosh_index
from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from . import _analysis as analysis
from . import _postings, _segwriter
from ._corpus import Article, ColumnMap, Skipped, load_corpus
from ._entities import (
    ENTITY_TYPES,
    Entity,
    EntityCache,
    Extractor,
    aliases_version,
    entities_for,
    model_version,
    normalise,
    vote_types,
)
from ._errors import IndexLockedError, IndexNotFoundError, IndexProblem, UnsafeIndexError

__all__ = [
    "BuildReport",
    "Index",
    "build",
    "current_generation",
    "ensure_index",
    "make_schema",
    "open_index",
]

FORMAT = 5
MARKER = "corpus_search.json"
CURRENT = "CURRENT"
LOCK = ".build.lock"
CACHE = "entity-cache.sqlite"
_OWN_NAMES = {CURRENT, LOCK, CACHE, "README.md", ".gitignore", ".gitkeep"}
_GEN_FILES = {MARKER, "manifest.sqlite", "columns.npz", "vocab.json"}


PAIR_MIN_DF_SHARE = 0.02
"""Words in at least this share of articles count as common for the ``pairs`` field."""
PAIR_MAX_STEMS = 1500
"""At most this many common words (the most frequent)."""


def common_stems(surface_dfs: Iterable[tuple[str, int]], articles: int) -> frozenset[str]:
    """The stems whose neighbouring pairs are indexed: those in at least
    ``PAIR_MIN_DF_SHARE`` of the articles (surface document frequencies summed by stem),
    at most ``PAIR_MAX_STEMS``. Chosen at a full build and kept by later updates, so an
    index's pairs never mean different things in different segments."""
    df: dict[str, int] = {}
    for word, n in surface_dfs:
        stem = analysis.stem(word)
        df[stem] = df.get(stem, 0) + n
    floor = max(1, math.ceil(PAIR_MIN_DF_SHARE * articles))
    ranked = sorted((s for s, n in df.items() if n >= floor), key=lambda s: (-df[s], s))
    return frozenset(ranked[:PAIR_MAX_STEMS])


def make_schema(common: frozenset[str] = frozenset()) -> Schema:
    """The Whoosh schema: searchable title/body, filterable outlet/date/entities.

    ``common`` is the set of stems whose neighbouring pairs go into the ``pairs`` field
    (see :func:`common_stems`)."""
    analyzer = analysis.make_analyzer()
    names = dict(lowercase=True, commas=True, scorable=False)
    return Schema(
        doc_id=ID(stored=True, unique=True, sortable=True),
        title=TEXT(analyzer=analyzer, stored=True, phrase=True, field_boost=2.0),
        body=TEXT(analyzer=analyzer, phrase=True),
        # Neighbouring stem pairs of the body: a two-word phrase is one term lookup here,
        # and longer phrases check positions only in articles holding all their pairs.
        pairs=TEXT(analyzer=analysis.make_pairs_analyzer(common), phrase=False),
        text=STORED(),
        outlet=KEYWORD(stored=True, **names),
        date=DATETIME(stored=True),
        url=STORED(),
        source=STORED(),
        person=KEYWORD(**names),
        org=KEYWORD(**names),
        place=KEYWORD(**names),
        entities=STORED(),
    )


def config() -> dict[str, str]:
    """What, when changed, makes a build re-index every article."""
    return {"format": str(FORMAT), "analysis": analysis.ANALYSIS_VERSION,
            "aliases": aliases_version(), "model": model_version()}


@dataclass
class BuildReport:
    """What a build did. ``str()`` gives the report the CLI prints."""

    index_dir: Path
    generation: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    retyped: int = 0
    model_runs: int = 0
    total: int = 0
    seconds: float = 0.0
    entities: bool = True
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    duplicates: list[Skipped] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [
            f"{self.total:,} articles in {self.index_dir}/{self.generation}: "
            f"{self.added:,} indexed, {self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.removed:,} removed, {len(self.skipped):,} skipped, "
            f"{len(self.duplicates):,} duplicates ({self.seconds:.1f} s; "
            f"{self.model_runs:,} run through the NER model)"
        ]
        if self.retyped:
            lines.append(f"{self.retyped:,} unchanged articles re-indexed because corpus-level "
                         "entity types changed")
        for title, items in (("skipped", self.skipped), ("duplicate", self.duplicates),
                             ("note", self.notes)):
            lines.extend(f"  {title}: {s.path}: {s.reason}" for s in items)
        return "\n".join(lines)


# --- folder handling ------------------------------------------------------------------


def current_generation(index_dir: Path, check_format: bool = True) -> Path:
    """The generation folder ``CURRENT`` names, after checking it is ours (and, unless
    ``check_format`` is false, that this version can read it)."""
    index_dir = Path(index_dir)
    cur = index_dir / CURRENT
    if not cur.is_file():
        if index_dir.is_dir():
            _check_ours(index_dir)
        raise IndexNotFoundError(
            f"no index in {index_dir}/ yet; build one with `corpus-search build`")
    name = cur.read_text("utf-8").strip()
    gen = index_dir / name
    if not name.startswith("gen-") or "/" in name or not (gen / MARKER).is_file():
        raise UnsafeIndexError(f"{cur} does not name a corpus_search generation; "
                               "refusing to open it (rebuild into an empty folder)")
    marker = json.loads((gen / MARKER).read_text("utf-8"))
    if check_format and marker.get("format") != FORMAT:
        raise IndexProblem(f"{gen} was built by another version of corpus_search "
                           f"(format {marker.get('format')}); rebuild it")
    return gen


def _check_ours(index_dir: Path) -> None:
    strangers = sorted(p.name for p in index_dir.iterdir()
                       if p.name not in _OWN_NAMES and not p.name.startswith("gen-"))
    if strangers:
        raise UnsafeIndexError(
            f"{index_dir}/ holds files corpus_search did not write ({', '.join(strangers[:3])}"
            f"{', ...' if len(strangers) > 3 else ''}); Whoosh indexes unpickle stored data, so "
            "only indexes built here are opened. Use an empty folder.")


@contextlib.contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the build lock. The kernel drops it when the holder dies, so it never goes stale."""
    path = index_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
            raise IndexLockedError(
                f"another build is writing {index_dir}/ ({holder}); wait for it to finish "
                "(a killed build's lock is released by the system)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, started {datetime.now():%Y-%m-%d %H:%M:%S}".encode(),
                  0)
        yield
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


# --- the manifest -----------------------------------------------------------------------

_MANIFEST_SQL = """
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY, hash TEXT NOT NULL, source TEXT, title TEXT, outlet TEXT,
    date TEXT, url TEXT, tokens INTEGER NOT NULL, entities TEXT NOT NULL, typed TEXT
);
CREATE TABLE IF NOT EXISTS surfaces (word TEXT PRIMARY KEY, df INTEGER NOT NULL);
"""


def _open_manifest(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.executescript(_MANIFEST_SQL)
    return db


def _adjust_surfaces(db: sqlite3.Connection, word_lists: Iterable[Sequence[str]],
                     sign: int) -> None:
    counts: dict[str, int] = {}
    for words in word_lists:
        for w in set(words):
            counts[w] = counts.get(w, 0) + 1
    db.executemany("INSERT INTO surfaces VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET "
                   "df = df + excluded.df", ((w, sign * c) for w, c in counts.items()))
    if sign < 0:
        db.execute("DELETE FROM surfaces WHERE df <= 0")


# --- build ------------------------------------------------------------------------------


def _indexed_text(art: Article) -> str:
    return analysis.strip_furniture(art.body)


def build(paths: Sequence[str | Path] = ("corpus",), index_dir: str | Path = "index", *,
          columns: ColumnMap | None = None, outlet: str = "", entities: bool = True,
          progress: bool | None = None, extractor: Extractor | None = None,
          _after_commit: Callable[[], None] | None = None) -> BuildReport:
    """Build or update the index in ``index_dir`` from the articles under ``paths``.

    The index mirrors ``paths``: articles no longer there are removed. Only new and
    changed articles are processed; the rest are carried over. ``entities=False`` skips
    named-entity extraction (facets for people, organisations and places stay empty).
    """
    started = time.perf_counter()
    index_dir = Path(index_dir)
    progress = _want_progress() if progress is None else progress
    loaded = load_corpus(paths, columns=columns, outlet=outlet)
    report = BuildReport(index_dir=index_dir, skipped=loaded.skipped, notes=loaded.notes,
                         duplicates=loaded.duplicates, entities=entities)
    index_dir.mkdir(parents=True, exist_ok=True)
    _check_ours(index_dir)
    with _build_lock(index_dir):
        for stale in index_dir.glob("gen-*.tmp*"):
            shutil.rmtree(stale, ignore_errors=True)
        try:
            # An older format of ours is rebuilt in full (its config differs).
            old_gen: Path | None = current_generation(index_dir, check_format=False)
        except IndexNotFoundError:
            old_gen = None
        _build_generation(loaded.articles, index_dir, old_gen, report, progress,
                          extractor or Extractor(), _after_commit)
    report.seconds = time.perf_counter() - started
    return report


def _want_progress() -> bool:
    import sys

    return sys.stderr.isatty()


def _build_generation(articles: list[Article], index_dir: Path, old_gen: Path | None,
                      report: BuildReport, progress: bool, extractor: Extractor,
                      after_commit: Callable[[], None] | None) -> None:
    cfg = dict(config(), entities=str(report.entities))
    old_marker = json.loads((old_gen / MARKER).read_text("utf-8")) if old_gen else {}
    reuse = old_gen is not None and old_marker.get("config") == cfg
    if reuse and not _has_changes(articles, old_gen):
        report.unchanged = report.total = len(articles)
        report.generation = old_gen.name
        return
    number = int(old_gen.name.split("-")[1]) + 1 if old_gen else 1
    final = index_dir / f"gen-{number:06d}"
    tmp = index_dir / f"gen-{number:06d}.tmp-{os.getpid()}"
    tmp.mkdir()
    try:
        if reuse:
            for f in old_gen.iterdir():
                if f.name not in _GEN_FILES and not f.name.endswith("WRITELOCK"):
                    os.link(f, tmp / f.name)
            src = sqlite3.connect(old_gen / "manifest.sqlite")
            db = sqlite3.connect(tmp / "manifest.sqlite")
            src.backup(db)
            src.close()
            db.executescript(_MANIFEST_SQL)
            ix = whoosh_index.open_dir(str(tmp))
        else:
            db = _open_manifest(tmp / "manifest.sqlite")
            ix = None  # created once the common words are known

        known = {d: (h, src) for d, h, src in
                 db.execute("SELECT doc_id, hash, source FROM articles")}
        by_id = {a.doc_id: a for a in articles}
        todo = [a for a in articles if known.get(a.doc_id) != (a.content_hash, a.source)]
        gone = [d for d in known if d not in by_id]
        report.added = sum(1 for a in todo if a.doc_id not in known)
        report.updated = len(todo) - report.added
        report.removed = len(gone)
        report.unchanged = len(articles) - len(todo)
        report.total = len(articles)

        # Surface-word document frequencies: take out what leaves, add what comes.
        leaving = [d for d in gone] + [a.doc_id for a in todo if a.doc_id in known]
        if leaving and reuse:
            with ix.searcher() as s:
                old_texts = []
                for d in leaving:
                    fields = s.document(doc_id=d)
                    if fields:
                        old_texts.append(analysis.surface_words(
                            analysis.strip_furniture(fields.get("text", ""))))
            _adjust_surfaces(db, old_texts, -1)
        indexed = {a.doc_id: _indexed_text(a) for a in todo}
        # Word lists are counted one article at a time and dropped: held together they
        # would cost ~60 bytes a token (4 GB at 100k articles).
        ntokens: dict[str, int] = {}

        def _word_lists() -> Iterator[list[str]]:
            for d, t in indexed.items():
                ws = analysis.surface_words(t)
                ntokens[d] = len(ws)
                yield ws

        _adjust_surfaces(db, _word_lists(), +1)
        if ix is None:
            common = common_stems(db.execute("SELECT word, df FROM surfaces"), len(todo))
            ix = whoosh_index.create_in(str(tmp), make_schema(common))

        # Entities for new and changed articles (cached by text), normalised every time.
        if report.entities and todo:
            ner_texts = [analysis.strip_furniture(f"{a.title}\n\n{a.body}") for a in todo]
            cache = EntityCache(index_dir / CACHE)
            try:
                raw, report.model_runs = entities_for(ner_texts, cache, extractor, progress)
            finally:
                cache.close()
        else:
            raw = [[] for _ in todo]
        for d in gone:
            db.execute("DELETE FROM articles WHERE doc_id = ?", (d,))
        db.executemany(
            "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            ((a.doc_id, a.content_hash, a.source, a.title, a.outlet,
              a.date.isoformat() if a.date else None, a.url, ntokens[a.doc_id],
              json.dumps([e.to_json() for e in normalise(m)], ensure_ascii=False))
             for a, m in zip(todo, raw, strict=True)))

        # Corpus-level type voting; re-index unchanged articles whose typed sets moved.
        rows = db.execute("SELECT doc_id, entities, typed FROM articles").fetchall()
        per_doc = {d: [Entity.from_json(e) for e in json.loads(ents)] for d, ents, _ in rows}
        types = vote_types(per_doc.values())
        typed_now = {d: _typed(ents, types) for d, ents in per_doc.items()}
        todo_ids = {a.doc_id for a in todo}
        retyped = [by_id[d] for d, _, old in rows
                   if d not in todo_ids and old is not None
                   and json.loads(old) != typed_now[d] and d in by_id]
        report.retyped = len(retyped)
        db.executemany("UPDATE articles SET typed = ? WHERE doc_id = ?",
                       ((json.dumps(t, ensure_ascii=False), d) for d, t in typed_now.items()))

        writer = ix.writer(limitmb=256, compound=False)
        _postings.record(writer)  # flat postings for a segment Whoosh's merge policy writes
        try:
            for d in gone:
                writer.delete_by_term("doc_id", d)
            docs = []
            for art in todo + retyped:
                typed = typed_now[art.doc_id]
                if art.doc_id in known:
                    writer.delete_by_term("doc_id", art.doc_id)
                body = indexed.get(art.doc_id) or _indexed_text(art)
                doc = dict(
                    doc_id=art.doc_id, title=art.title, body=body, pairs=body, text=art.body,
                    outlet=art.outlet, url=art.url, source=art.source,
                    entities=json.dumps([e.to_json() for e in per_doc[art.doc_id]],
                                        ensure_ascii=False),
                    **{t: ",".join(n.replace(",", " ") for n in typed[t]) for t in ENTITY_TYPES})
                if art.date:
                    doc["date"] = art.date
                docs.append(doc)
        except BaseException:
            writer.cancel()
            raise
        # The new articles as segments written in bulk from arrays (see _segwriter).
        _segwriter.commit(writer, docs, two_processes=len(docs) >= PARALLEL_MIN_ARTICLES
                          and (os.cpu_count() or 1) > 1)
        db.commit()
        if after_commit:
            after_commit()

        _write_columns(ix, db, types, tmp)
        db.close()
        marker = {"format": FORMAT, "config": cfg, "built": datetime.now().isoformat(),
                  "articles": report.total, "generation": final.name}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2), "utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        os.rename(tmp, final)
        _fsync_dir(index_dir)
        _write_atomic(index_dir / CURRENT, final.name + "\n")
        report.generation = final.name
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    # Keep the previous generation for readers that still have it open.
    for gen in sorted(index_dir.glob("gen-*")):
        if gen.name not in {final.name, old_gen.name if old_gen else ""} and "." not in gen.name:
            shutil.rmtree(gen, ignore_errors=True)


def _close_quietly(searcher) -> None:
    with contextlib.suppress(Exception):  # already closed
        searcher.close()


PARALLEL_MIN_ARTICLES = 1000
"""Batches at least this large are indexed on two cores (see ``_parallel``)."""


def _add(writer, doc: dict) -> None:
    writer.add_document(**doc)


def _has_changes(articles: list[Article], gen: Path) -> bool:
    db = sqlite3.connect(f"file:{gen / 'manifest.sqlite'}?mode=ro", uri=True)
    try:
        known = dict(db.execute("SELECT doc_id, hash FROM articles"))
    finally:
        db.close()
    return len(known) != len(articles) or any(known.get(a.doc_id) != a.content_hash
                                              for a in articles)


def _typed(ents: list[Entity], types: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
    for e in ents:
        out[types.get(e.name, e.type)].append(e.name)
    return {t: sorted(v) for t, v in out.items()}


def _write_columns(ix, db: sqlite3.Connection, types: dict[str, str], gen: Path) -> None:
    """Per-document arrays, indexed by Whoosh docnum, for facets, filters and counts."""
    with ix.reader() as reader:
        n = reader.doc_count_all()
        col = reader.column_reader("doc_id") if n else []
        doc_ids = [d.decode() if isinstance(d, bytes) else d for d in col]
        live = np.zeros(n, dtype=bool)
        for d in reader.all_doc_ids():
            live[d] = True
    rows = {r[0]: r for r in db.execute(
        "SELECT doc_id, outlet, date, tokens, typed, title FROM articles")}
    title_analyzer = ix.schema["title"].analyzer
    title_terms: dict[str, int] = {}
    title_ptr = np.zeros(n + 1, dtype=np.int64)
    title_ids: list[int] = []
    title_pos: list[int] = []
    outlets: dict[str, int] = {}
    months: dict[str, int] = {}
    names: dict[tuple[str, str], int] = {}
    outlet_code = np.full(n, -1, dtype=np.int32)
    month_code = np.full(n, -1, dtype=np.int32)
    day = np.full(n, np.iinfo(np.int32).min, dtype=np.int32)
    tokens = np.zeros(n, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    ent_ids: list[int] = []
    for i, d in enumerate(doc_ids):
        row = rows.get(d) if live[i] else None
        if row is not None:
            _, outlet, date, ntok, typed, title = row
            for tok in title_analyzer(title or "", positions=True, mode="index"):
                title_ids.append(title_terms.setdefault(tok.text, len(title_terms)))
                title_pos.append(tok.pos)
            if outlet:
                outlet_code[i] = outlets.setdefault(outlet, len(outlets))
            if date:
                month_code[i] = months.setdefault(date[:7], len(months))
                day[i] = (np.datetime64(date[:10], "D") - np.datetime64("1970-01-01", "D")
                          ).astype(np.int32)
            tokens[i] = ntok
            for t, vals in json.loads(typed).items():
                ent_ids.extend(names.setdefault((v, t), len(names)) for v in vals)
        indptr[i + 1] = len(ent_ids)
        title_ptr[i + 1] = len(title_ids)
    # Months are numbered in calendar order so that codes sort like dates.
    month_list = sorted(months)
    remap = np.array([month_list.index(m) for m in months] or [0], dtype=np.int32)
    month_code = np.where(month_code >= 0, remap[np.maximum(month_code, 0)], -1).astype(np.int32)
    np.savez(gen / "columns.npz", live=live, outlet=outlet_code, month=month_code, day=day,
             tokens=tokens, ent_indptr=indptr, ent_ids=np.asarray(ent_ids, dtype=np.int32),
             title_indptr=title_ptr, title_ids=np.asarray(title_ids, dtype=np.int32),
             title_pos=np.asarray(title_pos, dtype=np.int32))
    vocab = {"doc_ids": doc_ids, "outlets": list(outlets), "months": month_list,
             "entities": [[name, t] for (name, t) in names], "title_terms": list(title_terms)}
    (gen / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), "utf-8")
    del types  # types are already applied in ``typed``


# --- reading ----------------------------------------------------------------------------


class Index:
    """An open index: a Whoosh searcher plus per-document column arrays.

    Cheap to query many times; it notices a newer generation (``CURRENT`` changed) before
    each query and switches to it, so a reader sees either the old or the new index,
    never a mix. Use :func:`open_index` to make one.
    """

    def __init__(self, path: str | Path = "index") -> None:
        self.path = Path(path)
        self._searcher = None
        self._load()

    def _load(self) -> None:
        gen = current_generation(self.path)
        ix = whoosh_index.open_dir(str(gen))
        searcher = ix.searcher()
        with np.load(gen / "columns.npz", allow_pickle=False) as cols:
            arrays = {k: cols[k] for k in cols.files}
        vocab = json.loads((gen / "vocab.json").read_text("utf-8"))
        if self._searcher is not None:
            self._closer.detach()
            _close_quietly(self._searcher)
        # An Index dropped without close() still releases its files when collected.
        self._closer = weakref.finalize(self, _close_quietly, searcher)
        # Title phrases are checked on these arrays instead of Whoosh's position matchers.
        _postings.attach_titles(searcher, _postings.TitleTokens(
            arrays["title_indptr"], arrays["title_ids"], arrays["title_pos"],
            vocab["title_terms"]))
        self.generation = gen.name
        self.gen_path = gen
        self.schema = ix.schema
        self._searcher = searcher
        self.live: np.ndarray = arrays["live"]
        self.outlet_code: np.ndarray = arrays["outlet"]
        self.month_code: np.ndarray = arrays["month"]
        self.day: np.ndarray = arrays["day"]
        self.tokens: np.ndarray = arrays["tokens"]
        self.ent_indptr: np.ndarray = arrays["ent_indptr"]
        self.ent_ids: np.ndarray = arrays["ent_ids"]
        self.doc_ids: list[str] = vocab["doc_ids"]
        self.outlets: list[str] = vocab["outlets"]
        self.months: list[str] = vocab["months"]
        self.entities: list[tuple[str, str]] = [tuple(e) for e in vocab["entities"]]
        self.entity_type_code = np.array([ENTITY_TYPES.index(t) for _, t in self.entities],
                                         dtype=np.int8)
        self.ent_doc = np.repeat(np.arange(len(self.live), dtype=np.int32),
                                 np.diff(self.ent_indptr))
        pair_type = self.entity_type_code[self.ent_ids] if len(self.ent_ids) else \
            np.zeros(0, dtype=np.int8)
        self.type_pairs = {t: (self.ent_doc[pair_type == i], self.ent_ids[pair_type == i])
                           for i, t in enumerate(ENTITY_TYPES)}
        order = np.argsort(self.ent_ids, kind="stable")
        self._ent_order = self.ent_doc[order]
        self._ent_ptr = np.searchsorted(self.ent_ids[order],
                                        np.arange(len(self.entities) + 1))
        self.docnum = {d: i for i, d in enumerate(self.doc_ids) if self.live[i]}
        self._entity_code = {(n.casefold(), t): i for i, (n, t) in enumerate(self.entities)}
        self._stamp = self._current_stamp()
        self._surfaces: dict[str, list[tuple[str, int]]] | None = None
        self._vocab: tuple[list[str], np.ndarray] | None = None
        self._vocab_set: dict[str, int] = {}

    def _current_stamp(self) -> tuple[int, int]:
        st = (self.path / CURRENT).stat()
        return st.st_ino, st.st_mtime_ns

    def refresh(self) -> bool:
        """Switch to a newer generation if a build has finished; returns whether it did."""
        try:
            stamp = self._current_stamp()
        except FileNotFoundError:
            return False
        if stamp == self._stamp:
            return False
        self._load()
        return True

    @property
    def pair_stems(self) -> frozenset[str]:
        """The common stems whose neighbouring pairs this index holds (``pairs`` field)."""
        self.refresh()
        return getattr(self.schema["pairs"].analyzer, "common", frozenset())

    @property
    def searcher(self):
        """The Whoosh searcher of the generation in use."""
        self.refresh()
        return self._searcher

    def close(self) -> None:
        """Release the searcher's files."""
        if self._searcher is not None:
            self._closer.detach()
            _close_quietly(self._searcher)
            self._searcher = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self.live.sum())

    def __repr__(self) -> str:
        return f"<Index {self.path}: {len(self):,} articles>"

    # helpers used by the query modules ---------------------------------------------------

    def entity_docs(self, code: int) -> np.ndarray:
        """Docnums of the articles that mention entity ``code``."""
        return self._ent_order[self._ent_ptr[code] : self._ent_ptr[code + 1]]

    def entity_code(self, name: str, type_: str) -> int | None:
        """The number of an entity by name (case-insensitive) and type, or None."""
        return self._entity_code.get((name.casefold(), type_))

    def _load_surfaces(self) -> None:
        db = sqlite3.connect(f"file:{self.gen_path / 'manifest.sqlite'}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT word, df FROM surfaces ORDER BY df DESC").fetchall()
        finally:
            db.close()
        self._vocab = ([w for w, _ in rows], np.array([d for _, d in rows], dtype=np.int64))
        self._vocab_set = {w: i for i, (w, _) in enumerate(rows)}

    def surfaces(self) -> dict[str, list[tuple[str, int]]]:
        """Indexed stem -> surface words seen in the corpus with their article counts."""
        if self._surfaces is None:
            words, dfs = self.vocabulary()
            out: dict[str, list[tuple[str, int]]] = {}
            for word, df in zip(words, dfs.tolist(), strict=True):
                out.setdefault(analysis.stem(word), []).append((word, df))
            self._surfaces = out
        return self._surfaces

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Surface words of the corpus (lower case) and their article counts, commonest first."""
        if self._vocab is None:
            self._load_surfaces()
        return self._vocab

    def vocabulary_set(self) -> dict[str, int]:
        """Surface word -> its position in :meth:`vocabulary`."""
        if self._vocab is None:
            self._load_surfaces()
        return self._vocab_set

    # the public queries, as methods ------------------------------------------------------

    def articles(self) -> pd.DataFrame:
        """Every article: doc_id, title, outlet, date, words, entities (from the manifest)."""
        db = sqlite3.connect(f"file:{self.gen_path / 'manifest.sqlite'}?mode=ro", uri=True)
        try:
            df = pd.read_sql_query(
                "SELECT doc_id, title, outlet, date, tokens AS words, "
                "json_array_length(entities) AS entities FROM articles ORDER BY doc_id", db)
        finally:
            db.close()
        df["outlet"] = df["outlet"].fillna("")
        df["date"] = pd.to_datetime(df["date"])
        return df

    def summary(self) -> pd.DataFrame:
        """Per outlet: articles, words, dated articles, first and last date."""
        df = self.articles()
        df["outlet"] = df["outlet"].replace("", "(unknown outlet)")
        out = df.groupby("outlet", sort=True).agg(
            articles=("doc_id", "size"), words=("words", "sum"),
            dated=("date", "count"), first=("date", "min"), last=("date", "max"))
        return out.sort_values(["articles", "words"], ascending=False)

    def search(self, query: str = "*", **kwargs):
        """See :func:`corpus_search.search.search`."""
        from ._search import search

        return search(self, query, **kwargs)

    def facets(self, field: str, **kwargs):
        """See :func:`corpus_search.search.facets`."""
        from ._search import facets

        return facets(self, field, **kwargs)

    def show(self, doc_id: str):
        """See :func:`corpus_search.search.show`."""
        from ._search import show

        return show(self, doc_id)

    def crosstab(self, rows: str = "outlet", columns: str = "month", **kwargs):
        """See :func:`corpus_search.search.crosstab`."""
        from ._search import crosstab

        return crosstab(self, rows, columns, **kwargs)

    def term_frequency(self, terms, by: str | None = "outlet", **kwargs):
        """See :func:`corpus_search.terms.term_frequency`."""
        from ._terms import term_frequency

        return term_frequency(self, terms, by, **kwargs)

    def plot_terms(self, terms, by: str | None = "month", per_10k: bool = False, **kwargs):
        """Term frequency as a chart (a matplotlib Figure); see :func:`term_frequency`."""
        from ._plots import plot_terms

        return plot_terms(self.term_frequency(terms, by, **kwargs), per_10k=per_10k)

    def concordance(self, query: str, **kwargs):
        """See :func:`corpus_search.kwic.concordance`."""
        from ._kwic import concordance

        return concordance(self, query, **kwargs)

    def compare(self, doc_a: str, doc_b: str, **kwargs):
        """See :func:`corpus_search.compare.compare`."""
        from ._compare import compare

        return compare(self, doc_a, doc_b, **kwargs)

    def keyness(self, target_filters, reference_filters=None, **kwargs):
        """See :func:`corpus_search.keyness.keyness`."""
        from ._keyness import keyness

        return keyness(self, target_filters, reference_filters, **kwargs)

    def similar(self, doc_id: str, limit: int = 10, **kwargs):
        """See :func:`corpus_search.keyness.similar`."""
        from ._keyness import similar

        return similar(self, doc_id, limit, **kwargs)


def open_index(path: str | Path = "index") -> Index:
    """Open the index built in ``path`` (refuses folders this package did not write)."""
    return Index(path)


def ensure_index(corpus: str | Path | Sequence[str | Path] = "corpus",
                 path: str | Path = "index", **build_options) -> Index:
    """Build or update the index of ``corpus`` (only new and changed articles), then open it.

    The one call a notebook needs: cheap when nothing changed.
    """
    paths = [corpus] if isinstance(corpus, str | Path) else list(corpus)
    build(paths, path, **build_options)
    return Index(path)
