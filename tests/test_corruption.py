"""Damaged index files and failed writes end in one line and exit 2, never silently (issue 14.5)."""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _build, _store, _trust
from corpus_search.cli import main
from corpus_search.synthetic import write

SEEDS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthetic articles without entities: every kind of file, flat postings included."""
    root = tmp_path_factory.mktemp("corruption")
    corpus = write(root / "synthetic.jsonl", 300)
    cs.build([corpus], root / "ix", entities=False, progress=False)
    return root / "ix"


@pytest.fixture
def ix_dir(built: Path, tmp_path: Path) -> Path:
    """A private copy of the built index."""
    dest = tmp_path / "ix"
    shutil.copytree(built, dest)
    return dest


def _gen(ix: Path) -> Path:
    return ix / (ix / "CURRENT").read_text().strip()


def _zero(start: int, length: int | None = None) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        size = path.stat().st_size
        begin = start if start >= 0 else size + start
        n = size - begin if length is None else length
        with open(path, "r+b") as fh:
            fh.seek(begin)
            fh.write(b"\0" * n)
    return damage


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x80\x03corrupt" * 7)


def _remove(path: Path) -> None:
    path.unlink()


DAMAGE = {
    "toc garbage": ("_MAIN_*.toc", _garbage),
    "toc truncated": ("_MAIN_*.toc", _truncate),
    "pst head zeroed": ("*.pst", _zero(0, 4096)),
    "pst truncated": ("*.pst", _truncate),
    "trm tail zeroed": ("*.trm", _zero(-100)),
    "trm missing": ("*.trm", _remove),
    "stored fields zeroed": ("*._stored.col", _zero(0, 1000)),
    "doc_id column truncated": ("*.doc_id.col", _truncate),
    "columns.npz garbage": ("columns.npz", _garbage),
    "vocab.json truncated": ("vocab.json", _truncate),
    "marker garbage": ("corpus_search.json", _garbage),
    "manifest zeroed": ("manifest.sqlite", _zero(0, 100)),
    "flat docs zeroed": ("*.csp.docs", _zero(0)),
    "flat docs truncated": ("*.csp.docs", _truncate),
    "flat freqs zeroed": ("*.csp.freqs*", _zero(0)),
    "flat ends garbage": ("*.csp.ends.npy", _garbage),
    "flat terms truncated": ("*.csp.terms", _truncate),
}


def _damage(ix: Path, kind: str) -> Path:
    pattern, how = DAMAGE[kind]
    path = next(_gen(ix).glob(pattern))
    how(path)
    return path


def _one_line_exit_2(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    err = capsys.readouterr().err
    assert (code, len(err.strip().splitlines())) == (2, 1), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_damaged_file_is_named_on_open(ix_dir: Path, kind: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Each kind of damage is refused on open with one line naming the file."""
    path = _damage(ix_dir, kind)
    with pytest.raises(cs.IndexDamagedError, match=path.name.replace(".", r"\.")):
        cs.open_index(ix_dir)
    err = _one_line_exit_2(capsys, "search", "the", "--index", str(ix_dir))
    assert path.name in err
    assert f"--index {ix_dir}" in err  # says how to rebuild


SECOND_WALL = ["toc garbage", "toc truncated", "pst truncated",
               "trm tail zeroed", "stored fields zeroed", "columns.npz garbage",
               "vocab.json truncated", "flat docs truncated", "flat ends garbage"]


@pytest.mark.parametrize("kind", SECOND_WALL)
def test_damage_behind_a_matching_checksum_is_one_line(ix_dir: Path, kind: str,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    """Damage the checksums cannot see (re-signed) still ends in one line, exit 2."""
    with cs.open_index(ix_dir) as ix:  # before the damage: words spread over the postings
        words, dfs = ix.snapshot().vocabulary()
    rare_words = [w for w, df in zip(words, dfs, strict=True) if 2 < df < 60 and w.isalpha()]
    spread = rare_words[::max(1, len(rare_words) // 240)]
    rare = [" OR ".join(spread[i:i + 60]) for i in range(0, len(spread), 60)]
    for query in rare:
        assert main(["search", query, "--index", str(ix_dir)]) == 0  # fine on the sound index
    capsys.readouterr()
    _damage(ix_dir, kind)
    cs.trust_index(ix_dir)
    for query in ("the", *rare, "*"):  # flat postings, Whoosh's postings, stored fields
        code = main(["search", query, "--limit", "300", "--index", str(ix_dir)])
        captured = capsys.readouterr()
        if code:
            break
    assert code == 2, captured.out[-300:]
    assert len(captured.err.strip().splitlines()) == 1, captured.err
    assert "could not be read" in captured.err


def test_check_full_finds_damage_the_quick_check_misses(ix_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """Zeros mid-.pst pass the quick digest; check --full names it (and each bad file)."""
    pst = next(_gen(ix_dir).glob("*.pst"))
    size = pst.stat().st_size
    step = (size - 2 * 65536) // 17
    _zero(65536 + step // 2, 1000)(pst)  # between two sampled blocks
    assert len(cs.check_index(ix_dir)) == 0
    assert main(["check", "--index", str(ix_dir)]) == 0
    capsys.readouterr()
    assert [str(pst)] == cs.check_index(ix_dir, full=True)["file"].tolist()
    docs = _damage(ix_dir, "flat docs zeroed")
    assert main(["check", "--full", "--index", str(ix_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3  # two files, one summary
    assert {pst.name, docs.name} == {line.split(": ")[1].split("/")[-1] for line in err[:2]}


def test_check_sound_index(ix_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """check --full on an untouched index exits 0 with an empty table."""
    assert main(["check", "--full", "--index", str(ix_dir)]) == 0
    assert "every file matches" in capsys.readouterr().out
    assert list(cs.CHECK_COLUMNS) == list(cs.check_index(ix_dir).columns)


def test_binary_current_is_one_line(ix_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Binary bytes in CURRENT are refused in one line (no UnicodeDecodeError)."""
    (ix_dir / "CURRENT").write_bytes(b"\xff\xfegen-\x00\x01\n")
    with pytest.raises(cs.UnsafeIndexError, match="CURRENT"):
        cs.open_index(ix_dir)
    _one_line_exit_2(capsys, "search", "the", "--index", str(ix_dir))


def test_disk_full_during_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """ENOSPC while writing a generation: one line, exit 2, the old index intact."""
    ix = tmp_path / "ix"
    cs.build([SEEDS], ix, entities=False, progress=False)
    extra = tmp_path / "more.txt"
    extra.write_text("One more\n\nAnother article about Kyiv.\n")

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(ix / "gen-000002.tmp"))

    monkeypatch.setattr(_build, "_write_columns", full)
    err = _one_line_exit_2(capsys, "build", str(SEEDS), str(extra), "--no-entities",
                           "--index", str(ix))
    assert "disk is full" in err
    assert cs.open_index(ix).search("*").total == 5
    assert list(ix.glob("gen-*.tmp*")) == []


def test_read_only_index_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """A read-only index folder (EROFS on the lock) is one line, exit 2."""
    ix = tmp_path / "ix"
    cs.build([SEEDS], ix, entities=False, progress=False)
    real_open = os.open

    def read_only(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path).endswith(_store.LOCK):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    err = _one_line_exit_2(capsys, "build", str(SEEDS), "--no-entities", "--index", str(ix))
    assert "not writable" in err


def test_index_naming_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--index naming a file is one line, exit 2, for build and search."""
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    err = _one_line_exit_2(capsys, "build", str(SEEDS), "--no-entities", "--index", str(path))
    assert "is a file" in err
    _one_line_exit_2(capsys, "search", "the", "--index", str(path))
    assert path.read_text() == "mine"


def test_unreadable_secret_checks_nothing_silently(ix_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """check_index with another user's key raises instead of reporting a clean index."""
    monkeypatch.setenv(_trust.SECRET_ENV, str(tmp_path / "other" / "secret"))
    with pytest.raises(cs.UnsafeIndexError, match="another user"):
        cs.check_index(ix_dir, full=True)


def test_damaged_manifest_behind_checksum_names_it(ix_dir: Path) -> None:
    """A manifest damaged behind a matching checksum is named when articles() reads it."""
    path = _damage(ix_dir, "manifest zeroed")
    cs.trust_index(ix_dir)
    with cs.open_index(ix_dir) as ix, pytest.raises(cs.IndexDamagedError,
                                                    match=r"manifest\.sqlite could not be read"):
        ix.articles()
    assert path.exists()
