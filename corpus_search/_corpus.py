"""Reading a corpus: folders of ``.txt``, CSV and JSONL files, into :class:`Article` records.

Nothing in a corpus stops a load. Every file or record that cannot be used is listed in
:attr:`LoadReport.skipped` with its path (and line or row) and the reason; files that were
read with a fallback encoding, or dates that could not be parsed, are listed in
:attr:`LoadReport.notes` and still loaded.

Text files: the first non-empty line is the title, the rest is the body. A folder may hold
a ``metadata.csv`` sidecar with a ``file`` column and any of outlet, date, url, title
columns: those values are given to the named text files.

Outlets: a path may come with its own outlet and columns (:class:`Source`,
``parse_source_arg("RT.csv=RT")``), a folder may carry a ``sources.csv``, and otherwise the
outlet is inferred from the URL host or a one-outlet table's file name; every article
records where its outlet came from (``Article.outlet_from``; the order is in ``_sources``),
:meth:`LoadReport.outlet_summary` counts them and :attr:`LoadReport.warnings` names
articles left without one. Dates are parsed by ``_dates.parse_date`` (naive UTC).

Safety: folders are walked with ``lstat``; FIFOs, sockets, devices, broken symlinks and
folders that cannot be listed are skipped with a reason and never opened; symlinks leading
out of a corpus folder are skipped unless ``follow_links=True``. Size limits apply before
anything is read whole: ``.txt`` files over :data:`MAX_FILE_BYTES`, tables over
:data:`MAX_TABLE_BYTES` (by ``fstat``), and CSV/JSONL records over
:data:`MAX_RECORD_CHARS` (tables are streamed line by line) are skipped."""

from __future__ import annotations

import codecs
import contextlib
import csv
import dataclasses
import hashlib
import io
import json
import os
import re
import stat
import sys
import tempfile
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import pandas as pd

from ._dates import parse_date, to_iso
from ._errors import CorpusError
from ._sources import (
    _CANDIDATES,
    SOURCES_FILE,
    ColumnMap,
    Source,
    is_sources_file,
    outlet_from_filename,
    outlet_from_url,
    read_sources_file,
)

__all__ = [
    "OUTLET_SUMMARY_COLUMNS",
    "Article",
    "ColumnMap",
    "LoadReport",
    "Skipped",
    "Source",
    "load_corpus",
    "parse_date",
]

MAX_FILE_BYTES = 5_000_000
"""A ``.txt`` file larger than this is skipped as over-size."""
MAX_TABLE_BYTES = 100_000_000_000
"""A CSV or JSONL file larger than this is skipped as over-size. Tables are streamed a
record at a time and their texts kept on disk while building, so memory does not limit
their size (a 1M-article JSONL is ~4 GB); this only stops a disk image or a dump given
by mistake."""
MAX_RECORD_CHARS = 5_000_000
"""A JSONL line or CSV row longer than this is skipped without being held whole."""
MAX_TITLE_CHARS = 300
"""A first line longer than this is not a title: the article is loaded untitled."""

class _Spill:
    """Article texts of one load, written to an unnamed temporary file as they are read
    and read back when asked: a load holds the articles' metadata, not their text, so a
    build's memory does not grow with the corpus's size. The file has no name on disk (it
    goes when the load's articles do, or with the process, however it ends)."""

    def __init__(self) -> None:
        fd, name = tempfile.mkstemp(prefix="corpus-search-texts-")
        try:
            os.unlink(name)  # nameless from now on (POSIX)
            weakref.finalize(self, os.close, fd)
        except OSError:  # a system that cannot unlink an open file: at close, then
            weakref.finalize(self, _close_and_remove, fd, name)
        self._fd = fd
        self._end = 0
        # This spill's kind of _Spilled: its references are ints that know their spill
        # through their class.
        self._ref = type("_Spilled", (_Spilled,), {"__slots__": (), "spill": self})

    def put(self, text: str) -> _Spilled:
        """Write ``text``; returns what reads it back."""
        data = text.encode("utf-8", "surrogatepass")
        if len(data) > _SIZE_MASK:
            raise ValueError(f"a text of {len(data):,} bytes cannot be spilled")
        os.pwrite(self._fd, data, self._end)
        ref = self._ref(self._end << 32 | len(data))
        self._end += len(data)
        return ref

    def get(self, offset: int, size: int) -> str:
        """The text written at ``offset`` (``size`` bytes)."""
        return self.get_bytes(offset, size).decode("utf-8", "surrogatepass")

    def put_bytes(self, data: bytes) -> int:
        """Write ``data``; returns its offset."""
        os.pwrite(self._fd, data, self._end)
        self._end += len(data)
        return self._end - len(data)

    def get_bytes(self, offset: int, size: int) -> bytes:
        """The ``size`` bytes written at ``offset``."""
        return os.pread(self._fd, size, offset)


def _close_and_remove(fd: int, name: str) -> None:
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(name)


_SIZE_MASK = 0xFFFFFFFF


class _Spilled(int):
    """Where one article's text is in its load's :class:`_Spill` (an :class:`Article`
    pickles with the text itself): ``offset << 32 | size`` as an ``int`` of the subclass
    its spill made (:meth:`_Spill.put`), whose ``spill`` is that spill. One int an
    article (~36 bytes) where an object holding the spill, offset and size cost ~116:
    a build holds one per article (session 13: ~80 MB at a million articles)."""

    __slots__ = ()
    spill: _Spill

    @property
    def offset(self) -> int:
        """Where the text starts in the spill file."""
        return int(self) >> 32

    @property
    def size(self) -> int:
        """The text's size in bytes (UTF-8)."""
        return int(self) & _SIZE_MASK

    def __bool__(self) -> bool:
        """Always true, like the object it stands for (an empty text at offset 0 too)."""
        return True

    def read(self) -> str:
        """The text."""
        return self.spill.get(int(self) >> 32, int(self) & _SIZE_MASK)


class _Text:
    """The ``body`` field: its slot holds a ``str`` or a :class:`_Spilled` text, read as a
    ``str`` (put on the slotted class in place of the slot's own descriptor, which it
    wraps)."""

    def __init__(self, slot: Any) -> None:
        self._slot = slot

    def __get__(self, obj: object, owner: type | None = None) -> str:
        if obj is None:
            return self  # type: ignore[return-value]
        value = self._slot.__get__(obj, owner)
        return value if type(value) is str else value.read()

    def __set__(self, obj: object, value: str | _Spilled) -> None:
        self._slot.__set__(obj, value)


@dataclass(frozen=True, slots=True)
class Article:
    """One article as read from the corpus.

    A loaded article's ``body`` is kept on disk until read (see ``_Spill``); it reads as a
    ``str`` like any other field. (Slotted: a build holds one per article, ~100 bytes
    less each than with a ``__dict__``.)"""

    doc_id: str
    title: str
    body: str
    outlet: str = ""
    date: datetime | None = None
    url: str = ""
    source: str = ""
    """Where it came from: a path, with ``:line`` or ``#row`` for tables."""
    outlet_from: str = ""
    """Where the outlet came from: one of ``_sources.OUTLET_ORIGINS``. When not given (an
    Article made by hand), ``"given"`` if it has an outlet, else ``"none"``."""

    def __post_init__(self) -> None:
        if not self.outlet_from:
            object.__setattr__(self, "outlet_from", "given" if self.outlet else "none")

    def held_body(self) -> str | _Spilled:
        """The body as this article holds it: a ``str``, or where it is in its load's
        spill file (``.read()`` reads it)."""
        return _BODY_SLOT.__get__(self, Article)

    def __reduce__(self) -> tuple:
        """Pickled with its text (a spilled text belongs to this process's load)."""
        return (type(self), tuple(getattr(self, f.name) for f in dataclasses.fields(self)))

    @property
    def content_hash(self) -> str:
        """A hash of everything that is indexed about the article."""
        h = hashlib.sha1()
        for part in (self.title, self.body, self.outlet, to_iso(self.date) or "", self.url):
            h.update(part.encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    @property
    def text_hash(self) -> str:
        """A hash of the text alone, used to find exact duplicates."""
        norm = " ".join((self.title + "\n" + self.body).split())
        return hashlib.sha1(norm.encode("utf-8", "surrogatepass")).hexdigest()


_BODY_SLOT = Article.body
Article.body = _Text(_BODY_SLOT)  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class Skipped:
    """A file or record that was not loaded, and why."""

    path: str
    reason: str


OUTLET_SUMMARY_COLUMNS = ("outlet", "outlet_from", "articles")
"""Columns of :meth:`LoadReport.outlet_summary`."""


_PLACE_IN_FILE = re.compile(r"[:#][0-9]+\Z")  # a table's ":line" (JSONL) or "#row" (CSV)


class _Given:
    """Each article's path as the caller spelt it, by its source, for reports: kept per
    file (an article's source is its file's source and its place in the file, its given
    path the file's given path and the same place), not as one string per article."""

    def __init__(self) -> None:
        self._files: dict[str, str] = {}

    def add(self, source: str, given: str) -> None:
        """Articles whose source is ``source`` (a file's) or ``source`` followed by a
        ``:line`` or ``#row`` were given as ``given`` (followed by the same)."""
        self._files[source] = given

    def get(self, source: str, default: str | None = None) -> str | None:
        """The given path of the article from ``source`` (``default`` if unknown)."""
        given = self._files.get(source)
        if given is not None:
            return given
        at = _PLACE_IN_FILE.search(source)
        if at is not None:
            given = self._files.get(source[:at.start()])
            if given is not None:
                return given + source[at.start():]
        return default

    def __eq__(self, other: object) -> bool:
        """The same given paths (two loads of the same files compare equal)."""
        return isinstance(other, _Given) and self._files == other._files

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dict it replaced


@dataclass
class LoadReport:
    """What a load produced: articles, and everything that was skipped or noted."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Skipped] = field(default_factory=list)
    duplicates: list[Skipped] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """One line each: things the user should act on (articles without an outlet)."""
    _given: _Given = field(default_factory=lambda: _Given(), repr=False)
    """article source -> the path as the caller spelt it, for reports"""
    _spill: _Spill | None = field(default=None, repr=False, compare=False)
    """where the loaded articles' texts are kept (None: in memory)"""

    def outlet_summary(self) -> pd.DataFrame:
        """Articles per outlet and where that outlet came from.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`OUTLET_SUMMARY_COLUMNS`: outlet (``""`` when none), outlet_from
            (one of ``OUTLET_ORIGINS``), articles; one row per (outlet, outlet_from),
            most articles first.
        """
        counts = Counter((a.outlet, a.outlet_from) for a in self.articles)
        rows = [(o, f, n) for (o, f), n in sorted(counts.items(),
                                                  key=lambda kv: (-kv[1], kv[0]))]
        return pd.DataFrame(rows, columns=list(OUTLET_SUMMARY_COLUMNS)).astype(
            {"articles": "int64"})


# --- decoding -------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str | None]:
    """Decode file bytes; returns the text and a note when not plain UTF-8.

    Raises ``ValueError`` for data that looks binary.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16 with BOM; decoded as UTF-16"
    if b"\x00" in data[:65536]:
        raise ValueError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
        note = None
    except UnicodeDecodeError:
        try:
            text, note = data.decode("cp1252"), "not UTF-8; decoded as cp1252"
        except UnicodeDecodeError:
            text, note = data.decode("latin-1"), "not UTF-8; decoded as latin-1"
    controls = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * min(len(text), 65536) + 2:
        raise ValueError("binary file (control characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n"), note


def _clean(text: str) -> str:
    """Drop stray control characters (a lone NUL, form feeds) and trailing blanks."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text).strip()


def split_title(text: str) -> tuple[str, str]:
    """Split plain text into (title, body): the first non-empty line is the title."""
    text = text.strip()
    first, _, rest = text.partition("\n")
    first = first.strip()
    if len(first) > MAX_TITLE_CHARS:
        return "", text
    return first, rest.strip()


# --- readers --------------------------------------------------------------------------


@dataclass
class _Context:
    root: Path
    columns: ColumnMap
    outlet: str
    """the outlet given for this file (by a Source, a sources file or the whole load)"""
    report: LoadReport
    outlet_from: str = "given"
    """where ``outlet`` came from: ``"given"`` or ``"sources file"``"""

    _last: tuple[Path, str] | None = field(default=None, init=False, repr=False)

    def source(self, path: Path) -> str:
        """Where an article came from, the same whatever the working directory: the
        path below the corpus folder, led by that folder's own name. (Kept for the
        last path: the articles of one CSV or JSONL file share it, and resolving the
        folder costs a system call per path component.)"""
        if self._last is not None and self._last[0] == path:
            return self._last[1]
        name = self.root.resolve().name
        rel = _rel(path, self.root)
        out = f"{name}/{rel}" if name else rel
        self._last = (path, out)
        return out


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _open_regular(path: Path, limit: int, ctx: _Context) -> BinaryIO | None:
    """Open ``path`` for reading only if it is a regular, non-empty file within ``limit``.

    The file is opened non-blocking and checked with ``fstat`` before any byte is read,
    so a FIFO or device that slipped past the folder walk is never waited on.
    """
    try:
        fd = os.open(path, os.O_RDONLY | _O_NONBLOCK)
    except OSError as exc:
        ctx.report.skipped.append(Skipped(str(path), f"unreadable: {exc.strerror or exc}"))
        return None
    try:
        st = os.fstat(fd)
        problem = None
        if not stat.S_ISREG(st.st_mode):
            problem = f"not a regular file ({_kind(st.st_mode)})"
        elif st.st_size == 0:
            problem = "empty file"
        elif st.st_size > limit:
            problem = f"over-size file ({st.st_size:,} bytes; limit {limit:,})"
        if problem:
            os.close(fd)
            ctx.report.skipped.append(Skipped(str(path), problem))
            return None
        if _O_NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except OSError as exc:
        os.close(fd)
        ctx.report.skipped.append(Skipped(str(path), f"unreadable: {exc.strerror or exc}"))
        return None


def _read_bytes(path: Path, limit: int, ctx: _Context) -> bytes | None:
    fh = _open_regular(path, limit, ctx)
    if fh is None:
        return None
    try:
        with fh:
            return fh.read(limit + 1)
    except OSError as exc:
        ctx.report.skipped.append(Skipped(str(path), f"unreadable: {exc.strerror or exc}"))
        return None


def _decode_file(path: Path, data: bytes, ctx: _Context) -> str | None:
    try:
        text, note = decode(data)
    except ValueError as exc:
        ctx.report.skipped.append(Skipped(str(path), str(exc)))
        return None
    if note:
        ctx.report.notes.append(Skipped(str(path), note))
    return text


_SNIFF_BYTES = 65536


def _stream_encoding(fh: BinaryIO) -> tuple[str, str | None]:
    """The encoding of a whole file, found in 1 MB steps (never the whole file in memory),
    with the note :func:`decode` would give. Raises ``ValueError`` for binary data."""
    head = fh.read(_SNIFF_BYTES)
    fh.seek(0)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "UTF-16 with BOM; decoded as UTF-16"
    if b"\x00" in head:
        raise ValueError("binary file (contains NUL bytes)")
    chosen: tuple[str, str | None] = ("latin-1", "not UTF-8; decoded as latin-1")
    for enc, note in (("utf-8-sig", None), ("cp1252", "not UTF-8; decoded as cp1252")):
        dec = codecs.getincrementaldecoder(enc)()
        try:
            while chunk := fh.read(1 << 20):
                dec.decode(chunk)
            dec.decode(b"", final=True)
        except UnicodeDecodeError:
            fh.seek(0)
            continue
        chosen = (enc, note)
        break
    fh.seek(0)
    text = head.decode(chosen[0], errors="replace")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > 0.01 * len(text) + 2:
        raise ValueError("binary file (control characters)")
    return chosen


def _open_table(path: Path, ctx: _Context) -> TextIO | None:
    """A table file as a text stream (newlines made ``\\n``), or ``None`` when skipped."""
    fh = _open_regular(path, MAX_TABLE_BYTES, ctx)
    if fh is None:
        return None
    try:
        enc, note = _stream_encoding(fh)
    except ValueError as exc:
        fh.close()
        ctx.report.skipped.append(Skipped(str(path), str(exc)))
        return None
    except OSError as exc:
        fh.close()
        ctx.report.skipped.append(Skipped(str(path), f"unreadable: {exc.strerror or exc}"))
        return None
    if note:
        ctx.report.notes.append(Skipped(str(path), note))
    return io.TextIOWrapper(fh, encoding=enc, newline=None)


def _bounded_lines(fh: TextIO, path: Path, ctx: _Context) -> Iterator[tuple[int, str]]:
    """(line number, line) of a text stream; a line over ``MAX_RECORD_CHARS`` is skipped
    (and listed) without ever being held whole, and an empty line is given in its place."""
    limit = MAX_RECORD_CHARS
    lineno = 0
    while True:
        line = fh.readline(limit + 1)
        if not line:
            return
        lineno += 1
        if len(line) > limit and not line.endswith("\n"):
            size = len(line)
            while (more := fh.readline(1 << 20)) and not more.endswith("\n"):
                size += len(more)
            size += len(more)
            ctx.report.skipped.append(Skipped(
                f"{path}:{lineno}", f"over-long record ({size:,}+ characters on one line; "
                                    f"limit {limit:,}); skipped unread"))
            line = "\n"
        yield lineno, line


_HOSTLIKE = re.compile(r"(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}/?", re.IGNORECASE)


def _make_article(ctx: _Context, given: str, source: str, place: str, doc_id: str,
                  title: str, body: str, outlet: str, date_value: object, url: str, *,
                  outlet_origin: str = "column", file_outlet: str | None = None
                  ) -> Article | None:
    """One article, or ``None`` (listed as skipped) when it has no body. ``given`` and
    ``source`` are its file's path as given and as a source; ``place`` its ``:line`` or
    ``#row`` in a table (``""`` for a text file).

    ``outlet`` is the one the data names (from ``outlet_origin``); when empty, the given
    outlet, the URL's host and then ``file_outlet`` (a table file's name) are tried.
    """
    title, body = _clean(title or ""), _clean(body or "")
    if not body:
        ctx.report.skipped.append(
            Skipped(given + place, "no body text" + (" (title only)" if title else "")))
        return None
    try:
        date = parse_date(date_value)
    except ValueError as exc:
        ctx.report.notes.append(Skipped(given + place, f"{exc}; date left empty"))
        date = None
    url = str(url or "").strip()
    outlet = " ".join(str(outlet or "").split())
    if _HOSTLIKE.fullmatch(outlet):  # a domain column: www.rt.com -> RT
        outlet = outlet_from_url(outlet) or outlet
    origin = outlet_origin
    if not outlet:
        candidates = ((ctx.outlet, ctx.outlet_from),
                      (outlet_from_url(url) if url else None, "url host"),
                      (file_outlet, "file name"))
        outlet, origin = next(((" ".join(str(c).split()), f) for c, f in candidates
                               if c and str(c).strip()), ("", "none"))
    ctx.report._given.add(source, given)
    spill = ctx.report._spill
    # (An outlet's name is one string for all its articles, not one each.)
    return Article(doc_id=doc_id, title=title, body=body if spill is None else spill.put(body),
                   outlet=sys.intern(outlet), date=date, url=url, source=source + place,
                   outlet_from=origin)


def _read_sidecar(folder: Path, ctx: _Context) -> dict[str, dict[str, str]]:
    path = folder / "metadata.csv"
    if not path.is_file():
        return {}
    fh = _open_table(path, ctx)
    if fh is None:
        return {}
    out: dict[str, dict[str, str]] = {}
    with fh:
        csv.field_size_limit(MAX_RECORD_CHARS)
        try:
            for row in csv.DictReader(line for _, line in _bounded_lines(fh, path, ctx)):
                name = (row.get("file") or row.get("filename") or "").strip()
                if name:
                    out[name] = {k.strip().lower(): (v or "").strip() for k, v in row.items()
                                 if isinstance(k, str)}
        except (csv.Error, OSError, UnicodeDecodeError) as exc:
            ctx.report.skipped.append(Skipped(str(path), f"bad metadata.csv from here: {exc}"))
    return out


def _header(path: Path) -> list[str]:
    """The first row of a CSV, reading at most 64 KB."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
            return next(csv.reader([fh.readline(65536)]), [])
    except (OSError, csv.Error):
        return []


def _is_sidecar(path: Path) -> bool:
    if path.name != "metadata.csv":
        return False
    cols = {h.strip().lower() for h in _header(path)}
    return bool(cols & {"file", "filename"}) and not cols & set(_CANDIDATES["text"])


def _read_txt(path: Path, ctx: _Context, sidecar: dict[str, dict[str, str]]) -> None:
    data = _read_bytes(path, MAX_FILE_BYTES, ctx)
    if data is None:
        return
    text = _decode_file(path, data, ctx)
    if text is None:
        return
    title, body = split_title(_clean(text))
    meta = sidecar.get(path.name, {})
    art = _make_article(ctx, str(path), ctx.source(path), "",
                        _rel(path, ctx.root).removesuffix(".txt"),
                        meta.get("title") or title, body, meta.get("outlet", ""),
                        meta.get("date"), meta.get("url", ""), outlet_origin="metadata.csv")
    if art:
        ctx.report.articles.append(art)


def _records_from_table(path: Path, rows: Iterable[tuple[str, dict]], ctx: _Context,
                        columns: Sequence[str] | None) -> None:
    """Turn table rows into articles. ``columns`` is the header of a CSV; ``None`` means
    each row (a JSONL object) names its own fields, so columns are resolved per row."""
    resolved: dict[tuple[str, ...], dict[str, str | None] | str] = {}

    def resolve(keys: Sequence[str]) -> dict[str, str | None] | str:
        key = tuple(keys)
        if key not in resolved:
            try:
                cols = ctx.columns.resolve(keys)
                resolved[key] = cols if cols["text"] is not None else (
                    f"no text column found (columns: {', '.join(map(str, keys))}); "
                    "name it with --text-col")
            except KeyError as exc:
                resolved[key] = f"column {exc.args[0]!r} not found (columns: {', '.join(keys)})"
        return resolved[key]

    if columns is not None:
        cols = resolve(columns)
        if isinstance(cols, str):
            ctx.report.skipped.append(Skipped(str(path), cols))
            return
    rel = _rel(path, ctx.root)
    file_outlet = outlet_from_filename(path)
    given, source = str(path), ctx.source(path)
    for where, row in rows:
        if columns is None:
            cols = resolve([k for k in row if isinstance(k, str)])
            if isinstance(cols, str):
                ctx.report.skipped.append(Skipped(f"{path}{where}", cols))
                continue

        def get(fld: str, row: dict = row, cols: dict = cols) -> object:
            col = cols[fld]
            return row.get(col) if col is not None else None

        text = get("text")
        if text is not None and not isinstance(text, str):
            text = str(text)
        title = get("title")
        rid = get("id")
        doc_id = f"{rel}#{str(rid).strip()}" if rid not in (None, "") else f"{rel}{where}"
        art = _make_article(ctx, given, source, where, doc_id,
                            "" if title is None else str(title), text or "",
                            "" if get("outlet") is None else str(get("outlet")), get("date"),
                            "" if get("url") is None else str(get("url")),
                            file_outlet=None if cols["outlet"] is not None else file_outlet)
        if art:
            ctx.report.articles.append(art)


def _read_csv(path: Path, ctx: _Context) -> None:
    fh = _open_table(path, ctx)
    if fh is None:
        return
    with fh:
        _read_csv_stream(path, fh, ctx)


def _read_csv_stream(path: Path, fh: TextIO, ctx: _Context) -> None:
    csv.field_size_limit(MAX_RECORD_CHARS)
    reader = csv.reader(line for _, line in _bounded_lines(fh, path, ctx))
    try:
        header = next(reader)
    except (StopIteration, csv.Error, UnicodeDecodeError) as exc:
        ctx.report.skipped.append(Skipped(str(path), f"no CSV header ({exc or 'empty'})"))
        return
    header = [h.strip() for h in header]

    def rows() -> Iterable[tuple[str, dict]]:
        rowno = 1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                ctx.report.skipped.append(Skipped(f"{path}:{reader.line_num}", f"bad CSV: {exc}"))
                return
            except (OSError, UnicodeDecodeError) as exc:
                ctx.report.skipped.append(Skipped(f"{path}:{reader.line_num}",
                                                  f"unreadable from here: {exc}"))
                return
            rowno += 1
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                ctx.report.notes.append(Skipped(
                    f"{path}#{rowno}", f"ragged row: {len(values)} cells for {len(header)} "
                                       "columns; missing cells left empty, extra cells ignored"))
            yield f"#{rowno}", dict(zip(header, values, strict=False))

    _records_from_table(path, rows(), ctx, header)


def _read_jsonl(path: Path, ctx: _Context) -> None:
    fh = _open_table(path, ctx)
    if fh is None:
        return
    count = 0

    def counted() -> Iterator[tuple[str, dict]]:
        nonlocal count
        for rec in _jsonl_records(path, fh, ctx):
            count += 1
            yield rec

    with fh:
        _records_from_table(path, counted(), ctx, None)
    if not count and not any(s.path.startswith(f"{path}:") for s in ctx.report.skipped):
        ctx.report.skipped.append(Skipped(str(path), "no records"))


def _jsonl_records(path: Path, fh: TextIO, ctx: _Context) -> Iterator[tuple[str, dict]]:
    try:
        for lineno, line in _bounded_lines(fh, path, ctx):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                ctx.report.skipped.append(Skipped(f"{path}:{lineno}", f"broken JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                ctx.report.skipped.append(
                    Skipped(f"{path}:{lineno}", f"not a JSON object but {type(obj).__name__}"))
                continue
            yield f":{lineno}", obj
    except (OSError, UnicodeDecodeError) as exc:
        ctx.report.skipped.append(Skipped(str(path), f"unreadable from here: {exc}"))


_READERS = {".csv": _read_csv, ".jsonl": _read_jsonl, ".ndjson": _read_jsonl}


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"),
                       (stat.S_ISDIR, "folder")):
        if test(mode):
            return name
    return "special file"


def _iter_files(root: Path, report: LoadReport, follow_links: bool) -> list[Path]:
    """The regular files under ``root``, sorted; everything else is listed as skipped.

    Every entry is looked at with ``lstat`` before anything is opened: FIFOs, sockets and
    devices are skipped (never opened, so never waited on), broken symlinks are skipped,
    folders that cannot be listed are skipped, and a symlink whose target lies outside
    ``root`` is skipped unless ``follow_links``. Hidden files and folders are passed over.
    """
    try:
        st = root.stat()
    except OSError as exc:
        report.skipped.append(Skipped(str(root), f"unreadable: {exc.strerror or exc}"))
        return []
    if not stat.S_ISDIR(st.st_mode):
        if stat.S_ISREG(st.st_mode):
            return [root]
        report.skipped.append(Skipped(str(root), f"not a regular file ({_kind(st.st_mode)})"))
        return []
    real_root = root.resolve()
    seen_dirs = {real_root}
    files: list[Path] = []
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            report.skipped.append(
                Skipped(str(folder), f"unreadable folder: {exc.strerror or exc}"))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            try:
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    try:
                        target = path.resolve(strict=True)
                    except (OSError, RuntimeError):
                        report.skipped.append(
                            Skipped(str(path), "broken symlink (its target does not exist)"))
                        continue
                    if not follow_links and not target.is_relative_to(real_root):
                        report.skipped.append(Skipped(
                            str(path), f"symlink leads out of the corpus folder (to {target});"
                                       " not followed (follow_links=True or --follow-links "
                                       "to read it)"))
                        continue
                    st = os.stat(path)
                    if stat.S_ISDIR(st.st_mode):
                        if target in seen_dirs or real_root.is_relative_to(target):
                            report.skipped.append(Skipped(
                                str(path), "symlink to a folder already read; not followed"))
                            continue
                        seen_dirs.add(target)
            except OSError as exc:
                report.skipped.append(Skipped(str(path), f"unreadable: {exc.strerror or exc}"))
                continue
            if stat.S_ISDIR(st.st_mode):
                stack.append(path)
            elif stat.S_ISREG(st.st_mode):
                files.append(path)
            else:
                report.skipped.append(Skipped(str(path),
                                              f"not a regular file ({_kind(st.st_mode)})"))
    return sorted(files)


def _sources_in(files: list[Path], report: LoadReport) -> list[tuple[str, Source]]:
    """The entries of every ``sources.csv`` among ``files``, most specific path first."""
    entries: list[tuple[str, Source]] = []
    for path in files:
        if path.name != SOURCES_FILE or not _is_table_kind(path, is_sources_file):
            continue
        try:
            sources, problems = read_sources_file(path)
        except (OSError, csv.Error) as exc:
            report.skipped.append(Skipped(str(path), f"unreadable sources file: {exc}"))
            continue
        report.skipped.extend(Skipped(str(path), f"row {p}") for p in problems)
        entries.extend((os.path.abspath(src.path), src) for src in sources)
    entries.sort(key=lambda e: -len(e[0]))
    return entries


def _is_table_kind(path: Path, test: Callable[[Sequence[str], str], bool]) -> bool:
    return test(_header(path), path.name)


def _entry_for(path: Path, entries: list[tuple[str, Source]]) -> Source | None:
    here = os.path.abspath(path)
    for target, src in entries:
        if here == target or here.startswith(target + os.sep):
            return src
    return None


def load_corpus(paths: Sequence[str | Path | Source], columns: ColumnMap | None = None,
                outlet: str = "", *, follow_links: bool = False) -> LoadReport:
    """Read every article under ``paths`` (folders are read recursively).

    Parameters
    ----------
    paths : sequence of str, Path or Source
        Files and folders; a :class:`Source` carries its own outlet and column names
        (``parse_source_arg("RT.csv=RT")`` makes one from a command-line argument). A
        folder's ``sources.csv`` (``path,outlet[,text_col,...]``) does the same for the
        paths it names.
    columns : ColumnMap, optional
        The columns of CSV/JSONL files, for sources that name none (detected when not
        given).
    outlet : str, default ""
        The outlet of articles that name none and whose source gives none.
    follow_links : bool, default False
        Follow symlinks that lead out of a corpus folder (they are skipped otherwise).

    Returns
    -------
    LoadReport
        Articles (each with ``outlet_from``), and everything skipped, noted or found
        duplicate; :meth:`LoadReport.outlet_summary` and :attr:`LoadReport.warnings`
        say where outlets came from. Exact duplicate texts are loaded once.
    """
    return read_corpus(paths, columns, outlet, follow_links=follow_links, reads=None)


def read_corpus(paths: Sequence[str | Path | Source], columns: ColumnMap | None,
                outlet: str, *, follow_links: bool, reads: object | None) -> LoadReport:
    """:func:`load_corpus`, each file read through ``reads`` when given (a build's
    ``_sourcefiles.SourceFiles``: ``reads.read(path, ctx, read, extra)`` reads the file
    with ``read(ctx)`` or replays what it gave the previous build)."""
    report = LoadReport(_spill=_Spill())
    columns = columns or ColumnMap()
    if not paths:
        raise CorpusError("no corpus path given")
    for raw in paths:
        src = raw if isinstance(raw, Source) else Source(Path(raw))
        root = src.path
        if not root.exists():
            raise CorpusError(f"no such file or folder: {root}")
        base = _Context(root if root.is_dir() else root.parent, src.columns or columns,
                        src.outlet or outlet, report)
        sidecars: dict[Path, dict[str, dict[str, str]]] = {}
        files = _iter_files(root, report, follow_links)
        entries = _sources_in(files, report) if root.is_dir() else []
        for path in files:
            ctx = base
            entry = _entry_for(path, entries)
            if entry is not None:
                ctx = dataclasses.replace(
                    base, columns=src.columns or entry.columns or columns,
                    outlet=src.outlet or entry.outlet or outlet,
                    outlet_from="given" if src.outlet or not entry.outlet else "sources file")
            suffix = path.suffix.lower()
            if suffix == ".txt":
                if path.name.upper() == "README.TXT":
                    report.notes.append(Skipped(str(path), "README file, not an article"))
                    continue
                if path.parent not in sidecars:
                    sidecars[path.parent] = _read_sidecar(path.parent, ctx)
                meta = sidecars[path.parent]
                _read_one(reads, path, ctx, lambda c, p=path, m=meta: _read_txt(p, c, m),
                          json.dumps(meta.get(path.name, {}), sort_keys=True))
            elif suffix in _READERS:
                if suffix == ".csv" and (_is_sidecar(path) or (
                        path.name == SOURCES_FILE and _is_table_kind(path, is_sources_file))):
                    continue
                _read_one(reads, path, ctx, lambda c, p=path, r=_READERS[suffix]: r(p, c))
            elif root.is_file():
                report.skipped.append(Skipped(str(path), f"unsupported file type {suffix!r}"))
            else:
                kind = suffix or "no suffix"
                report.skipped.append(
                    Skipped(str(path), f"not a .txt, .csv or .jsonl file ({kind})"))
    _dedupe(report, reads)
    _warn_outlets(report)
    return report


def _read_one(reads: Any, path: Path, ctx: _Context, read: Callable[[_Context], None],
              extra: str = "") -> None:
    if reads is None:
        read(ctx)
    else:
        reads.read(path, ctx, read, extra)


def _warn_outlets(report: LoadReport) -> None:
    missing = [a for a in report.articles if not a.outlet]
    if missing:
        n = len(missing)
        report.warnings.append(
            f"{n} article{'s have' if n > 1 else ' has'} no outlet (first: "
            f"{report._given.get(missing[0].source, missing[0].source)}); give one per source "
            '(RT.csv=RT, NBC.csv="NBC News"), add an outlet or URL column, or list the paths '
            f"in a {SOURCES_FILE} (path,outlet)")


def _dedupe(report: LoadReport, reads: Any = None) -> None:
    seen_text: dict[str, str] = {}
    seen_id: dict[str, int] = {}
    kept: list[Article] = []
    for art in report.articles:
        # a property that hashes the whole text: once (or as ``reads`` recorded it)
        text_hash = art.text_hash if reads is None else reads.text_hash(art)
        first = seen_text.get(text_hash)
        if first is not None:
            report.duplicates.append(Skipped(report._given.get(art.source, art.source),
                                             f"exact duplicate of {first}"))
            continue
        doc_id = art.doc_id
        if doc_id in seen_id:  # two roots with the same relative name, or repeated ids
            seen_id[doc_id] += 1
            doc_id = f"{doc_id}~{seen_id[art.doc_id]}"
            report.notes.append(Skipped(report._given.get(art.source, art.source),
                                        f"id {art.doc_id!r} already used; "
                                                    f"given {doc_id!r}"))
            art = dataclasses.replace(art, doc_id=doc_id)
        seen_id.setdefault(doc_id, 1)
        seen_text[text_hash] = art.doc_id
        kept.append(art)
    report.articles = kept
