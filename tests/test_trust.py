"""Forged and foreign indexes run nothing: signatures, trust, restricted unpickling (issue 14.3)."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import stat
from pathlib import Path

import pytest
from whoosh.filedb.structfile import StructFile
from whoosh.util.varints import varint

import corpus_search as cs
from corpus_search import _store, _trust
from corpus_search._store import make_schema
from corpus_search.cli import main

SEEDS = Path(__file__).resolve().parents[1] / "corpus"


class _Payload:
    """Unpickling this runs ``code`` (what a forged index would do)."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple:
        return (exec, (self.code,))


class _System:
    """Unpickling this calls ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return (os.system, (self.command,))


def _evil_toc(toc: bytes, payload: object) -> bytes:
    """A Whoosh TOC with its pickled schema replaced by ``payload``."""
    f = StructFile(io.BytesIO(toc))
    for _ in range(3):
        f.read_varint()
    f.read_int()
    f.read_int()
    for _ in range(3):
        f.read_varint()
    start = f.tell()
    schema = f.read_string()
    end = f.tell()
    assert pickle.loads(schema)  # really the schema we are replacing
    evil = pickle.dumps(payload, 2)
    return toc[:start] + varint(len(evil)) + evil + toc[end:]


def _writes(target: Path) -> _Payload:
    return _Payload(f"open({str(target)!r}, 'w').write('pwned')")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A five-article index without entities (copied by each test that changes it)."""
    path = tmp_path_factory.mktemp("trust") / "ix"
    cs.build([SEEDS], path, entities=False, progress=False)
    return path


@pytest.fixture
def ix_dir(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built index."""
    dest = tmp_path / "ix"
    shutil.copytree(built, dest)
    return dest


def _gen(ix: Path) -> Path:
    return ix / (ix / "CURRENT").read_text().strip()


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert (code, len(err.strip().splitlines())) == (2, 1), err
    assert "Traceback" not in err
    return err


def test_forged_folder_runs_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CURRENT + a marker of the current format + a malicious TOC is refused before any
    unpickling."""
    real = tmp_path / "real"
    cs.build([SEEDS], real, entities=False, progress=False)
    toc = next(_gen(real).glob("_MAIN_*.toc")).read_bytes()
    pwned = tmp_path / "pwned"
    forged = tmp_path / "forged"
    (forged / "gen-000001").mkdir(parents=True)
    (forged / "CURRENT").write_text("gen-000001\n")
    (forged / "gen-000001" / "corpus_search.json").write_text(json.dumps({"format": _store.FORMAT}))
    (forged / "gen-000001" / "_MAIN_1.toc").write_bytes(_evil_toc(toc, _writes(pwned)))
    with pytest.raises(cs.UnsafeIndexError, match="not signed"):
        cs.open_index(forged)
    err = _one_line_exit_2(capsys, "search", "nato", "--index", str(forged))
    assert "not signed" in err
    assert not pwned.exists()


def test_swapped_toc_in_real_index_is_refused(ix_dir: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A real, signed index with only its TOC swapped is refused, naming the TOC."""
    pwned = tmp_path / "pwned"
    toc = next(_gen(ix_dir).glob("_MAIN_*.toc"))
    toc.write_bytes(_evil_toc(toc.read_bytes(), _writes(pwned)))
    with pytest.raises(cs.UnsafeIndexError, match=toc.name):
        cs.open_index(ix_dir)
    err = _one_line_exit_2(capsys, "search", "nato", "--index", str(ix_dir))
    assert toc.name in err
    assert not pwned.exists()


def test_restricted_unpickler_refuses_os_system_without_hmac(ix_dir: Path,
                                                             tmp_path: Path) -> None:
    """With the signature bypassed (re-signed), a TOC pickling os.system is still refused."""
    pwned = tmp_path / "pwned"
    toc = next(_gen(ix_dir).glob("_MAIN_*.toc"))
    toc.write_bytes(_evil_toc(toc.read_bytes(), _System(f"touch {pwned}")))
    cs.trust_index(ix_dir)  # the HMAC now matches: only the second wall is left
    with pytest.raises(cs.UnsafeIndexError, match="system"):
        cs.open_index(ix_dir)
    assert not pwned.exists()


def test_restricted_unpickler_refuses_builtins_beyond_the_list() -> None:
    """exec, getattr and dotted names are refused; a real schema loads."""
    for payload in (_Payload("1"), _System("true")):
        with pytest.raises(cs.UnsafeIndexError, match="refusing"):
            _trust.restricted_loads(pickle.dumps(payload, 4))
    dotted = b"\x80\x04\x8c\x0cwhoosh.index\x8c\tos.system\x93."
    with pytest.raises(cs.UnsafeIndexError):
        _trust.restricted_loads(dotted)
    assert make_schema().names() == _trust.restricted_loads(
        pickle.dumps(make_schema(), 2)).names()


def test_other_users_index_needs_trust(ix_dir: Path, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """An index signed with another key is refused until `corpus-search trust DIR`."""
    monkeypatch.setenv(_trust.SECRET_ENV, str(tmp_path / "someone-else" / "secret"))
    with pytest.raises(cs.UnsafeIndexError, match="another user"):
        cs.open_index(ix_dir)
    err = _one_line_exit_2(capsys, "search", "nato", "--index", str(ix_dir))
    assert f"corpus-search trust {ix_dir}" in err
    assert main(["trust", str(ix_dir)]) == 0
    assert cs.open_index(ix_dir).search("*").total == 5


def test_unsigned_index_is_refused_and_rebuilt(ix_dir: Path) -> None:
    """An unsigned index (older version) is refused on open; a build redoes it in full."""
    (_gen(ix_dir) / _trust.SIGNATURE).unlink()
    with pytest.raises(cs.UnsafeIndexError, match="trust"):
        cs.open_index(ix_dir)
    report = cs.build([SEEDS], ix_dir, entities=False, progress=False)
    assert (report.added, report.unchanged) == (5, 0)
    assert "rebuilt in full" in str(report)
    assert cs.open_index(ix_dir).search("*").total == 5


def test_secret_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The secret is created 0600 outside the index; a group-readable one is refused."""
    secret = tmp_path / "cfg" / "secret"
    monkeypatch.setenv(_trust.SECRET_ENV, str(secret))
    cs.build([SEEDS], tmp_path / "ix", entities=False, progress=False)
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert not any((tmp_path / "ix").rglob("secret"))
    secret.chmod(0o640)
    with pytest.raises(cs.IndexProblem, match="chmod 600"):
        cs.open_index(tmp_path / "ix")


def test_extra_toc_generation_is_refused(ix_dir: Path) -> None:
    """A file the build did not write (say a newer TOC Whoosh would prefer) is refused."""
    gen = _gen(ix_dir)
    shutil.copy(next(gen.glob("_MAIN_*.toc")), gen / "_MAIN_9.toc")
    with pytest.raises(cs.UnsafeIndexError, match=r"_MAIN_9\.toc"):
        cs.open_index(ix_dir)


def test_update_reuses_digests_and_stays_signed(ix_dir: Path, tmp_path: Path) -> None:
    """An incremental build signs the new generation; check --full finds nothing."""
    extra = tmp_path / "new.txt"
    extra.write_text("A new title\n\nA new body about Kyiv.\n")
    report = cs.build([SEEDS, extra], ix_dir, entities=False, progress=False)
    assert (report.added, report.unchanged) == (1, 5)
    assert len(cs.check_index(ix_dir, full=True)) == 0
    assert cs.open_index(ix_dir).search("*").total == 6


def test_endless_files_are_not_read(ix_dir: Path) -> None:
    """CURRENT, the marker or the signature linked to /dev/zero is refused, not read forever."""
    gen = _gen(ix_dir)
    for name in ("corpus_search.json", _trust.SIGNATURE):
        saved = (gen / name).read_bytes()
        (gen / name).unlink()
        (gen / name).symlink_to("/dev/zero")
        with pytest.raises(cs.UnsafeIndexError, match="refusing"):
            cs.open_index(ix_dir)
        (gen / name).unlink()
        (gen / name).write_bytes(saved)
    (ix_dir / "CURRENT").unlink()
    (ix_dir / "CURRENT").symlink_to("/dev/zero")
    with pytest.raises(cs.UnsafeIndexError, match="CURRENT"):
        cs.open_index(ix_dir)


def test_prehashed_digests_sign_only_files_unchanged_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A digest made ahead (``Prehash``) signs its file while the file's inode, size and
    time are unchanged; a file rewritten since (same size) is read and hashed again."""
    gen = tmp_path / "gen"
    gen.mkdir()
    for name in ("kept", "rewritten"):
        (gen / name).write_bytes(b"a" * 300_000)
    ahead = _trust.Prehash()
    for name in ("kept", "rewritten"):
        ahead.add(gen / name)
    assert len(ahead.digests()) == 2
    again = gen / "rewritten"
    old = again.stat()
    again.write_bytes(b"b" * 300_000)
    os.utime(again, ns=(old.st_atime_ns, old.st_mtime_ns + 1_000_000))
    expected = {}
    for name in ("kept", "rewritten"):
        with open(gen / name, "rb") as fh:
            expected[name] = _trust._full_digest(fh)
    read_whole: list[int] = []
    real = _trust._full_digest
    monkeypatch.setattr(_trust, "_full_digest", lambda fh: read_whole.append(1) or real(fh))
    sig = json.loads(_trust.sign(gen, prehashed=ahead).read_text("utf-8"))
    ahead.close()
    assert read_whole == [1]  # the rewritten file, not the kept one
    assert {n: sig["files"][n]["full"] for n in expected} == expected
    _trust.verify(gen, full=True)
