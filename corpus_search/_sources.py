"""Where articles come from: sources (a path with its own outlet and columns), the
columns of table files, and the outlet inferred when nothing names one.

An article's outlet is decided in this order; the first that gives one wins, and the
article records which (``Article.outlet_from``):

1. ``"column"`` - an outlet column/field in the CSV or JSONL row itself;
   ``"metadata.csv"`` - a ``metadata.csv`` sidecar naming the ``.txt`` file;
2. ``"given"`` - the outlet given with the path (:class:`Source`, ``RT.csv=RT``); then
   ``"sources file"`` - a ``sources.csv`` in a corpus folder naming the path; then
   ``"given"`` - the outlet given to the whole load (``load_corpus(..., outlet=...)``);
3. ``"url host"`` - the host of the article's URL (:func:`outlet_from_url`);
4. ``"file name"`` - the name of a one-outlet table file with no outlet column
   (``RT.csv`` -> ``RT``; :func:`outlet_from_filename`);
5. ``"none"`` - no outlet; the load report warns.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ._errors import CorpusError

__all__ = [
    "GENERIC_FILE_NAMES",
    "MAX_SOURCES_FILE_BYTES",
    "NEWS_HOSTS",
    "OUTLET_ORIGINS",
    "SOURCES_FILE",
    "ColumnMap",
    "Source",
    "is_sources_file",
    "outlet_from_filename",
    "outlet_from_url",
    "parse_source_arg",
    "read_sources_file",
]

OUTLET_ORIGINS = ("column", "metadata.csv", "given", "sources file", "url host", "file name",
                  "none")
"""The values of ``Article.outlet_from``, in order of precedence."""

MAX_SOURCES_FILE_BYTES = 10_000_000
"""A sources file larger than this is not read (it lists paths, not articles)."""

SOURCES_FILE = "sources.csv"
"""The name of the file a corpus folder may carry to give outlets and columns per path."""

NEWS_HOSTS: dict[str, str] = {
    "rt.com": "RT",
    "nbcnews.com": "NBC News",
    "bbc.co.uk": "BBC News",
    "bbc.com": "BBC News",
    "cnn.com": "CNN",
    "reuters.com": "Reuters",
    "apnews.com": "AP",
    "theguardian.com": "The Guardian",
    "nytimes.com": "The New York Times",
    "foxnews.com": "Fox News",
    "aljazeera.com": "Al Jazeera",
    "washingtonpost.com": "The Washington Post",
    "wsj.com": "The Wall Street Journal",
    "ft.com": "Financial Times",
    "bloomberg.com": "Bloomberg",
    "npr.org": "NPR",
    "cbsnews.com": "CBS News",
    "abcnews.go.com": "ABC News",
    "politico.com": "Politico",
    "politico.eu": "Politico Europe",
    "dw.com": "Deutsche Welle",
    "france24.com": "France 24",
    "euronews.com": "Euronews",
    "voanews.com": "Voice of America",
    "rferl.org": "Radio Free Europe/Radio Liberty",
    "tass.com": "TASS",
    "tass.ru": "TASS",
    "sputniknews.com": "Sputnik",
    "kyivindependent.com": "The Kyiv Independent",
    "kyivpost.com": "Kyiv Post",
    "pravda.com.ua": "Ukrainska Pravda",
    "meduza.io": "Meduza",
    "tvn24.pl": "TVN24",
    "independent.co.uk": "The Independent",
    "telegraph.co.uk": "The Telegraph",
    "dailymail.co.uk": "Daily Mail",
    "skynews.com": "Sky News",
    "news.sky.com": "Sky News",
    "afp.com": "AFP",
    "economist.com": "The Economist",
}
"""Well-known news hosts (without ``www.``) and the readable outlet names they get.
A sub-domain (``edition.cnn.com``) takes the name of the host it belongs to."""

_FILE_ALIASES: dict[str, str] = {
    "rt": "RT", "nbc": "NBC News", "nbcnews": "NBC News", "bbc": "BBC News",
    "bbcnews": "BBC News", "cnn": "CNN", "reuters": "Reuters", "ap": "AP",
    "apnews": "AP", "guardian": "The Guardian", "theguardian": "The Guardian",
    "nyt": "The New York Times", "nytimes": "The New York Times", "fox": "Fox News",
    "foxnews": "Fox News", "aljazeera": "Al Jazeera", "tass": "TASS", "voa": "Voice of America",
}
"""File stems (lower-case, without separators) that stand for a well-known outlet."""

GENERIC_FILE_NAMES = frozenset({
    "articles", "article", "data", "dataset", "export", "exports", "corpus", "news", "output",
    "out", "results", "result", "dump", "sample", "samples", "test", "tests", "all", "items",
    "posts", "stories", "records", "rows", "table", "file", "part", "scrape", "scraped",
    "crawl", "feed", "feeds", "download", "downloads", "texts", "text", "documents", "docs",
})
"""File stems that name no outlet (``articles.csv`` gets no outlet from its name)."""

_STRIP_PREFIXES = ("www.", "www1.", "www2.", "m.", "amp.", "mobile.")

_CANDIDATES: dict[str, tuple[str, ...]] = {
    "id": ("id", "doc_id", "article_id", "uid", "guid"),
    "title": ("title", "headline", "heading", "name"),
    "text": ("text", "body", "content", "article", "full_text", "fulltext", "story"),
    "outlet": ("outlet", "source", "publisher", "publication", "media", "site", "domain"),
    "date": ("date", "published", "publish_date", "published_at", "pubdate", "datetime",
             "timestamp", "time"),
    "url": ("url", "link", "href", "permalink"),
}


@dataclass(frozen=True)
class ColumnMap:
    """Which column of a CSV/JSONL export holds which field; ``None`` means detect it."""

    title: str | None = None
    text: str | None = None
    outlet: str | None = None
    date: str | None = None
    url: str | None = None
    id: str | None = None

    def resolve(self, columns: Sequence[str]) -> dict[str, str | None]:
        """Map each field to a column present in ``columns`` (case-insensitive).

        Raises ``KeyError`` (with the column name) when an explicitly named column is
        not there.
        """
        lower = {c.strip().lower(): c for c in columns if isinstance(c, str)}
        out: dict[str, str | None] = {}
        for fld, candidates in _CANDIDATES.items():
            explicit = getattr(self, fld)
            if explicit is not None:
                if explicit.lower() not in lower:
                    raise KeyError(explicit)
                out[fld] = lower[explicit.lower()]
                continue
            out[fld] = next((lower[c] for c in candidates if c in lower), None)
        return out


@dataclass(frozen=True)
class Source:
    """A corpus path with, optionally, its own outlet and column names.

    ``outlet`` is given to every article under ``path`` that names no outlet in its own
    data (an outlet column wins). ``columns`` replaces the load's column map for the
    tables under ``path``.
    """

    path: Path
    outlet: str | None = None
    columns: ColumnMap | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


def parse_source_arg(text: str) -> Source:
    """Read a command-line source: ``PATH`` or ``PATH=OUTLET`` (``NBC.csv="NBC News"``).

    Parameters
    ----------
    text : str
        The argument as typed. A path that exists as typed is taken whole, even when it
        holds ``=``; otherwise the text after the last ``=`` is the outlet (quotes around
        it are removed).

    Returns
    -------
    Source
        With ``outlet=None`` when no outlet was given.

    Raises
    ------
    CorpusError
        When the path or the outlet is empty.
    """
    if "=" not in text or Path(text).exists():
        return Source(Path(text))
    path, _, outlet = text.rpartition("=")
    path, outlet = _unquote(path), _unquote(outlet)
    if not path or not outlet or outlet in "\"'":
        raise CorpusError(f"cannot read source {text!r}: write PATH or PATH=OUTLET, "
                          'e.g. NBC.csv="NBC News"')
    return Source(Path(path), outlet)


def outlet_from_url(url: str) -> str | None:
    """The outlet an article's URL names: a readable name for a well-known news host
    (:data:`NEWS_HOSTS`), else the bare host without ``www.``.

    Parameters
    ----------
    url : str
        An absolute URL (``https://www.rt.com/...``); a host without scheme is accepted.

    Returns
    -------
    str or None
        ``None`` when ``url`` has no host.
    """
    url = (url or "").strip()
    if not url:
        return None
    if "//" not in url:
        url = "//" + url
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if not host or "." not in host or not re.fullmatch(r"[a-z0-9.\-]+", host):
        return None
    for prefix in _STRIP_PREFIXES:
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix):]
            break
    labels = host.split(".")
    for i in range(len(labels) - 1):
        name = NEWS_HOSTS.get(".".join(labels[i:]))
        if name:
            return name
    return host


def outlet_from_filename(path: Path) -> str | None:
    """The outlet a one-outlet table file's name stands for: ``RT.csv`` -> ``RT``,
    ``NBC.csv`` -> ``NBC News`` (:data:`_FILE_ALIASES`), ``TVN24.csv`` -> ``TVN24``.

    Parameters
    ----------
    path : Path
        The file (only its name is used).

    Returns
    -------
    str or None
        ``None`` for generic names (:data:`GENERIC_FILE_NAMES`, also with a year or number
        attached: ``data-2022.csv``), names without letters, and names over 40 characters.
    """
    stem = Path(path).stem.strip()
    words = re.sub(r"[_\-.]+", " ", stem).split()
    key = "".join(words).lower()
    if key in _FILE_ALIASES:
        return _FILE_ALIASES[key]
    letters = [w for w in words if not w.isdigit()]
    if (not letters or len(stem) > 40 or not re.search(r"[^\W\d_]", stem)
            or " ".join(letters).lower() in GENERIC_FILE_NAMES):
        return None
    return " ".join(words)


_SOURCE_COLUMNS = ("title", "text", "outlet", "date", "url", "id")


def is_sources_file(header: Sequence[str], name: str) -> bool:
    """Whether a CSV with this name and header is a sources file rather than articles.

    Parameters
    ----------
    header : sequence of str
        The CSV's first row.
    name : str
        The file's name: only :data:`SOURCES_FILE` can be a sources file.

    Returns
    -------
    bool
        True when it has a ``path`` column and no text column.
    """
    cols = {h.strip().lower() for h in header}
    return name == SOURCES_FILE and "path" in cols and not cols & set(_CANDIDATES["text"])


def read_sources_file(path: Path) -> tuple[list[Source], list[str]]:
    """Read a ``sources.csv``: one row per path, with its outlet and column names.

    Parameters
    ----------
    path : Path
        The file. Its columns: ``path`` (relative to the file's folder; a file or a
        folder), ``outlet`` (optional), and optional ``title_col``, ``text_col``,
        ``outlet_col``, ``date_col``, ``url_col``, ``id_col`` naming that path's columns.

    Returns
    -------
    tuple of (list of Source, list of str)
        The sources (paths made absolute-ish: joined to the file's folder) and one line
        per row that could not be used (``"missing.csv: no such file or folder"``).
    """
    problems: list[str] = []
    sources: list[Source] = []
    size = path.stat().st_size
    if size > MAX_SOURCES_FILE_BYTES:
        return [], [f"over-size sources file ({size:,} bytes; limit "
                    f"{MAX_SOURCES_FILE_BYTES:,}); not read"]
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    for row in csv.DictReader(io.StringIO(text)):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()
               if isinstance(k, str)}
        rel = row.get("path", "")
        if not rel:
            continue
        target = path.parent / rel
        if not target.exists():
            problems.append(f"{rel}: no such file or folder")
            continue
        cols = {f: row.get(f"{f}_col") or None for f in _SOURCE_COLUMNS}
        columns = ColumnMap(**cols) if any(cols.values()) else None
        sources.append(Source(target, row.get("outlet") or None, columns))
    return sources, problems
