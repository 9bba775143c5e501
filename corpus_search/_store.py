"""The index folder on disk: names, the schema, generations, the build lock, atomic files.

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
        sources.npz           per source file: its size, time and what reading it gave
                              (a rebuild does not read unchanged files; see ``_sourcefiles``)
        .readers              readers hold a shared ``flock`` on it while they use the
                              generation; a build removes an old generation only when it
                              can take the lock exclusively
      entity-cache.sqlite     model output by text hash, shared by all generations
      entities-progress.json  while a build extracts entities after publishing a
                              keyword-only generation: how far it has got (see ``_build``)
      .build.lock             held (flock) while a build runs

A build makes ``gen-N+1`` beside ``gen-N`` (see ``_build``) and only then points
``CURRENT`` at it with an atomic rename. Generation numbers come from the folders present,
not from ``CURRENT``, so a build killed after its rename but before the switch leaves a
complete but unnamed generation that the next build simply skips over and removes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from whoosh.fields import DATETIME, ID, KEYWORD, STORED, TEXT, Schema

from . import _analysis as analysis
from . import _dups, _sourcefiles, _stream, _trust
from ._entities import OVERRIDE_FILE, RESOLUTION_VERSION, aliases_version, model_version
from ._errors import IndexLockedError, IndexNotFoundError, IndexProblem, UnsafeIndexError

__all__ = [
    "BOILERPLATE",
    "CACHE",
    "CURRENT",
    "ENTITY_PROGRESS",
    "ENTITY_REPORT",
    "FORMAT",
    "GEN_FILES",
    "MANIFEST",
    "MANIFEST_SQL",
    "MARKER",
    "READERS",
    "build_lock",
    "check_ours",
    "common_stems",
    "config",
    "current_generation",
    "fsync_dir",
    "generation_folders",
    "hold_generation",
    "make_schema",
    "next_generation_number",
    "open_manifest",
    "open_manifest_readonly",
    "read_current",
    "remove_old_generations",
    "write_atomic",
]

FORMAT = 6
MARKER = "corpus_search.json"
CURRENT = "CURRENT"
LOCK = ".build.lock"
READERS = ".readers"
CACHE = "entity-cache.sqlite"
MANIFEST = "manifest.sqlite"
BOILERPLATE = "boilerplate.csv"
ENTITY_REPORT = "entity-report.csv"
ENTITY_PROGRESS = "entities-progress.json"
_OWN_NAMES = {CURRENT, LOCK, CACHE, OVERRIDE_FILE, ENTITY_PROGRESS, "README.md", ".gitignore",
              ".gitkeep"}
GEN_FILES = frozenset({MARKER, MANIFEST, "columns.npz", "vocab.json", READERS, BOILERPLATE,
                       ENTITY_REPORT,
                       _trust.SIGNATURE, *_stream.STREAM_FILES, _dups.DUPS_FILE,
                       _dups.SIG_FILE, _sourcefiles.SOURCES_FILE})
"""Files of a generation that a build writes anew (the Whoosh files are hard-linked)."""
_GEN_RE = re.compile(r"gen-(\d{6})")
_OWN_TEMP = re.compile(r"\.(CURRENT|entities-progress\.json)\.tmp-\d+-\d+")
"""What :func:`write_atomic` leaves if killed between writing and renaming."""



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
            "aliases": aliases_version(), "model": model_version(),
            "resolution": RESOLUTION_VERSION}




# --- folder handling ------------------------------------------------------------------


def generation_folders(index_dir: Path) -> list[Path]:
    """Complete generation folders (``gen-NNNNNN``), oldest first; temp folders excluded."""
    return sorted(p for p in index_dir.iterdir() if _GEN_RE.fullmatch(p.name) and p.is_dir())


def next_generation_number(index_dir: Path) -> int:
    """One more than the highest generation number present, finished or not.

    Counting from the folders, not from ``CURRENT``, means a generation left complete but
    unpublished by a killed build (or a temp folder) can never block the next build."""
    numbers = [int(m.group(1)) for p in index_dir.iterdir()
               if (m := re.match(r"gen-(\d{6})", p.name))]
    return max(numbers, default=0) + 1


def read_current(index_dir: Path) -> str:
    """The generation name ``CURRENT`` holds, checked to be ``gen-`` and six digits (a
    regular file of a few bytes; anything else is refused in one line)."""
    return _trust.read_current(index_dir)


def current_generation(index_dir: Path, check_format: bool = True,
                       verify: bool = True) -> Path:
    """The generation folder ``CURRENT`` names, after checking it is ours.

    Unless ``verify`` is false, the generation's signature (an HMAC with this user's key
    over every file's size and digests, see ``_trust``) is checked before anything is
    unpickled or opened; unless ``check_format`` is false, that this version reads it."""
    index_dir = Path(index_dir)
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProblem(f"{index_dir} is a file, not an index folder; give --index a "
                           "folder")
    cur = index_dir / CURRENT
    if cur.is_symlink() or (cur.exists() and not cur.is_file()):
        raise UnsafeIndexError(f"{cur} is not a regular file; refusing to open {index_dir} "
                               "(rebuild into an empty folder)")
    if not cur.exists():
        if index_dir.is_dir():
            check_ours(index_dir)
        raise IndexNotFoundError(
            f"no index in {index_dir}/ yet; build one with `corpus-search build`")
    gen = index_dir / read_current(index_dir)
    if not (gen / MARKER).is_file() or gen.is_symlink():
        raise UnsafeIndexError(f"{cur} names {gen.name}, which is not a corpus_search "
                               "generation; refusing to open it (rebuild into an empty "
                               "folder)")
    # The marker is plain JSON (nothing runs when it is read): an older format is named
    # before the signature is checked (older formats were not signed).
    with _trust.reading(gen / MARKER, index_dir, also=(ValueError, AttributeError)):
        marker = json.loads(_trust.read_small(gen / MARKER).decode("utf-8"))
        found = marker.get("format")
    if check_format and found != FORMAT:
        raise IndexProblem(f"{gen} was built by another version of corpus_search "
                           f"(format {found}); rebuild it")
    if verify:
        _trust.guard_whoosh()
        _trust.verify(gen)
    return gen


def check_ours(index_dir: Path) -> None:
    """Refuse a folder holding files this package did not write."""
    strangers = sorted(p.name for p in index_dir.iterdir()
                       if p.name not in _OWN_NAMES and not p.name.startswith("gen-")
                       and not _OWN_TEMP.fullmatch(p.name))
    if strangers:
        raise UnsafeIndexError(
            f"{index_dir}/ holds files corpus_search did not write ({', '.join(strangers[:3])}"
            f"{', ...' if len(strangers) > 3 else ''}); Whoosh indexes unpickle stored data, so "
            "only indexes built here are opened. Use an empty folder.")


@contextlib.contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold the build lock. The kernel drops it when the holder dies, so it never goes stale."""
    path = index_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # errors: one line in _trust.writing
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


def hold_generation(gen: Path) -> int | None:
    """Take a shared lock on a generation for as long as a reader uses it; returns the fd
    to close when done (``None`` if the generation cannot be locked, e.g. read-only)."""
    try:
        fd = os.open(gen / READERS, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def remove_old_generations(index_dir: Path, keep: Iterable[str]) -> list[str]:
    """Remove generations and temp folders not in ``keep`` and not held by a reader.

    A reader holds a shared lock on ``gen/.readers`` (:func:`hold_generation`); a
    generation whose lock cannot be taken exclusively is left for a later build.
    Returns the names removed."""
    keep = set(keep)
    removed = []
    for path in sorted(index_dir.iterdir()):
        if not path.name.startswith("gen-") or path.name in keep or not path.is_dir():
            continue
        fd = None
        try:
            with contextlib.suppress(FileNotFoundError):
                fd = os.open(path / READERS, os.O_RDONLY)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # a reader has it open
            os.close(fd)
            continue
        try:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
        finally:
            if fd is not None:
                os.close(fd)
    return removed


def fsync_dir(path: Path) -> None:
    """Make a folder's entries (renames, new files) durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename (readers see old or new, never half)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)


# --- the manifest -----------------------------------------------------------------------

MANIFEST_SQL = """
CREATE TABLE IF NOT EXISTS articles (
    doc_id TEXT PRIMARY KEY, hash TEXT NOT NULL, source TEXT, title TEXT, outlet TEXT,
    date TEXT, url TEXT, tokens INTEGER NOT NULL, entities TEXT NOT NULL, typed TEXT
);
CREATE TABLE IF NOT EXISTS surfaces (word TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cases (word TEXT PRIMARY KEY, capital INTEGER NOT NULL,
                                  only INTEGER NOT NULL);
"""
"""``surfaces``: lower-cased surface word -> how many articles hold it; ``cases``: such a
word -> how many articles write it with a capital first letter, and how many of those
never write it in lower case (so ``df - only`` write it in lower case): the entity
resolution's evidence for stop-entities."""


def open_manifest(path: Path) -> sqlite3.Connection:
    """The manifest of a generation being written (created if new)."""
    db = sqlite3.connect(path)
    db.executescript(MANIFEST_SQL)
    return db


def open_manifest_readonly(gen: Path) -> sqlite3.Connection:
    """A published generation's manifest, read-only (it never changes once published)."""
    return sqlite3.connect(f"file:{gen / MANIFEST}?mode=ro&immutable=1", uri=True,
                           check_same_thread=False)
