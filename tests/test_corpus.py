"""Loading corpora: text folders, CSV, JSONL, metadata, dates, ids and bad files."""

from __future__ import annotations

import json
import os
import pickle
import tempfile
import threading
import tracemalloc
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from corpus_search import _corpus
from corpus_search._analysis import strip_furniture
from corpus_search._boilerplate import find_boilerplate
from corpus_search._corpus import ColumnMap, LoadReport, _Spill, _Spilled, load_corpus, parse_date
from corpus_search._dates import DATE_FORMAT, to_iso

SEEDS = Path(__file__).resolve().parents[1] / "corpus"


def test_seeds_load_with_outlets_from_metadata() -> None:
    """The five seeds load with the outlets that metadata.csv gives them."""
    report = load_corpus([SEEDS])
    outlets = {a.doc_id: a.outlet for a in report.articles}
    assert outlets == {
        "000_681841e30ad004f4": "NBC News",
        "001_03f7df105f449af6": "",
        "002_6774853757ba448b": "RT",
        "003_c672599c6d8cd13a": "TVN24",
        "004_de08d329854fef43": "Voice of America",
    }
    assert report.skipped == []
    assert all(a.date is None for a in report.articles)


def test_title_is_first_line(tmp_path: Path) -> None:
    """The first non-empty line is the title; the rest is the body."""
    (tmp_path / "a.txt").write_text("\n\nA headline\n\nFirst para.\r\nSecond line.\n")
    (art,) = load_corpus([tmp_path]).articles
    assert (art.title, art.body) == ("A headline", "First para.\nSecond line.")


def test_ids_are_stable(tmp_path: Path) -> None:
    """The same input gives the same ids on every load."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.txt").write_text("T\n\nbody one")
    (tmp_path / "t.jsonl").write_text(json.dumps({"title": "J", "text": "body two"}) + "\n")
    first = [a.doc_id for a in load_corpus([tmp_path]).articles]
    second = [a.doc_id for a in load_corpus([tmp_path]).articles]
    assert first == ["sub/x", "t.jsonl:1"]
    assert first == second


def test_source_does_not_depend_on_how_the_path_is_spelt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same folder given as absolute, relative or via '..' gives the same sources."""
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("Title\nBody text.", encoding="utf-8")
    (folder / "b.csv").write_text("title,text\nT,Some text\n", encoding="utf-8")
    monkeypatch.chdir(folder / "sub")
    spellings = [folder, Path("..") / ".." / "news", Path("..")]
    sources = [sorted(a.source for a in load_corpus([p]).articles) for p in spellings]
    assert sources == [["news/b.csv#2", "news/sub/a.txt"]] * 3


def test_csv_columns_detected(tmp_path: Path) -> None:
    """CSV columns are found by their common names, in any case."""
    (tmp_path / "a.csv").write_text(
        "Headline,Body,Publisher,Published,Link\n"
        'Hello,"Body with, comma\nand newline",RT,2022-06-11T00:57:56Z,https://x.org/1\n'
    )
    (art,) = load_corpus([tmp_path]).articles
    assert (art.title, art.body, art.outlet) == ("Hello", "Body with, comma\nand newline", "RT")
    assert datetime(2022, 6, 11, 0, 57, 56) == art.date
    assert art.url == "https://x.org/1"


def test_explicit_columns(tmp_path: Path) -> None:
    """Columns can be named explicitly when their names are unusual."""
    (tmp_path / "a.jsonl").write_text(json.dumps({"h": "T", "words": "The body", "w": "X"}))
    cols = ColumnMap(title="h", text="words", outlet="w")
    (art,) = load_corpus([tmp_path], columns=cols).articles
    assert (art.title, art.body, art.outlet) == ("T", "The body", "X")


def test_missing_text_column_is_reported(tmp_path: Path) -> None:
    """A CSV with no text column is skipped with the columns it has."""
    (tmp_path / "a.csv").write_text("title,foo\nx,y\n")
    report = load_corpus([tmp_path])
    assert report.articles == []
    assert "no text column" in report.skipped[0].reason
    assert "title, foo" in report.skipped[0].reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-01-09", datetime(2022, 1, 9)),
        ("2022-06-11T00:57:56", datetime(2022, 6, 11, 0, 57, 56)),
        ("2022-06-11T00:57:56Z", datetime(2022, 6, 11, 0, 57, 56)),
        ("2022-06-11T02:57:56+02:00", datetime(2022, 6, 11, 0, 57, 56)),
        ("9 January 2022", datetime(2022, 1, 9)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: datetime | None) -> None:
    """Dates in the usual forms parse; missing stays missing."""
    assert expected == parse_date(value)


@pytest.mark.parametrize("garbage", ["yesterday-ish", "12", "2022-13-45", "not a date"])
def test_garbage_date_raises(garbage: str) -> None:
    """Garbage is not silently turned into a date."""
    with pytest.raises(ValueError):
        parse_date(garbage)


def test_garbage_date_keeps_article(tmp_path: Path) -> None:
    """An article with a garbage date is loaded undated, with a note."""
    (tmp_path / "a.csv").write_text("title,text,date\nT,Body,soon\n")
    report = load_corpus([tmp_path])
    assert len(report.articles) == 1
    assert report.articles[0].date is None
    assert "not a date" in report.notes[0].reason


def test_bad_files_are_skipped_with_reasons(tmp_path: Path) -> None:
    """Empty, binary and over-size files are skipped and named; good files still load."""
    (tmp_path / "good.txt").write_text("Title\n\nBody")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (tmp_path / "big.txt").write_bytes(b"Title\n\n" + b"word " * 1_100_000)
    (tmp_path / "title-only.txt").write_text("Just a title\n")
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["good"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["big.txt"].startswith("over-size file")
    assert reasons["title-only.txt"].startswith("no body text")


def test_encodings_fall_back(tmp_path: Path) -> None:
    """latin-1/cp1252 and UTF-16 files are decoded and reported."""
    (tmp_path / "cp.txt").write_bytes("Caf\u00e9 \u2019quote\u2019\n\nbody".encode("cp1252"))
    (tmp_path / "u16.txt").write_bytes("Title \u0416\n\nbody".encode("utf-16"))
    report = load_corpus([tmp_path])
    titles = sorted(a.title for a in report.articles)
    assert titles == ["Caf\u00e9 \u2019quote\u2019", "Title \u0416"]
    notes = sorted(n.reason for n in report.notes)
    assert notes == ["UTF-16 with BOM; decoded as UTF-16", "not UTF-8; decoded as cp1252"]


def test_duplicates_indexed_once(tmp_path: Path) -> None:
    """Exact duplicate texts load once; the copy is reported as a duplicate."""
    (tmp_path / "a.txt").write_text("Title\n\nSame body")
    (tmp_path / "b.txt").write_text("Title\n\nSame   body\n")
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["a"]
    assert report.duplicates[0].reason == "exact duplicate of a"


def test_jsonl_broken_line(tmp_path: Path) -> None:
    """A broken JSONL line is reported with its line number; the others load."""
    (tmp_path / "a.jsonl").write_text('{"text": "one"}\n{"text": \n[1]\n{"text": "two"}\n')
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["a.jsonl:1", "a.jsonl:4"]
    assert [f"{tmp_path / 'a.jsonl'}:2", f"{tmp_path / 'a.jsonl'}:3"] == [
        s.path for s in report.skipped
    ]


def test_furniture_is_cut_from_indexed_text() -> None:
    """Page furniture is not part of the text that is indexed."""
    raw = (SEEDS / "002_6774853757ba448b.txt").read_text()
    assert "Read Full Article at RT.com" in raw
    assert "Read Full Article" not in strip_furniture(raw)
    nbc = strip_furniture((SEEDS / "000_681841e30ad004f4.txt").read_text())
    assert "Leave a Comment" not in nbc
    assert "Elizabeth Warren" not in nbc  # in the related-articles list after the story


# --- reading reliability: special files, links, size limits -----------------------------


def _load_in_thread(paths: list[Path], **kwargs: object) -> LoadReport:
    """load_corpus in a daemon thread, failing the test if it blocks (a FIFO opened)."""
    out: list[LoadReport] = []
    t = threading.Thread(target=lambda: out.append(load_corpus(paths, **kwargs)), daemon=True)
    t.start()
    t.join(timeout=20)
    assert not t.is_alive(), "load_corpus blocked"
    return out[0]


def test_fifo_is_skipped_without_opening(tmp_path: Path) -> None:
    """A FIFO named x.txt is listed as skipped and never opened (it would block)."""
    (tmp_path / "good.txt").write_text("Title\n\nBody")
    os.mkfifo(tmp_path / "x.txt")
    report = _load_in_thread([tmp_path])
    assert [a.doc_id for a in report.articles] == ["good"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["x.txt"] == "not a regular file (FIFO)"


def test_fifo_given_directly_is_skipped(tmp_path: Path) -> None:
    """A FIFO named on the command line is skipped, not opened."""
    os.mkfifo(tmp_path / "x.csv")
    report = _load_in_thread([tmp_path / "x.csv"])
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("x.csv", "not a regular file (FIFO)")
    ]


def test_dangling_symlink_is_skipped(tmp_path: Path) -> None:
    """A symlink to nothing is listed as skipped with its reason."""
    (tmp_path / "good.txt").write_text("Title\n\nBody")
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    report = load_corpus([tmp_path])
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["gone.txt"] == "broken symlink (its target does not exist)"


def test_unreadable_folder_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A sub-folder that cannot be listed is skipped with the reason; the rest loads."""
    (tmp_path / "good.txt").write_text("Title\n\nBody")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "a.txt").write_text("Title\n\nBody two")
    real = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["good"]
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("locked", "unreadable folder: Permission denied")
    ]


def test_links_out_of_the_corpus_are_not_followed(tmp_path: Path) -> None:
    """A symlink leading out of the corpus folder is skipped unless follow_links=True."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("Secret\n\nNot part of the corpus")
    (outside / "dir").mkdir()
    (outside / "dir" / "b.txt").write_text("B\n\nAnother outside text")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Title\n\nBody")
    (corpus / "passwd.txt").symlink_to(outside / "secret.txt")
    (corpus / "linked").symlink_to(outside / "dir")
    report = load_corpus([corpus])
    assert [a.doc_id for a in report.articles] == ["good"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["passwd.txt"].startswith("symlink leads out of the corpus folder")
    assert "follow_links=True" in reasons["linked"]
    followed = load_corpus([corpus], follow_links=True)
    assert [a.doc_id for a in followed.articles] == ["good", "linked/b", "passwd"]


def test_links_inside_the_corpus_are_read(tmp_path: Path) -> None:
    """A symlink to a file inside the corpus folder is read (and found a duplicate)."""
    (tmp_path / "a.txt").write_text("Title\n\nBody")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["a"]
    assert report.duplicates[0].reason == "exact duplicate of a"


def test_oversize_jsonl_record_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A JSONL record over MAX_RECORD_CHARS is skipped by line; the others load."""
    monkeypatch.setattr(_corpus, "MAX_RECORD_CHARS", 1000)
    lines = [
        json.dumps({"text": "one"}),
        json.dumps({"text": "x" * 5000}),
        json.dumps({"text": "three"}),
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(lines) + "\n")
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["a.jsonl:1", "a.jsonl:3"]
    assert [f"{tmp_path / 'a.jsonl'}:2"] == [s.path for s in report.skipped]
    assert report.skipped[0].reason.startswith("over-long record")


def test_oversize_csv_row_is_skipped_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CSV line over MAX_RECORD_CHARS is skipped; the rows after it still load."""
    monkeypatch.setattr(_corpus, "MAX_RECORD_CHARS", 1000)
    (tmp_path / "a.csv").write_text(f"title,text\nA,one\nB,{'y' * 5000}\nC,three\n")
    report = load_corpus([tmp_path])
    assert [a.doc_id for a in report.articles] == ["a.csv#2", "a.csv#4"]
    assert report.skipped[0].reason.startswith("over-long record")


def test_sparse_table_is_not_read_whole(tmp_path: Path) -> None:
    """A large sparse CSV (NULs) is skipped as binary after reading its head only."""
    path = tmp_path / "big.csv"
    with path.open("wb") as fh:
        fh.write(b"title,text\n")
        fh.truncate(300_000_000)
    tracemalloc.start()
    try:
        report = load_corpus([tmp_path])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("big.csv", "binary file (contains NUL bytes)")
    ]
    assert peak < 20_000_000


def test_oversize_table_skipped_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A table over MAX_TABLE_BYTES is skipped from its size alone."""
    monkeypatch.setattr(_corpus, "MAX_TABLE_BYTES", 100)
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "z" * 200}) + "\n")
    report = load_corpus([tmp_path])
    assert report.articles == []
    assert report.skipped[0].reason.startswith("over-size file")


# --- the real-shaped corpus (tests/data/realshaped) ------------------------------------

REALSHAPED = Path(__file__).resolve().parent / "data" / "realshaped" / "corpus"


def test_realshaped_every_article_has_an_outlet() -> None:
    """Every article of the real-shaped corpus gets an outlet, and the report says whence."""
    report = load_corpus([REALSHAPED])
    assert len(report.articles) == 91
    assert report.warnings == []
    got = {(o, f): n for o, f, n in report.outlet_summary().itertuples(index=False)}
    assert got == {
        ("RT", "url host"): 23,
        ("NBC News", "url host"): 21,
        ("BBC News", "url host"): 20,
        ("Reuters", "column"): 6,
        ("AP", "column"): 5,
        ("AP", "url host"): 1,
        ("The Kyiv Independent", "sources file"): 6,
        ("Meduza", "metadata.csv"): 3,
        ("TVN24", "metadata.csv"): 3,
        ("Ukrainska Pravda", "metadata.csv"): 3,
    }


def test_realshaped_dates_parse_and_store_uniformly() -> None:
    """The corpus's mixed date forms parse, and their stored form reads as one column."""
    report = load_corpus([REALSHAPED])
    stored = pd.Series([to_iso(a.date) for a in report.articles])
    assert stored.notna().sum() == 82
    months = pd.to_datetime(stored, format=DATE_FORMAT).dt.strftime("%Y-%m").dropna()
    assert sorted(set(months)) == [
        "2022-03",
        "2022-04",
        "2022-05",
        "2022-06",
        "2022-07",
        "2022-08",
        "2022-09",
    ]
    assert [(Path(n.path).name, n.reason) for n in report.notes] == [
        ("bbc.csv#13", "not a date: 'TBC'; date left empty")
    ]


def test_realshaped_duplicates_and_skips() -> None:
    """Exact duplicates are found within and across outlets; the near duplicate loads."""
    report = load_corpus([REALSHAPED])
    assert [(Path(d.path).name, d.reason) for d in report.duplicates] == [
        ("RT.csv#24", "exact duplicate of RT.csv#5"),
        ("wire.jsonl:13", "exact duplicate of NBC.csv#22"),
    ]
    assert [(Path(s.path).name, s.reason) for s in report.skipped] == [
        ("wire.jsonl:14", "no body text (title only)")
    ]
    titles = [a.title for a in report.articles]
    assert "First grain ship leaves Odessa under UN-brokered deal" in titles


def test_realshaped_boilerplate_found() -> None:
    """The three site lines are found from the data, each for its own outlet only."""
    report = load_corpus([REALSHAPED])
    bp = find_boilerplate((a.outlet, a.body) for a in report.articles)
    got = [(o, line[:30], n) for o, line, n, _ in bp.table.itertuples(index=False)]
    assert got == [
        ("BBC News", "\u00a9 2022 BBC. The BBC is not res", 16),
        ("NBC News", "Download the NBC News app for ", 13),
        ("RT", "You can share this story on so", 17),
    ]
    bbc = [a for a in report.articles if a.outlet == "BBC News"]
    kept = [bp.strip("BBC News", a.body)[0] for a in bbc]
    assert sum("external linking" in t for t in kept) == 0


def test_sidecar_is_read_line_by_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An over-long metadata.csv row is skipped unread; the sidecar's other rows apply."""
    monkeypatch.setattr(_corpus, "MAX_RECORD_CHARS", 200)
    (tmp_path / "a.txt").write_text("T\n\nBody a")
    (tmp_path / "b.txt").write_text("U\n\nBody b")
    (tmp_path / "metadata.csv").write_text(
        f"file,outlet,title\na.txt,TVN24,\nb.txt,X,{'long ' * 100}\n"
    )
    report = load_corpus([tmp_path])
    assert [(a.title, a.outlet) for a in report.articles] == [("T", "TVN24"), ("U", "")]
    assert [
        (Path(s.path).name, s.reason.startswith("over-long record")) for s in report.skipped
    ] == [("metadata.csv:3", True)]


def test_loaded_texts_are_kept_on_disk_and_read_back_whole(tmp_path: Path) -> None:
    """A load keeps its articles' texts in a nameless temporary file: memory holds the
    metadata only, the body reads back exactly (non-ASCII too), and pickles as text."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    bodies = [f"Zürich – naïve café {i}\n\nsecond paragraph {'x' * 5000}" for i in range(200)]
    (tmp_path / "c.jsonl").write_text("".join(
        json.dumps({"id": str(i), "title": f"t{i}", "text": b}) + "\n"
        for i, b in enumerate(bodies)), "utf-8")
    old, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        tracemalloc.start()
        report = load_corpus([tmp_path / "c.jsonl"])
        held = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    finally:
        tempfile.tempdir = old
    assert [a.body for a in report.articles] == bodies
    assert held < sum(map(len, bodies)) // 4  # ~1 MB of text, not held
    assert list(scratch.iterdir()) == []  # the file has no name
    copy = pickle.loads(pickle.dumps(report.articles[3]))
    assert (copy.body, copy) == (bodies[3], report.articles[3])
    assert type(copy.held_body()) is str


def test_spilled_texts_are_ints_that_read_back_their_text() -> None:
    """A spilled text is one int (offset << 32 | size) that reads back its text, empty and
    non-ASCII texts too, and is true whatever its value."""
    texts = ["", "Zürich \u0130", "x" * 70_000, ""]
    places = [(0, 0), (0, 10), (10, 70_000), (70_010, 0)]
    spill = _Spill()
    refs = [spill.put(t) for t in texts]
    assert texts == [r.read() for r in refs]
    assert places == [(r.offset, r.size) for r in refs]
    assert [r for r in refs if not (isinstance(r, _Spilled) and r and r.spill is spill)] == []


def test_given_paths_are_reported_per_file_and_place(tmp_path: Path) -> None:
    """Skips, notes and duplicates name the path as given, with the line or row, for
    text files, JSONL and CSV alike (kept per file, not per article)."""
    (tmp_path / "a.txt").write_text("Title\n\nBody of a.", "utf-8")
    (tmp_path / "b.txt").write_text("Title\n\nBody of a.", "utf-8")
    (tmp_path / "t.jsonl").write_text(
        '{"text": "one"}\n{"text": "two"}\n{"text": "one", "date": "never"}\n', "utf-8")
    (tmp_path / "t.csv").write_text("text\nthree\ntwo\n", "utf-8")
    report = load_corpus([tmp_path])
    given = report._given
    assert sorted([f"{tmp_path}/b.txt", f"{tmp_path}/t.jsonl:2", f"{tmp_path}/t.jsonl:3"]
                  ) == sorted(s.path for s in report.duplicates)
    assert [f"{tmp_path}/t.jsonl:3"] == [s.path for s in report.notes]
    src = tmp_path.name
    assert (f"{tmp_path}/t.csv#12", f"{tmp_path}/a.txt", None) == (
        given.get(f"{src}/t.csv#12"), given.get(f"{src}/a.txt"), given.get(f"{src}/c.txt"))


def test_two_loads_of_the_same_files_are_equal(tmp_path: Path) -> None:
    """A load report compares by what was loaded, given paths included."""
    (tmp_path / "a.txt").write_text("Title\n\nBody of a.", "utf-8")
    (tmp_path / "t.jsonl").write_text('{"text": "one"}\n{"text": "two"}\n', "utf-8")
    first = load_corpus([tmp_path])
    (tmp_path / "b.txt").write_text("Other\n\nBody of b.", "utf-8")
    same = first == load_corpus([tmp_path / "a.txt", tmp_path / "t.jsonl"])
    changed = first == load_corpus([tmp_path])
    assert [same, changed] == [True, False]


def test_articles_are_slotted() -> None:
    """An article holds its fields in slots, not a dict (a build holds one per article)."""
    art = _corpus.Article(doc_id="x", title="t", body="b")
    assert not hasattr(art, "__dict__")
