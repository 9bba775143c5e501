"""One generation of an index, opened whole and never changed: the :class:`Snapshot`.

Every query takes a snapshot and reads only from it: the Whoosh searcher, the schema,
the column arrays, the vocabularies, the title arrays and the manifest all come from the
same generation folder, so an answer can never mix two builds. A snapshot holds a shared
lock on its generation (``gen/.readers``) until it is closed or collected, and a build
never removes a generation a reader holds (see :func:`_store.remove_old_generations`).
"""

from __future__ import annotations

import contextlib
import json
import os
import weakref
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
from whoosh import index as whoosh_index

from . import _analysis as analysis
from . import _store as store
from . import _trust
from ._boilerplate import BOILERPLATE_COLUMNS, Boilerplate
from ._dups import DUPS_FILE
from ._entities import ENTITY_TYPES, RESOLUTION_COLUMNS
from ._postings import TitleTokens
from ._stream import STREAM_FILE, TokenStream, load_stream

__all__ = ["EntityStatus", "Snapshot", "load_snapshot"]

NO_DAY = np.iinfo(np.int32).min
"""``Snapshot.day`` of an undated article."""


@dataclass(frozen=True)
class EntityStatus:
    """How complete a generation's entities (person, org, place) are.

    A search-first build publishes the keyword index before entity extraction and the
    entities in a later generation; meanwhile facets and entity queries carry :attr:`note`
    instead of silently showing partial counts.
    """

    articles: int
    """Articles in the generation."""
    covered: int
    """Articles whose entities this generation holds."""
    extracted: bool
    """Whether the index was built with entity extraction at all."""
    running: bool
    """Whether a build is extracting the missing entities now."""
    done: int
    """Articles with entities so far, counting the running extraction."""

    @property
    def complete(self) -> bool:
        """Every article's entities are in this generation."""
        return self.extracted and self.covered >= self.articles

    @property
    def share(self) -> float:
        """``done / articles`` (1.0 for an empty index)."""
        return self.done / self.articles if self.articles else 1.0

    @property
    def note(self) -> str | None:
        """One line for facets and entity queries, or None when entities are complete."""
        if not self.extracted:
            return ("this index was built without entity extraction: person, org and "
                    "place are empty")
        if self.complete:
            return None
        pct = f"{self.share:.0%}"
        if self.running:
            return (f"entities for {pct} of articles so far ({self.done:,} of "
                    f"{self.articles:,}; extraction running): these counts cover "
                    f"{self.covered:,} articles and fill in when it finishes")
        return (f"entities for {pct} of articles ({self.covered:,} of {self.articles:,}): "
                "extraction was interrupted; build again to finish it (work done is kept)")

    def __str__(self) -> str:
        return self.note or f"entities for all {self.articles:,} articles"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def _release(searcher, fd: int | None) -> None:
    with contextlib.suppress(Exception):  # already closed
        searcher.close()
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


class Snapshot:
    """One published generation, opened: everything a query reads, from one folder.

    Attributes (read-only by convention; arrays are indexed by Whoosh docnum):
    ``path`` (the index folder), ``generation`` and ``gen_path``, ``schema``,
    ``searcher``, ``live`` (bool: not deleted), ``outlet_code`` / ``outlets``,
    ``month_code`` / ``months`` ("YYYY-MM", calendar order), ``day`` (days since
    1970-01-01, :data:`NO_DAY` when undated), ``tokens`` (words per article),
    ``ent_indptr`` / ``ent_ids`` (CSR: docnum -> entity codes), ``entities`` ((name, type)
    per code), ``doc_ids`` and ``docnum`` (doc_id -> docnum of live articles),
    ``titles`` (title stems and positions), ``title_tokens`` (words per title),
    ``pair_stems`` (the ``pairs`` field's words).
    """

    def __init__(self, path: Path, gen: Path) -> None:
        self._hold = store.hold_generation(gen)
        if not (gen / store.MARKER).is_file():  # removed by a build before we held it
            if self._hold is not None:
                os.close(self._hold)
            raise FileNotFoundError(gen)
        with _trust.reading(gen, path):
            ix = whoosh_index.open_dir(str(gen))
            searcher = ix.searcher()
        self._closer = weakref.finalize(self, _release, searcher, self._hold)
        with _trust.reading(gen / "columns.npz", path), \
                np.load(gen / "columns.npz", allow_pickle=False) as cols:
            arrays = {k: cols[k] for k in cols.files}
        with _trust.reading(gen / "vocab.json", path):
            vocab = json.loads((gen / "vocab.json").read_text("utf-8"))
        with _trust.reading(gen / store.MARKER, path, also=(ValueError,)):
            marker = json.loads(_trust.read_small(gen / store.MARKER).decode("utf-8"))
        self._extracted = marker.get("config", {}).get("entities", "True") == "True"
        self._pending = int(marker.get("entities_pending", 0))
        self.path = path
        self.generation = gen.name
        self.gen_path = gen
        self.schema = ix.schema
        self.searcher = searcher
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
        self.titles = TitleTokens(arrays["title_indptr"], arrays["title_ids"],
                                  arrays["title_pos"], vocab["title_terms"])
        self.title_tokens: np.ndarray = np.diff(arrays["title_indptr"]).astype(np.int64)
        self.pair_stems: frozenset[str] = getattr(self.schema["pairs"].analyzer, "common",
                                                  frozenset())
        type_code = np.array([ENTITY_TYPES.index(t) for _, t in self.entities], dtype=np.int8)
        ent_doc = np.repeat(np.arange(len(self.live), dtype=np.int32),
                            np.diff(self.ent_indptr))
        pair_type = type_code[self.ent_ids] if len(self.ent_ids) else np.zeros(0, np.int8)
        self.type_pairs = {t: (ent_doc[pair_type == i], self.ent_ids[pair_type == i])
                           for i, t in enumerate(ENTITY_TYPES)}
        order = np.argsort(self.ent_ids, kind="stable")
        self._ent_order = ent_doc[order]
        self._ent_ptr = np.searchsorted(self.ent_ids[order], np.arange(len(self.entities) + 1))
        self.docnum = {d: i for i, d in enumerate(self.doc_ids) if self.live[i]}
        table = (pd.read_csv(gen / store.BOILERPLATE, keep_default_na=False, dtype=str)
                 if (gen / store.BOILERPLATE).is_file() else
                 pd.DataFrame(columns=list(BOILERPLATE_COLUMNS)))
        self.boilerplate = Boilerplate.from_table(table)
        """Lines found repeated across one outlet's articles: not indexed, greyed."""
        self._entity_code = {(n.casefold(), t): i for i, (n, t) in enumerate(self.entities)}

    @cached_property
    def stream(self) -> TokenStream:
        """Every article's words in order (memory-mapped), for collocates and n-grams."""
        with _trust.reading(self.gen_path / STREAM_FILE, self.path):
            return load_stream(self.gen_path)

    @cached_property
    def duplicates_arrays(self) -> dict[str, np.ndarray]:
        """Near-duplicate cluster per docnum (-1: none) and similarity to its first."""
        path = self.gen_path / DUPS_FILE
        if not path.is_file():
            n = len(self.live)
            return {"cluster": np.full(n, -1, np.int32),
                    "similarity": np.full(n, np.nan, np.float32)}
        with _trust.reading(path, self.path), np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}

    def close(self) -> None:
        """Release the searcher's files and the generation's reader lock."""
        self._closer()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has been called."""
        return not self._closer.alive

    def __len__(self) -> int:
        return int(self.live.sum())

    def __repr__(self) -> str:
        return f"<Snapshot {self.path}/{self.generation}: {len(self):,} articles>"

    # --- lookups ----------------------------------------------------------------------------

    def entity_status(self) -> EntityStatus:
        """How complete this generation's entities are, and how far a running extraction
        has got (read now, from ``entities-progress.json``)."""
        articles = len(self)
        covered = articles - self._pending if self._extracted else 0
        running, done = False, covered
        if self._extracted and self._pending:
            try:
                info = json.loads((self.path / store.ENTITY_PROGRESS).read_text("utf-8"))
                if info.get("generation") == self.generation and _alive(int(info["pid"])):
                    running, done = True, max(covered, min(int(info["done"]), articles))
            except (OSError, ValueError, KeyError, TypeError):
                pass  # no extraction running (or a file being replaced: next call)
        return EntityStatus(articles, covered, self._extracted, running, done)

    @cached_property
    def entity_names(self) -> list[str]:
        """Entity names by code (see ``entities`` for their types)."""
        return [n for n, _ in self.entities]

    @property
    def dated(self) -> bool:
        """Whether any live article has a date."""
        return bool((self.live & (self.day != NO_DAY)).any())

    def entity_docs(self, code: int) -> np.ndarray:
        """Docnums of the articles that mention entity ``code``."""
        return self._ent_order[self._ent_ptr[code] : self._ent_ptr[code + 1]]

    def entity_code(self, name: str, type_: str) -> int | None:
        """The number of an entity by name (case-insensitive) and type, or None."""
        return self._entity_code.get((name.casefold(), type_))

    @cached_property
    def _surface_rows(self) -> tuple[list[str], np.ndarray, dict[str, int]]:
        with _trust.reading(self.gen_path / store.MANIFEST, self.path, also=()):
            db = store.open_manifest_readonly(self.gen_path)
            try:
                rows = db.execute("SELECT word, df FROM surfaces ORDER BY df DESC, word"
                                  ).fetchall()
            finally:
                db.close()
        words = [w for w, _ in rows]
        return words, np.array([d for _, d in rows], dtype=np.int64), {
            w: i for i, w in enumerate(words)}

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Surface words of the corpus (lower case) and their article counts, commonest first."""
        words, dfs, _ = self._surface_rows
        return words, dfs

    def vocabulary_set(self) -> dict[str, int]:
        """Surface word -> its position in :meth:`vocabulary`."""
        return self._surface_rows[2]

    @cached_property
    def _surfaces(self) -> dict[str, list[tuple[str, int]]]:
        words, dfs, _ = self._surface_rows
        out: dict[str, list[tuple[str, int]]] = {}
        for word, df in zip(words, dfs.tolist(), strict=True):
            out.setdefault(analysis.stem(word), []).append((word, df))
        return out

    def surfaces(self) -> dict[str, list[tuple[str, int]]]:
        """Indexed stem -> surface words seen in the corpus with their article counts."""
        return self._surfaces

    def word_for(self, stem: str) -> str:
        """The surface word a reader knows for an indexed stem (its commonest form)."""
        forms = self._surfaces.get(stem)
        return forms[0][0] if forms else stem

    def entity_report(self) -> pd.DataFrame:
        """The corpus-level entity resolution's audit table of this generation."""
        path = self.gen_path / store.ENTITY_REPORT
        if not path.is_file():
            return pd.DataFrame(columns=list(RESOLUTION_COLUMNS))
        with _trust.reading(path, self.path):
            return pd.read_csv(path, keep_default_na=False)

    def articles(self) -> pd.DataFrame:
        """Every article of this generation: doc_id, title, outlet, date, words, entities."""
        with _trust.reading(self.gen_path / store.MANIFEST, self.path,
                            also=(pd.errors.DatabaseError,)):
            db = store.open_manifest_readonly(self.gen_path)
            try:
                df = pd.read_sql_query(
                    "SELECT doc_id, title, outlet, date, tokens AS words, "
                    "json_array_length(entities) AS entities FROM articles ORDER BY doc_id",
                    db)
            finally:
                db.close()
        df["outlet"] = df["outlet"].fillna("")
        df["date"] = pd.to_datetime(df["date"], format="ISO8601")
        return df


def load_snapshot(path: str | Path) -> Snapshot:
    """Open the generation ``path/CURRENT`` names (refusing folders this package did not
    write). If a build switches ``CURRENT`` while it is being opened, the generation
    first read is opened whole: its reader lock keeps it from being removed."""
    path = Path(path)
    for _ in range(_OPEN_TRIES - 1):
        try:
            return Snapshot(path, store.current_generation(path))
        except FileNotFoundError:  # CURRENT moved on and the old one went: read it again
            continue
    return Snapshot(path, store.current_generation(path))


_OPEN_TRIES = 5
