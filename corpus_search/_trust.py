"""Trusting an index folder: signatures, checksums, a restricted unpickler, one-line errors.

A Whoosh index unpickles its table of contents (the schema), its segment list, its
postings blocks and its stored fields, so opening a folder someone else wrote can run
their code. Two walls keep that from happening:

1. **A signature.** When a build has written a generation it records every file's name,
   size, a *quick* digest (BLAKE2b of the size, the first and last 64 KiB and 16 blocks of
   4 KiB spread through the middle) and a *full* digest (BLAKE2b of the whole file) in
   ``corpus_search.sig``, with an HMAC-SHA256 over that list keyed by a per-user secret
   kept outside the index (:func:`secret_path`: ``$CORPUS_SEARCH_SECRET_FILE``, else
   ``$XDG_CONFIG_HOME/corpus_search/secret``, else ``~/.config/corpus_search/secret``,
   created with mode 0600 on first use). :func:`verify` runs before anything in the
   generation is opened: the HMAC must match, the folder must hold exactly the signed
   files, and each file's size and quick digest must match (``full=True``: the whole-file
   digest too, as ``corpus-search check --full`` does). An index built by another user or
   on another machine is refused with a message naming :func:`trust_index`
   (``corpus-search trust DIR``), which re-signs it once the user says they trust it.
2. **A restricted unpickler.** :func:`guard_whoosh` replaces the ``loads``/``load`` names
   Whoosh's reading code uses (the TOC, segment lists, postings blocks, stored fields and
   pickled columns) with an unpickler that only builds an allow-list of classes: Whoosh's
   schema, analysis, format, column and codec classes, corpus_search's own classes, and a
   few builtins. The global :mod:`pickle` module is left alone.

Errors found while opening or writing an index become one-line
:class:`~corpus_search.IndexProblem` messages that name the file and say what to do
(:func:`reading`, :func:`writing`).
"""

from __future__ import annotations

import _compat_pickle
import contextlib
import errno
import hashlib
import hmac
import io
import json
import os
import pickle
import re
import secrets
import sqlite3
import stat
import struct
import traceback
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

import pandas as pd
from whoosh import columns, formats
from whoosh import index as whoosh_index
from whoosh.codec import whoosh3
from whoosh.filedb import structfile

from ._errors import IndexDamagedError, IndexProblem, UnsafeIndexError

__all__ = [
    "CHECK_COLUMNS",
    "READ_ERRORS",
    "SECRET_ENV",
    "SIGNATURE",
    "Prehash",
    "check_index",
    "guard_whoosh",
    "is_damage",
    "open_regular",
    "read_current",
    "read_small",
    "reading",
    "restricted_loads",
    "secret_path",
    "sign",
    "trust_index",
    "verify",
    "writing",
]

SIGNATURE = "corpus_search.sig"
"""The signature file inside each generation folder."""
SECRET_ENV = "CORPUS_SEARCH_SECRET_FILE"
"""Environment variable naming the secret file (tests, or a shared service account)."""
CHECK_COLUMNS = ("file", "problem")
"""Columns of :func:`check_index`'s table: one row per bad file."""
READ_ERRORS: tuple[type[BaseException], ...] = (
    pickle.UnpicklingError, zipfile.BadZipFile, json.JSONDecodeError, sqlite3.DatabaseError,
    zlib.error, struct.error, EOFError, UnicodeDecodeError, whoosh_index.IndexError)
"""Exceptions that mean an index file could not be decoded (damaged or not ours)."""

_SIG_VERSION = 1
_EDGE = 64 * 1024
_BLOCK = 4096
_SAMPLES = 16
_CURRENT_RE = re.compile(rb"(gen-\d{6})\n?")
_UNSIGNED = {"WRITELOCK"}  # Whoosh's (empty) writer lock, never read


def _rebuild_hint(index_dir: Path) -> str:
    return f"rebuild it: corpus-search build CORPUS_FOLDER --index {index_dir}"


# --- the secret ---------------------------------------------------------------------------


def secret_path() -> Path:
    """Where this user's signing secret lives (see the module docstring).

    Returns
    -------
    Path
        ``$CORPUS_SEARCH_SECRET_FILE`` if set, else ``$XDG_CONFIG_HOME/corpus_search/secret``,
        else ``~/.config/corpus_search/secret``.
    """
    env = os.environ.get(SECRET_ENV)
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "corpus_search" / "secret"


def _secret(create: bool) -> bytes | None:
    """The secret's bytes; made (0600) if missing and ``create``; None if missing."""
    path = secret_path()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        if not create:
            return None
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:  # another process made it first
            return _secret(create=False)
        except OSError as exc:
            raise IndexProblem(f"cannot create the signing secret {path} ({exc.strerror}); "
                               f"set {SECRET_ENV} to a writable file path") from None
        try:
            os.write(fd, secrets.token_hex(32).encode() + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        return _secret(create=False)
    except OSError as exc:
        raise IndexProblem(f"cannot read the signing secret {path} ({exc.strerror}); "
                           f"fix its permissions or set {SECRET_ENV}") from None
    try:
        st = os.fstat(fd)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise IndexProblem(f"the signing secret {path} must belong to you and be readable "
                               f"by you alone: chmod 600 {path}")
        key = os.read(fd, 4096).strip()
    finally:
        os.close(fd)
    if len(key) < 32:
        raise IndexProblem(f"the signing secret {path} is too short; delete it (a new one is "
                           "made; indexes signed with it must then be trusted again)")
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"corpus_search key id\0" + key).hexdigest()[:16]


# --- digests and signatures ------------------------------------------------------------


def _quick_digest(fh, size: int) -> str:
    """BLAKE2b of the size, the first and last 64 KiB and 16 blocks spread through the file."""
    h = hashlib.blake2b(str(size).encode(), digest_size=16)
    if size <= 2 * _EDGE + _SAMPLES * _BLOCK:
        h.update(fh.read())
        return h.hexdigest()
    fd = fh.fileno()
    h.update(os.pread(fd, _EDGE, 0))
    step = (size - 2 * _EDGE) // (_SAMPLES + 1)
    for i in range(1, _SAMPLES + 1):
        h.update(os.pread(fd, _BLOCK, _EDGE + i * step))
    h.update(os.pread(fd, _EDGE, size - _EDGE))
    return h.hexdigest()


def _full_digest(fh) -> str:
    h = hashlib.blake2b(digest_size=32)
    fh.seek(0)
    while chunk := fh.read(1 << 20):
        h.update(chunk)
    return h.hexdigest()


def open_regular(path: Path):
    """Open ``path`` for reading only if it is a regular file (not a link, FIFO or device,
    which could hang or flood a reader); raises OSError otherwise."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def read_small(path: Path, limit: int = 1 << 20) -> bytes:
    """The bytes of a small regular file (a marker, CURRENT, a signature), at most ``limit``."""
    with open_regular(path) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes", str(path))
    return data


def _signed_names(gen: Path) -> list[str]:
    return sorted(p.name for p in gen.iterdir()
                  if p.name != SIGNATURE and not p.name.endswith(tuple(_UNSIGNED)))


def _payload(files: dict[str, dict]) -> bytes:
    return json.dumps({"version": _SIG_VERSION, "files": files}, sort_keys=True,
                      separators=(",", ":")).encode()


def _read_signature(gen: Path, index_dir: Path) -> dict:
    path = gen / SIGNATURE
    try:
        data = read_small(path, 64 << 20)
    except FileNotFoundError:
        raise UnsafeIndexError(
            f"{gen} is not signed (built by an older corpus_search or not by corpus_search); "
            f"if you built it, trust it with `corpus-search trust {index_dir}`, "
            f"else {_rebuild_hint(index_dir)}") from None
    except OSError:
        data = b""  # a link, FIFO or device: not a signature this package wrote
    try:
        sig = json.loads(data)
        if not (isinstance(sig, dict) and isinstance(sig.get("files"), dict)
                and isinstance(sig.get("mac"), str) and isinstance(sig.get("key"), str)):
            raise ValueError
        for name, rec in sig["files"].items():
            if (not isinstance(rec, dict) or "/" in name
                    or not isinstance(rec.get("size"), int)
                    or not isinstance(rec.get("quick"), str)):
                raise ValueError
    except (ValueError, UnicodeDecodeError, OSError):
        raise UnsafeIndexError(f"{path} is not a valid signature; refusing to open "
                               f"{index_dir}; {_rebuild_hint(index_dir)}") from None
    return sig


class Prehash:
    """Full digests of finished files, made on a background thread ahead of
    :func:`sign` (hashing and reading let the GIL go): a build hashes its segment files
    while it goes on with steps that use one core, instead of reading them all back when
    it signs (at a million articles 22 GB, which no longer fit in the page cache: 56 s).

    A digest is used only for a file whose inode, size and modification time are those
    it had when it was hashed (and not changed while it was)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._futures: list = []

    def add(self, path: Path) -> None:
        """Hash ``path`` (a file nothing writes to any more) in the background."""
        self._futures.append(self._pool.submit(_stamped_digest, path))

    def digests(self) -> dict[tuple[int, int, int, int], str]:
        """(inode, device, size, mtime_ns) -> full digest of the files added, once all are
        hashed (those that could not be are left out)."""
        out = {}
        for fut in self._futures:
            with contextlib.suppress(OSError):
                got = fut.result()
                if got is not None:
                    out[got[0]] = got[1]
        return out

    def close(self) -> None:
        """Stop: what is not hashed yet is not (idempotent)."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _stamp(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_ino, st.st_dev, st.st_size, st.st_mtime_ns)


def _stamped_digest(path: Path) -> tuple[tuple[int, int, int, int], str] | None:
    with open_regular(path) as fh:
        before = _stamp(os.fstat(fh.fileno()))
        digest = _full_digest(fh)
        return (before, digest) if _stamp(os.fstat(fh.fileno())) == before else None


def sign(gen: str | Path, *, reuse: str | Path | None = None,
         prehashed: Prehash | None = None) -> Path:
    """Write ``gen``'s signature: every file's size and digests, HMAC'd with this user's key.

    Parameters
    ----------
    gen : str or Path
        A complete generation folder (every file written, nothing more to come).
    reuse : str or Path, optional
        The previous generation, already verified: files hard-linked from it (same inode
        and size) take its full digests instead of being read whole again.
    prehashed : Prehash, optional
        Files of ``gen`` already hashed: those unchanged since take that digest.

    Returns
    -------
    Path
        The signature file.
    """
    gen = Path(gen)
    key = _secret(create=True)
    assert key is not None
    ahead = prehashed.digests() if prehashed is not None else {}
    known: dict[tuple[int, int], str] = {}
    if reuse is not None:
        reuse = Path(reuse)
        with contextlib.suppress(IndexProblem, OSError):
            old = _read_signature(reuse, reuse.parent)
            for name, rec in old["files"].items():
                st = (reuse / name).stat()
                if st.st_size == rec["size"] and isinstance(rec.get("full"), str):
                    known[(st.st_ino, st.st_dev)] = rec["full"]

    def record(name: str) -> dict:
        with open_regular(gen / name) as fh:
            st = os.fstat(fh.fileno())
            return {"size": st.st_size, "quick": _quick_digest(fh, st.st_size),
                    "full": (known.get((st.st_ino, st.st_dev)) or ahead.get(_stamp(st))
                             or _full_digest(fh))}

    # Files are read and hashed on as many threads as cores (hashlib and reads let the
    # GIL go): a million articles' index is ~20 GB.
    names = _signed_names(gen)
    with ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1))) as pool:
        files = dict(zip(names, pool.map(record, names), strict=True))
    mac = hmac.new(key, _payload(files), hashlib.sha256).hexdigest()
    out = gen / SIGNATURE
    tmp = gen / f".{SIGNATURE}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump({"version": _SIG_VERSION, "key": _key_id(key), "mac": mac, "files": files},
                  fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    return out


def _problems(gen: Path, index_dir: Path, *, full: bool) -> list[tuple[str, str]]:
    """Check ``gen`` against its signature; raise if the signature itself is not ours,
    else return (file, problem) pairs for files that do not match."""
    sig = _read_signature(gen, index_dir)
    key = _secret(create=False)
    if key is None or not hmac.compare_digest(sig["key"], _key_id(key)):
        raise UnsafeIndexError(
            f"{index_dir} was built by another user or on another machine (it is not signed "
            f"with your key, {secret_path()}); if you trust whoever built it, run "
            f"`corpus-search trust {index_dir}` (cs.trust_index), else {_rebuild_hint(index_dir)}")
    want = hmac.new(key, _payload(sig["files"]), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig["mac"]):
        raise UnsafeIndexError(
            f"{gen / SIGNATURE} does not match the files it lists (changed after the build); "
            f"refusing to open {index_dir}; {_rebuild_hint(index_dir)}")
    signed: dict[str, dict] = sig["files"]
    present = _signed_names(gen)
    out: list[tuple[str, str]] = []
    for name in sorted(set(present) - set(signed)):
        out.append((str(gen / name), "not written by the build (unexpected file)"))
    for name in sorted(set(signed) - set(present)):
        out.append((str(gen / name), "missing"))
    for name in sorted(set(signed) & set(present)):
        rec = signed[name]
        try:
            with open_regular(gen / name) as fh:
                size = os.fstat(fh.fileno()).st_size
                if size != rec["size"]:
                    out.append((str(gen / name), f"size {size:,} bytes, built as "
                                f"{rec['size']:,} (truncated or overwritten)"))
                elif (_quick_digest(fh, size) != rec["quick"]
                      or (full and _full_digest(fh) != rec.get("full"))):
                    out.append((str(gen / name), "contents changed since the build"))
        except OSError as exc:
            out.append((str(gen / name), f"cannot be read ({exc.strerror})"))
    return out


def verify(gen: str | Path, *, full: bool = False) -> None:
    """Refuse a generation that is not signed by this user or whose files do not match.

    Runs before anything in ``gen`` is opened or unpickled.

    Parameters
    ----------
    gen : str or Path
        A generation folder (``index/gen-NNNNNN``).
    full : bool, default False
        Also compare each file's whole-file digest (reads every byte), not only its size
        and quick digest.

    Raises
    ------
    UnsafeIndexError
        Not signed, signed with another key, or the signature does not match its list.
    IndexDamagedError
        A file is missing, extra, truncated or changed (the first one is named).
    """
    gen = Path(gen)
    problems = _problems(gen, gen.parent, full=full)
    if problems:
        name, what = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise IndexDamagedError(
            f"{name} is damaged or was replaced: {what}{more}; refusing to open it; "
            f"{_rebuild_hint(gen.parent)}")


def read_current(index_dir: Path) -> str:
    """The generation name in ``index_dir/CURRENT``, checked to be ``gen-NNNNNN``."""
    cur = index_dir / "CURRENT"
    try:
        data = read_small(cur, 64)
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        data = b""
    m = _CURRENT_RE.fullmatch(data)
    if not m:
        raise UnsafeIndexError(f"{cur} does not name a corpus_search generation (gen-NNNNNN); "
                               f"refusing to open it; {_rebuild_hint(index_dir)} "
                               "into an empty folder")
    return m.group(1).decode("ascii")


def check_index(path: str | Path = "index", *, full: bool = False) -> pd.DataFrame:
    """Check the current generation of an index against the checksums of its build.

    Parameters
    ----------
    path : str or Path, default "index"
        The index folder.
    full : bool, default False
        Read every file whole and compare its full digest (catches damage anywhere);
        otherwise only sizes and quick digests, as every open does.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CHECK_COLUMNS` (``file``, ``problem``), one row per bad file;
        empty when the index is sound.

    Raises
    ------
    UnsafeIndexError
        The index is not signed with this user's key (see :func:`trust_index`).
    """
    index_dir = Path(path)
    _check_folder(index_dir)
    gen = index_dir / read_current(index_dir)
    rows = _problems(gen, index_dir, full=full)
    return pd.DataFrame(rows, columns=list(CHECK_COLUMNS))


def _check_folder(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexProblem(f"{index_dir} is a file, not an index folder")
    if not (index_dir / "CURRENT").is_file():
        raise IndexProblem(f"no index in {index_dir}/ yet; build one with "
                           f"`corpus-search build CORPUS_FOLDER --index {index_dir}`")


def trust_index(path: str | Path = "index") -> Path:
    """Sign an index built by someone else (or by an older version) with your own key.

    Only do this for an index you trust: opening it unpickles its files (a restricted
    unpickler still refuses classes outside Whoosh and corpus_search). Files are read
    whole and their digests recorded as they are now.

    Parameters
    ----------
    path : str or Path, default "index"
        The index folder; its current generation is signed.

    Returns
    -------
    Path
        The generation folder that was signed.
    """
    index_dir = Path(path)
    _check_folder(index_dir)
    gen = index_dir / read_current(index_dir)
    if not gen.is_dir() or gen.is_symlink():
        raise UnsafeIndexError(f"{index_dir}/CURRENT names {gen.name}, which is not a folder "
                               f"there; {_rebuild_hint(index_dir)}")
    with writing(index_dir):
        sign(gen)
    return gen


# --- the restricted unpickler ----------------------------------------------------------

_ALLOWED_MODULES = frozenset({
    "whoosh.fields", "whoosh.formats", "whoosh.columns", "whoosh.codec.whoosh3",
    "whoosh.codec.base", "whoosh.idsets", "whoosh.analysis.analyzers",
    "whoosh.analysis.filters", "whoosh.analysis.tokenizers", "whoosh.analysis.morph",
    "whoosh.analysis.intraword", "whoosh.analysis.ngrams", "whoosh.analysis.acore",
    "whoosh.lang.porter", "whoosh.scoring", "whoosh.sorting",
    "corpus_search._analysis", "corpus_search._postings",
})
"""Classes (only classes, defined in these very modules) the unpickler may build."""
_ALLOWED_GLOBALS = frozenset({
    ("builtins", n) for n in ("dict", "list", "tuple", "set", "frozenset", "int", "float",
                              "bool", "str", "bytes", "bytearray", "complex", "object")
} | {
    ("_codecs", "encode"), ("copyreg", "_reconstructor"), ("collections", "defaultdict"),
    ("collections", "OrderedDict"), ("re", "_compile"), ("array", "array"),
    ("array", "_array_reconstructor"), ("datetime", "datetime"), ("datetime", "date"),
    ("datetime", "time"), ("datetime", "timedelta"), ("datetime", "timezone"),
})
"""Other globals the unpickler may use (protocol-2 helpers, containers, dates)."""


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only allow-listed classes; anything else is refused before it is loaded."""

    def find_class(self, module: str, name: str) -> object:
        # Protocol-2 pickles name Python 2 modules (``__builtin__.long``): map them first,
        # as pickle itself does, so the check sees what would really be loaded.
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module in _ALLOWED_MODULES and "." not in name:
            obj = super().find_class(module, name)
            if isinstance(obj, type) and obj.__module__ == module:
                return obj
        raise UnsafeIndexError(
            f"an index file pickles {module}.{name}, which corpus_search never writes; "
            "refusing to load it (rebuild the index into an empty folder)")


def restricted_loads(data: bytes, **kw: object) -> object:
    """:func:`pickle.loads` that only builds allow-listed classes."""
    return _RestrictedUnpickler(io.BytesIO(data), encoding="latin1").load()


def _restricted_load(file, **kw: object) -> object:
    return _RestrictedUnpickler(file, encoding="latin1").load()


class _PickleModule:
    """Stands in for :mod:`pickle` inside ``whoosh.index``: reads restricted, writes as usual."""

    loads = staticmethod(restricted_loads)
    load = staticmethod(_restricted_load)

    def __getattr__(self, name: str) -> object:
        return getattr(pickle, name)


_GUARDED = False


def guard_whoosh() -> None:
    """Make Whoosh's reading code unpickle through the restricted unpickler (once).

    Patches the module-level names Whoosh reads pickles with: ``whoosh.index.pickle``
    (the TOC's schema), ``whoosh.filedb.structfile.load_pickle`` (segment lists, postings
    headers), and ``loads`` in ``whoosh.codec.whoosh3`` (postings blocks), ``whoosh.columns``
    (stored fields) and ``whoosh.formats`` (positions). Writing is unchanged.
    """
    global _GUARDED
    if _GUARDED:
        return
    whoosh_index.pickle = _PickleModule()
    structfile.load_pickle = _restricted_load
    for mod in (whoosh3, columns, formats):
        mod.loads = restricted_loads
    _GUARDED = True


# --- one-line errors at the file boundary -------------------------------------------------


_WHOOSH_READERS = tuple(str(Path(whoosh_index.__file__).parent / part)
                        for part in ("codec", "filedb", "columns.py", "formats.py"))


def is_damage(exc: BaseException) -> bool:
    """Whether ``exc`` means an index file could not be decoded: one of :data:`READ_ERRORS`,
    or any error raised inside Whoosh's file-reading code (its codec raises bare
    ``Exception("Block tag error")`` on a damaged postings file)."""
    if not isinstance(exc, Exception) or isinstance(exc, IndexProblem):
        return False
    if _is_read_error(exc):
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_filename.startswith(_WHOOSH_READERS)


def _is_read_error(exc: BaseException, also: tuple[type[BaseException], ...] = ()) -> bool:
    # sqlite's OperationalError is about the file's place (gone, locked), not its bytes.
    return (isinstance(exc, READ_ERRORS + also) and not isinstance(exc, IndexProblem)
            and not isinstance(exc, sqlite3.OperationalError))


def _describe(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


@contextlib.contextmanager
def reading(path: Path, index_dir: Path, *,
            also: tuple[type[BaseException], ...] = (OSError, ValueError, KeyError, IndexError,
                                                    TypeError)) -> Iterator[None]:
    """Turn a failure to decode ``path`` (an index file or folder) into one line.

    Parameters
    ----------
    path : Path
        The file (or generation folder) being read; an error's own file name wins.
    index_dir : Path
        The index folder, for the rebuild command.
    also : tuple of exception types
        Further exception types that mean "damaged" here (besides :data:`READ_ERRORS`).
    """
    try:
        yield
    except BaseException as exc:
        _close_whoosh_files(exc.__traceback__)
        if not _is_read_error(exc, also):
            raise
        # The frames the error unwound are done: drop their locals (Whoosh readers among
        # them) now, not when the garbage collector gets to the traceback's cycle.
        traceback.clear_frames(exc.__traceback__)
        name = getattr(exc, "filename", None) or path
        raise IndexDamagedError(
            f"{name} could not be read ({_describe(exc)}); run `corpus-search check --full "
            f"--index {index_dir}` to see what is damaged, then {_rebuild_hint(index_dir)}"
        ) from exc


def _close_whoosh_files(tb: TracebackType | None) -> None:
    """Close the files Whoosh had open in the frames an error unwound (it leaves them open,
    so they would be closed later by the garbage collector with a ResourceWarning)."""
    while tb is not None:
        for value in list(tb.tb_frame.f_locals.values()):
            if isinstance(value, structfile.StructFile):
                with contextlib.suppress(Exception):
                    value.close()
        tb = tb.tb_next


@contextlib.contextmanager
def writing(index_dir: Path) -> Iterator[None]:
    """Turn a failure to write into ``index_dir`` (disk full, read-only, a file in the way)
    into one line; the previous generation is untouched in every case."""
    try:
        yield
    except (FileExistsError, NotADirectoryError) as exc:
        raise IndexProblem(f"{exc.filename or index_dir} is a file, not a folder; give "
                           "--index a folder (new or holding an index)") from exc
    except OSError as exc:
        where = exc.filename or index_dir
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            what = "the disk is full (or over quota)"
        elif exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            what = f"it is not writable ({exc.strerror})"
        else:
            raise
        raise IndexProblem(f"cannot write the index in {index_dir}: {what} at {where}; the "
                           "previous index (if any) is unchanged; fix that and build again"
                           ) from exc
