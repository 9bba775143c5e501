"""Sources with their own outlet: per-path outlets, sources.csv, URL-host and file-name
inference, and the per-outlet report of where each outlet came from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corpus_search._corpus import OUTLET_SUMMARY_COLUMNS, load_corpus
from corpus_search._corpus import Article as SourceArticle
from corpus_search._errors import CorpusError
from corpus_search._sources import (
    ColumnMap,
    Source,
    outlet_from_filename,
    outlet_from_url,
    parse_source_arg,
    read_sources_file,
)

CSV = "Date,URL,Title,Text\n"


def _csv(path: Path, rows: list[tuple[str, str, str, str]]) -> Path:
    path.write_text(CSV + "".join(f'{d},{u},{t},"{x}"\n' for d, u, t, x in rows),
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ("RT.csv=RT", Source(Path("RT.csv"), "RT")),
    ('NBC.csv="NBC News"', Source(Path("NBC.csv"), "NBC News")),
    ("NBC.csv='NBC News'", Source(Path("NBC.csv"), "NBC News")),
    ("dir/a=b.csv=Outlet X", Source(Path("dir/a=b.csv"), "Outlet X")),
    ("plain.csv", Source(Path("plain.csv"), None)),
])
def test_parse_source_arg(text: str, expected: Source) -> None:
    """PATH=OUTLET (outlet quoted or not) and a bare path are read as sources."""
    assert expected == parse_source_arg(text)


def test_parse_source_arg_existing_path_with_equals(tmp_path: Path) -> None:
    """A path that exists as typed is a path, even with '=' in its name."""
    odd = tmp_path / "x=y.csv"
    odd.write_text("text\nbody\n")
    assert Source(odd, None) == parse_source_arg(str(odd))


@pytest.mark.parametrize("bad", ["RT.csv=", "=RT", 'RT.csv="'])
def test_parse_source_arg_bad(bad: str) -> None:
    """A source with an empty path or outlet is a one-line error."""
    with pytest.raises(CorpusError, match="PATH=OUTLET"):
        parse_source_arg(bad)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.rt.com/russia/556873-some-story/", "RT"),
    ("https://www.nbcnews.com/news/world/x-rcna1", "NBC News"),
    ("https://www.bbc.co.uk/news/world-europe-1", "BBC News"),
    ("https://www.bbc.com/news/world-europe-1", "BBC News"),
    ("http://edition.cnn.com/2022/06/01/europe/x", "CNN"),
    ("https://amp.theguardian.com/world/2022/jun/01/x", "The Guardian"),
    ("https://www.kyivindependent.example.org:8080/a", "kyivindependent.example.org"),
    ("not a url", None),
    ("", None),
])
def test_outlet_from_url(url: str, expected: str | None) -> None:
    """Well-known news hosts get readable names; others their bare host."""
    assert expected == outlet_from_url(url)


@pytest.mark.parametrize(("name", "expected"), [
    ("RT.csv", "RT"), ("NBC.csv", "NBC News"), ("bbc.jsonl", "BBC News"),
    ("TVN24.csv", "TVN24"), ("voice_of_america.csv", "voice of america"),
    ("articles.csv", None), ("export.jsonl", None), ("data-2022.csv", None),
])
def test_outlet_from_filename(name: str, expected: str | None) -> None:
    """A one-outlet file's name gives its outlet, unless it is a generic name."""
    assert expected == outlet_from_filename(Path(name))


def test_per_outlet_csvs_get_outlets_from_url_host(tmp_path: Path) -> None:
    """CSVs with no outlet column take the outlet from each URL's host."""
    _csv(tmp_path / "RT.csv", [("2022-06-11", "https://www.rt.com/news/1/", "A", "Body a")])
    _csv(tmp_path / "NBC.csv", [("2022-06-11", "https://www.nbcnews.com/1", "B", "Body b")])
    report = load_corpus([tmp_path])
    got = sorted((a.outlet, a.outlet_from) for a in report.articles)
    assert got == [("NBC News", "url host"), ("RT", "url host")]


def test_table_without_url_takes_file_name(tmp_path: Path) -> None:
    """A table with neither outlet nor URL column takes the outlet from its file name."""
    (tmp_path / "RT.csv").write_text("title,text\nA,Body a\n")
    (tmp_path / "articles.csv").write_text("title,text\nB,Body b\n")
    report = load_corpus([tmp_path])
    got = sorted((a.outlet, a.outlet_from) for a in report.articles)
    assert got == [("", "none"), ("RT", "file name")]


def test_given_outlet_per_source(tmp_path: Path) -> None:
    """Each Source carries its own outlet; loading two files keeps both."""
    a = _csv(tmp_path / "one.csv", [("2022-06-11", "https://x.org/1", "A", "Body a")])
    b = _csv(tmp_path / "two.csv", [("2022-06-12", "https://y.org/1", "B", "Body b")])
    report = load_corpus([Source(a, "RT"), parse_source_arg(f'{b}="NBC News"')])
    got = [(a.title, a.outlet, a.outlet_from) for a in report.articles]
    assert got == [("A", "RT", "given"), ("B", "NBC News", "given")]


def test_outlet_column_wins(tmp_path: Path) -> None:
    """An outlet named in the data itself is kept over a given or inferred one."""
    (tmp_path / "RT.csv").write_text("outlet,url,text\nTASS,https://www.rt.com/1,Body\n,,B2\n")
    report = load_corpus([Source(tmp_path / "RT.csv", "RT")])
    got = [(a.outlet, a.outlet_from) for a in report.articles]
    assert got == [("TASS", "column"), ("RT", "given")]


def test_source_columns(tmp_path: Path) -> None:
    """A Source's own ColumnMap names that file's columns."""
    (tmp_path / "x.jsonl").write_text(json.dumps({"h": "T", "words": "The body"}) + "\n")
    src = Source(tmp_path / "x.jsonl", "X", ColumnMap(title="h", text="words"))
    (art,) = load_corpus([src]).articles
    assert (art.title, art.body, art.outlet) == ("T", "The body", "X")


def test_sources_file_in_folder(tmp_path: Path) -> None:
    """A folder's sources.csv gives outlets and columns per path; it is not an article."""
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "a.csv").write_text("title,text\nA,Body a\n")
    (tmp_path / "feeds" / "b.jsonl").write_text(json.dumps({"hl": "B", "words": "Body b"}))
    (tmp_path / "sources.csv").write_text(
        'path,outlet,title_col,text_col\nfeeds/a.csv,Meduza,,\nfeeds/b.jsonl,"Novaya Gazeta",'
        "hl,words\n")
    report = load_corpus([tmp_path])
    got = sorted((a.title, a.outlet, a.outlet_from) for a in report.articles)
    assert got == [("A", "Meduza", "sources file"), ("B", "Novaya Gazeta", "sources file")]
    assert report.skipped == []


def test_read_sources_file_bad_row(tmp_path: Path) -> None:
    """A sources.csv row naming a missing file is reported, not fatal."""
    (tmp_path / "sources.csv").write_text("path,outlet\nmissing.csv,X\n")
    sources, problems = read_sources_file(tmp_path / "sources.csv")
    assert sources == []
    assert problems == ["missing.csv: no such file or folder"]


def test_metadata_outlet_recorded(tmp_path: Path) -> None:
    """Outlets from a metadata.csv sidecar are recorded as such."""
    (tmp_path / "a.txt").write_text("T\n\nBody")
    (tmp_path / "b.txt").write_text("U\n\nOther body")
    (tmp_path / "metadata.csv").write_text("file,outlet,url\na.txt,TVN24,\n"
                                           "b.txt,,https://www.reuters.com/x\n")
    report = load_corpus([tmp_path])
    got = [(a.outlet, a.outlet_from) for a in report.articles]
    assert got == [("TVN24", "metadata.csv"), ("Reuters", "url host")]


def test_outlet_summary_and_warning(tmp_path: Path) -> None:
    """The report counts articles per outlet and origin and warns about outlet-less ones."""
    _csv(tmp_path / "RT.csv", [("2022-06-11", "https://www.rt.com/1", "A", "Body a"),
                               ("2022-06-12", "https://www.rt.com/2", "B", "Body b")])
    (tmp_path / "loose.txt").write_text("T\n\nNo outlet anywhere")
    report = load_corpus([tmp_path])
    df = report.outlet_summary()
    assert tuple(df.columns) == OUTLET_SUMMARY_COLUMNS
    assert sorted(
        df.itertuples(index=False, name=None)) == [("", "none", 1), ("RT", "url host", 2)]
    assert len(report.warnings) == 1
    assert report.warnings[0].startswith("1 article has no outlet")


def test_article_made_by_hand_records_given_or_none() -> None:
    """An Article built outside load_corpus says 'given' with an outlet, else 'none'."""
    assert (SourceArticle("a", "T", "B", outlet="RT").outlet_from,
                                 SourceArticle("b", "T", "B").outlet_from) == ("given", "none")


def test_outlet_column_holding_a_host_is_made_readable(tmp_path: Path) -> None:
    """An outlet/domain column holding a host ('www.rt.com') gives the readable name."""
    (tmp_path / "a.csv").write_text("domain,text\nwww.rt.com,Body a\nnews.example.org,Body b\n"
                                    "Some Outlet,Body c\n")
    got = [(a.outlet, a.outlet_from) for a in load_corpus([tmp_path]).articles]
    assert got == [("RT", "column"), ("news.example.org", "column"), ("Some Outlet", "column")]
