"""Reading only the source files that changed: what each file gave the last build.

A generation keeps, per source file the build read (``sources.npz``): the file's size,
modification time and inode, the context it was read in (its corpus folder, column map,
outlet, the reading code's version), and what reading it gave: per article its id,
source, outlet, where the outlet came from, content and text hashes and the hashes of its
lines that count for boilerplate; the file's skipped records and notes. The next build
(:class:`SourceFiles`) stats each file first: an unchanged file is not read again, its
articles come back as :class:`KnownArticle` records (no text), and what it skipped and
noted is reported again. The boilerplate of the corpus is counted from the line hashes
(:meth:`SourceFiles.boilerplate`), with the text of the lines kept when they reached
``BOILERPLATE_MIN_ARTICLES``, so it equals a full count. A known article whose text is
needed after all (it is indexed again because its outlet's boilerplate changed, or its
entities are re-typed) is read again from its file (:meth:`SourceFiles.full`).

A file modified less than :data:`QUIET_NS` before it was read (a later write in the same
clock tick could keep its size and time) is recorded with a digest of its bytes, taken
before and after reading it (not recorded when they differ); the next build uses the
record only if the file still has that digest. A file whose size, time or inode changed
while it was read is not recorded. The record is used only when the previous generation is
reused (same configuration, verified signature).
"""

from __future__ import annotations

import array
import dataclasses
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _analysis, _boilerplate, _corpus, _dates, _sources
from ._boilerplate import (
    BOILERPLATE_MAX_CHARS,
    BOILERPLATE_MIN_ARTICLES,
    BOILERPLATE_MIN_CHARS,
    BOILERPLATE_MIN_SHARE,
    Boilerplate,
    boilerplate_from_rows,
    countable_lines,
)
from ._corpus import Article, LoadReport, Skipped
from ._trust import READ_ERRORS

__all__ = ["SOURCES_FILE", "KnownArticle", "SourceFiles", "is_known"]

SOURCES_FILE = "sources.npz"
"""The generation file holding what each source file gave the build."""
QUIET_NS = 2_000_000_000
"""A file modified less than this long (ns) before it was read is checked by its digest."""
_VERSION = 1


@dataclass(frozen=True, slots=True)
class KnownArticle(Article):
    """An article of an unchanged source file, as the previous build read it: its id,
    source and outlet, and the hashes of its content; no title, text, date or url (see
    :meth:`SourceFiles.full` for the article itself)."""

    known_content_hash: str = ""
    known_text_hash: str = ""
    file: str = ""
    """The source file's path."""
    position: int = -1
    """Its place among the articles that file gave."""

    @property
    def content_hash(self) -> str:
        return self.known_content_hash

    @property
    def text_hash(self) -> str:
        return self.known_text_hash


def is_known(art: Article) -> bool:
    """Whether ``art`` is a :class:`KnownArticle` (its text was not read)."""
    return isinstance(art, KnownArticle)


_CODE: str | None = None


def _code_version() -> str:
    """A hash of the reading and line-counting code: records of another version are not
    used."""
    global _CODE
    if _CODE is None:
        h = hashlib.sha1(str(_VERSION).encode())
        for mod in (_corpus, _sources, _dates, _boilerplate, _analysis):
            h.update(Path(mod.__file__).read_bytes())
        _CODE = h.hexdigest()[:16]
    return _CODE


def _hashes(hexes: Iterable[str], n: int) -> np.ndarray:
    """Hex digests as one array (40 bytes each, not a ``str`` of 89 bytes each)."""
    return np.fromiter((h.encode("ascii") for h in hexes), dtype="S40", count=n)


@dataclass
class _File:
    """What one source file gave a build. For a file read this time, the per-article
    lists (``doc_ids``, ``wheres``, ``outlets``, ``origins``) are ``None``: they are its
    articles' (see :meth:`lists`), not held twice."""

    stat: list[int]
    context: str
    src_prefix: str
    given_prefix: str
    doc_ids: list[str] | None
    wheres: list[str] | None
    outlets: list[str] | None
    origins: list[str] | None
    content: np.ndarray
    """Each article's content hash (hex, ``S40``)."""
    text: np.ndarray
    """Each article's text hash (hex, ``S40``)."""
    ptr: np.ndarray
    hashes: np.ndarray
    skipped: list[list[str]]
    notes: list[list[str]]
    digest: str | None = None
    """BLAKE2b of the file, for a file modified just before it was read."""
    articles: list[Article] | None = None
    """The articles read this time (None: known from the previous generation)."""
    reread: Callable[[LoadReport], None] | None = None

    def lines_of(self, pos: int) -> np.ndarray:
        return self.hashes[self.ptr[pos]:self.ptr[pos + 1]]

    def __len__(self) -> int:
        return len(self.ptr) - 1

    def lists(self) -> tuple[list[str], list[str], list[str], list[str]]:
        """Each article's id, place in the file (``:line``, ``#row`` or ``""``), outlet and
        where the outlet came from."""
        if self.doc_ids is not None:
            assert self.wheres is not None and self.outlets is not None
            assert self.origins is not None
            return self.doc_ids, self.wheres, self.outlets, self.origins
        arts = self.articles
        assert arts is not None, "a file read this build keeps its articles"
        cut = len(self.src_prefix)
        return ([a.doc_id for a in arts], [a.source[cut:] for a in arts],
                [a.outlet for a in arts], [a.outlet_from for a in arts])

    def meta(self) -> dict:
        doc_ids, wheres, outlets, origins = self.lists()
        return {"stat": self.stat, "context": self.context, "src_prefix": self.src_prefix,
                "given_prefix": self.given_prefix, "doc_ids": doc_ids, "wheres": wheres,
                "outlets": outlets, "origins": origins,
                "content": [h.decode("ascii") for h in self.content.tolist()],
                "text": [h.decode("ascii") for h in self.text.tolist()],
                "skipped": self.skipped, "notes": self.notes, "digest": self.digest}


class _Places:
    """Where each article read this time is: ``id(article)`` -> (file number, position),
    kept as sorted arrays (16 bytes an article; a dict of tuples cost ~125) with the
    latest additions in a dict until there are enough to merge. A place is only trusted
    when the file's record still holds that very article (:meth:`SourceFiles._place_of`):
    an id can be reused once its article is gone."""

    MERGE_MIN = 1 << 16
    """Places held in the dict before they are merged (at least; or a quarter of those
    merged, so merging costs O(n log n) overall)."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self._numbers: dict[str, int] = {}
        # (int64: ids are addresses below 2**63; searching a uint64 array for a Python
        # int would convert the whole array to float64 on every call.)
        self._ids = np.zeros(0, dtype=np.int64)
        self._where = np.zeros(0, dtype=np.int64)  # file number << 32 | position
        self._new: dict[int, int] = {}

    def add(self, key: str, first: int, arts: Sequence[Article]) -> None:
        """Record ``arts`` at positions ``first``, ``first + 1``... of file ``key``."""
        f = self._numbers.setdefault(key, len(self.keys))
        if f == len(self.keys):
            self.keys.append(key)
        step = self.MERGE_MIN
        for at in range(0, len(arts), step):  # (a big file's in parts: a small dict)
            new = self._new
            for i, a in enumerate(arts[at:at + step], first + at):
                new[id(a)] = f << 32 | i
            if len(new) > max(self.MERGE_MIN, len(self._ids) // 4):
                self._merge()

    def _merge(self) -> None:
        ids = np.fromiter(self._new, dtype=np.int64, count=len(self._new))
        where = np.fromiter(self._new.values(), dtype=np.int64, count=len(self._new))
        # (A newer entry for an id replaces an older one: the older article is gone.)
        keep = ~np.isin(self._ids, ids)
        ids, where = np.concatenate([self._ids[keep], ids]), np.concatenate(
            [self._where[keep], where])
        order = np.argsort(ids, kind="stable")
        self._ids, self._where = ids[order], where[order]
        self._new = {}

    def get(self, art: Article) -> tuple[str, int] | None:
        """The file and position recorded for ``art``'s id (check it is ``art``)."""
        code = self._new.get(id(art))
        if code is None:
            i = int(np.searchsorted(self._ids, id(art)))
            if i == len(self._ids) or int(self._ids[i]) != id(art):
                return None
            code = int(self._where[i])
        return self.keys[code >> 32], code & 0xFFFFFFFF


def _digest(path: Path) -> str | None:
    """BLAKE2b of a file's bytes (None if it cannot be read)."""
    h = hashlib.blake2b(digest_size=20)
    try:
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    except OSError:
        return None
    return h.hexdigest()


def _line_hashes(body: str) -> dict[int, str]:
    return countable_lines(body, BOILERPLATE_MIN_CHARS, BOILERPLATE_MAX_CHARS)


class SourceFiles:
    """The source files of one build: reads the changed ones, replays the unchanged ones
    from the previous generation's record (see the module docstring)."""

    def __init__(self, previous: dict[str, _File] | None = None,
                 texts: dict[str, dict[int, str]] | None = None) -> None:
        self._old = previous or {}
        self._texts = texts or {}
        self._files: dict[str, _File] = {}
        self._unrecorded: set[str] = set()
        self._place = _Places()
        """Where each article read this time is (its file and position)."""
        self._renamed: dict[int, tuple[str, int, Article]] = {}
        """id(article) -> (file, position, the article), for known articles read again
        under another id (:meth:`full`)."""
        self._kept_texts: dict[str, dict[int, str]] = {}
        """Per outlet, the text of each line in ``BOILERPLATE_MIN_ARTICLES`` or more
        articles (found by :meth:`boilerplate`, recorded by :meth:`write`)."""
        self.replayed = 0
        """How many files were not read again."""

    @classmethod
    def open(cls, gen: Path | None) -> SourceFiles:
        """The record ``gen`` holds (an empty one when there is none or it cannot be
        used). Only for a generation whose signature was verified."""
        if gen is None or not (gen / SOURCES_FILE).is_file():
            return cls()
        try:
            with np.load(gen / SOURCES_FILE, allow_pickle=False) as f:
                meta = json.loads(f["meta"].tobytes().decode("ascii"))
                ptrs, hashes = f["ptr"], f["hashes"]
                text_hashes, text_outlets = f["text_hashes"], f["text_outlets"]
            if meta.get("version") != _code_version():
                return cls()
            files = {}
            at = 0
            for path, m, n in zip(meta["paths"], meta["files"], meta["counts"], strict=True):
                ptr = ptrs[at:at + n + 1] - ptrs[at]
                base = int(ptrs[at])
                m["content"] = _hashes(m["content"], len(m["content"]))
                m["text"] = _hashes(m["text"], len(m["text"]))
                files[path] = _File(**m, ptr=ptr,
                                    hashes=hashes[base:base + int(ptr[-1])])
                at += n + 1
            texts: dict[str, dict[int, str]] = {}
            for o, h, line in zip(text_outlets.tolist(), text_hashes.tolist(),
                                  meta["text_lines"], strict=True):
                texts.setdefault(meta["outlets"][o], {})[h] = line
            return cls(files, texts)
        except (*READ_ERRORS, OSError, ValueError, KeyError, TypeError):
            return cls()

    # --- reading ------------------------------------------------------------------------

    def read(self, path: Path, ctx: Any, read: Callable[[Any], None], extra: str = "") -> None:
        """Read ``path`` with ``read(ctx)`` (which appends to ``ctx.report``), unless the
        previous generation's record of it still holds: then replay that record."""
        key = str(path)
        report: LoadReport = ctx.report
        now = time.time_ns()
        try:
            st = os.stat(path)
            stat = [st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]
        except OSError:
            stat = None
        context = json.dumps([str(ctx.root), dataclasses.asdict(ctx.columns), ctx.outlet,
                              ctx.outlet_from, ctx.source(path), key, extra])
        old = self._old.get(key)
        if (stat is not None and old is not None and old.stat == stat
                and old.context == context
                and (old.digest is None or old.digest == _digest(path))):
            if old.digest is not None and stat[1] <= now - QUIET_NS:
                # Its bytes are those read, and a later write can no longer keep its time.
                old = dataclasses.replace(old, digest=None)
            self._replay(key, old, ctx, read, report)
            return
        # A file modified just now is recorded with its digest (the same before and
        # after reading it), which the next build checks as well as its size and time.
        racy = stat is None or stat[1] > now - QUIET_NS
        before = _digest(path) if racy else None
        marks = (len(report.articles), len(report.skipped), len(report.notes))
        read(ctx)
        articles = report.articles[marks[0]:]
        try:
            after = os.stat(path)
            same = stat == [after.st_size, after.st_mtime_ns, after.st_ino, after.st_dev]
        except OSError:
            same = False
        rec = self._record(key, stat, context, ctx, articles, report,
                           report.skipped[marks[1]:], report.notes[marks[2]:])
        if racy and rec is not None and same:
            rec.digest = before if before is not None and before == _digest(path) else None
            same = rec.digest is not None
        if rec is None or not same or stat is None:
            self._unrecorded.add(key)
        if rec is not None:
            rec.reread = lambda rep: read(dataclasses.replace(ctx, report=rep))
            self._files[key] = rec

    def _record(self, key: str, stat: list[int] | None, context: str, ctx: Any,
                articles: list[Article], report: LoadReport, skipped: list[Skipped],
                notes: list[Skipped]) -> _File | None:
        """What reading the file gave, with each article's line hashes (None when its
        articles' sources do not share the file's prefix)."""
        src_prefix = ctx.source(Path(key))
        cut = len(src_prefix)
        for a in articles:
            if not a.source.startswith(src_prefix):
                return None
            if report._given.get(a.source) != key + a.source[cut:]:
                return None
        ptr = np.zeros(len(articles) + 1, dtype=np.int64)
        flat = array.array("Q")  # (8 bytes a hash, not a 32-byte int and a pointer)
        for i, a in enumerate(articles):
            lines = _line_hashes(a.body)
            flat.extend(lines)
            ptr[i + 1] = len(flat)
        self._place.add(key, 0, articles)
        n = len(articles)
        return _File(stat=stat or [], context=context, src_prefix=src_prefix, given_prefix=key,
                     doc_ids=None, wheres=None, outlets=None, origins=None,
                     content=_hashes((a.content_hash for a in articles), n),
                     text=_hashes((a.text_hash for a in articles), n), ptr=ptr,
                     hashes=np.frombuffer(flat, dtype=np.uint64).copy(),
                     skipped=[[s.path, s.reason] for s in skipped],
                     notes=[[s.path, s.reason] for s in notes], articles=list(articles))

    def _replay(self, key: str, rec: _File, ctx: Any, read: Callable[[Any], None],
                report: LoadReport) -> None:
        self.replayed += 1
        rec = dataclasses.replace(rec, articles=None,
                                  reread=lambda rep: read(dataclasses.replace(ctx, report=rep)))
        self._files[key] = rec
        report._given.add(rec.src_prefix, rec.given_prefix)
        doc_ids, wheres, outlets, origins = rec.lists()
        for i, (d, w, o, f, c, t) in enumerate(zip(doc_ids, wheres, outlets, origins,
                                                   rec.content.tolist(), rec.text.tolist(),
                                                   strict=True)):
            report.articles.append(KnownArticle(
                doc_id=d, title="", body="", outlet=o, source=rec.src_prefix + w,
                outlet_from=f, known_content_hash=c.decode("ascii"),
                known_text_hash=t.decode("ascii"), file=key, position=i))
        report.skipped.extend(Skipped(p, r) for p, r in rec.skipped)
        report.notes.extend(Skipped(p, r) for p, r in rec.notes)

    # --- boilerplate ----------------------------------------------------------------------

    def _place_of(self, art: Article) -> tuple[str, int] | None:
        if isinstance(art, KnownArticle):
            return art.file, art.position
        renamed = self._renamed.get(id(art))
        if renamed is not None and renamed[2] is art:
            return renamed[:2]
        place = self._place.get(art)
        if place is None:
            return None
        rec = self._files.get(place[0])
        arts = rec.articles if rec is not None else None
        # (an id can be reused by an article of a later read of the same path, shorter)
        return (place if arts is not None and place[1] < len(arts) and arts[place[1]] is art
                else None)

    def content_hash(self, art: Article) -> str:
        """``art.content_hash``, as recorded when its file was read (not hashed again)."""
        place = self._place_of(art)
        rec = self._files.get(place[0]) if place is not None else None
        return rec.content[place[1]].decode("ascii") if rec is not None else art.content_hash

    def text_hash(self, art: Article) -> str:
        """``art.text_hash``, as recorded when its file was read (not hashed again)."""
        place = self._place_of(art)
        rec = self._files.get(place[0]) if place is not None else None
        return rec.text[place[1]].decode("ascii") if rec is not None else art.text_hash

    def boilerplate(self, articles: Iterable[Article], *,
                    min_share: float = BOILERPLATE_MIN_SHARE,
                    min_articles: int = BOILERPLATE_MIN_ARTICLES) -> Boilerplate:
        """The boilerplate of ``articles`` (the loaded, de-duplicated articles), equal to
        ``find_boilerplate`` over their outlets and bodies, from the line hashes."""
        outlets: dict[str, int] = {}
        per_outlet: dict[int, list[np.ndarray]] = {}
        n_articles: dict[int, int] = {}
        loose: list[tuple[int, dict[int, str]]] = []
        for art in articles:
            o = outlets.setdefault(art.outlet, len(outlets))
            n_articles[o] = n_articles.get(o, 0) + 1
            place = self._place_of(art)
            rec = self._files.get(place[0]) if place else None
            if rec is None:  # not from a recorded read (a renamed copy): count its text
                lines = _line_hashes(art.body)
                loose.append((o, lines))
                per_outlet.setdefault(o, []).append(np.fromiter(lines, np.uint64, len(lines)))
            else:
                per_outlet.setdefault(o, []).append(rec.lines_of(place[1]))
        names = list(outlets)
        rows: list[tuple[str, str, int, float]] = []
        keep_texts: dict[str, dict[int, str]] = {}
        for o, parts in per_outlet.items():
            outlet = names[o]
            hashes, counts = np.unique(np.concatenate(parts), return_counts=True)
            n = n_articles[o]
            need = max(min_articles, math.ceil(min_share * n - 1e-9))
            wanted = hashes[counts >= min_articles]
            texts = self._texts_for(outlet, wanted, loose, o)
            keep_texts[outlet] = texts
            for h, c in zip(hashes[counts >= need].tolist(), counts[counts >= need].tolist(),
                            strict=True):
                rows.append((outlet, texts[h], c, round(c / n, 4)))
        self._kept_texts = keep_texts
        return boilerplate_from_rows(rows)

    def _texts_for(self, outlet: str, wanted: np.ndarray, loose: list, o: int
                   ) -> dict[int, str]:
        """The text of each line hash in ``wanted``: kept from before, or found in an
        article read this time, or (rarely) in one read again from its file."""
        known = self._texts.get(outlet, {})
        out = {h: known[h] for h in wanted.tolist() if h in known}
        missing = set(wanted.tolist()) - set(out)
        for lo, lines in loose:
            if missing and lo == o:
                for h in missing & set(lines):
                    out[h] = lines[h]
                missing -= set(out)
        for read_again in (False, True):
            for key, rec in self._files.items():
                if not missing:
                    return out
                if (rec.articles is None) != read_again:
                    continue
                hit = np.flatnonzero(np.isin(rec.hashes, np.fromiter(missing, np.uint64)))
                if not len(hit):
                    continue
                arts = rec.articles if rec.articles is not None else self._read_again(key)
                for pos in sorted(set(np.searchsorted(rec.ptr, hit, side="right") - 1)):
                    if arts[pos].outlet == outlet:
                        lines = _line_hashes(arts[pos].body)
                        for h in missing & set(lines):
                            out[h] = lines[h]
                        missing -= set(out)
        if missing:
            raise RuntimeError(f"boilerplate lines of {outlet!r} not found again in their files")
        return out

    # --- known articles read again -----------------------------------------------------------

    def _read_again(self, key: str) -> list[Article]:
        rec = self._files[key]
        rep = LoadReport()
        assert rec.reread is not None
        rec.reread(rep)
        if [a.content_hash.encode("ascii") for a in rep.articles] != rec.content.tolist():
            raise _corpus.CorpusError(f"{key} changed during the build; build again")
        rec.articles = rep.articles
        self._place.add(key, 0, rep.articles)
        return rep.articles

    def full(self, arts: list[Article]) -> list[Article]:
        """``arts`` with each :class:`KnownArticle` replaced by the article itself, read
        again from its file (its id as in ``arts``)."""
        out = []
        for a in arts:
            if isinstance(a, KnownArticle):
                rec = self._files[a.file]
                read = rec.articles if rec.articles is not None else self._read_again(a.file)
                real = read[a.position]
                if real.doc_id != a.doc_id:
                    real = dataclasses.replace(real, doc_id=a.doc_id)
                    self._renamed[id(real)] = (a.file, a.position, real)
                a = real
            out.append(a)
        return out

    # --- the record ----------------------------------------------------------------------------

    def write(self, path: Path) -> None:
        """Write the record of this build's files (those read too recently, or changed
        while read, are left out: the next build reads them again)."""
        paths, metas, counts, ptrs, hashes = [], [], [], [], []
        offset = 0
        for key, rec in self._files.items():
            if key in self._unrecorded:
                continue
            paths.append(key)
            metas.append(rec.meta())
            counts.append(len(rec))
            ptrs.append(rec.ptr + offset)
            hashes.append(rec.hashes)
            offset += int(rec.ptr[-1])
        outlets: dict[str, int] = {}
        t_outlets, t_hashes, t_lines = [], [], []
        for outlet, texts in self._kept_texts.items():
            code = outlets.setdefault(outlet, len(outlets))
            for h, line in texts.items():
                t_outlets.append(code)
                t_hashes.append(h)
                t_lines.append(line)
        meta = {"version": _code_version(), "paths": paths, "files": metas, "counts": counts,
                "outlets": list(outlets), "text_lines": t_lines}
        with open(path, "wb") as fh:
            np.savez(fh, meta=np.frombuffer(json.dumps(meta).encode("ascii"), dtype=np.uint8),
                     ptr=np.concatenate(ptrs) if ptrs else np.zeros(0, dtype=np.int64),
                     hashes=np.concatenate(hashes) if hashes else np.zeros(0, dtype=np.uint64),
                     text_hashes=np.array(t_hashes, dtype=np.uint64),
                     text_outlets=np.array(t_outlets, dtype=np.int32))
