"""HTML for notebooks and saved pages. Every piece of article data is escaped here.

Titles, text, outlet names, entity names and snippets go through :func:`html.escape`
before any markup is added; links are made only for ``http`` and ``https`` URLs.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pandas as pd

from ._analysis import article_tokens, furniture_ranges

if TYPE_CHECKING:  # pragma: no cover - render takes the results duck-typed
    from ._compare import Comparison
    from ._search import Article, SearchResult

__all__ = [
    "PALETTE",
    "article_html",
    "comparison_html",
    "esc",
    "furniture_spans",
    "mark_nested",
    "mark_spans",
    "meta_line",
    "safe_link",
    "search_result_html",
]

PALETTE = ["#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fed7aa", "#a5f3fc",
           "#f5d0fe", "#d9f99d", "#e5e7eb"]
TYPE_COLOURS = {"person": "#bfdbfe", "org": "#fde68a", "place": "#bbf7d0"}
_STYLE = ("<style>.cs-art,.cs-cmp{font-family:Georgia,serif;line-height:1.5}"
          ".cs-art{max-width:46em}.cs-art mark,.cs-cmp mark{padding:0 .15em;border-radius:3px}"
          ".cs-meta{color:#555;font-family:sans-serif;font-size:.85em}.cs-hit{margin:.6em 0}"
          ".cs-cols{display:grid;grid-template-columns:1fr 1fr;gap:1.5em}"
          ".cs-legend span{margin-right:.8em}.cs-furn{color:#9ca3af}"
          ".cs-cmp .cs-q{background:#f1f5f9;border-bottom:2px solid #64748b}"
          ".cs-cmp sup a{text-decoration:none;color:#334155;font-family:sans-serif}</style>")
"""The one stylesheet every piece of HTML here carries."""


def esc(value: object) -> str:
    """HTML-escape anything (None and NaN become "")."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if value is pd.NaT:
        return ""
    return html.escape(str(value), quote=True)


def meta_line(outlet: object, date: object, doc_id: object = "", *, html: bool = False
              ) -> str:
    """"outlet · 2022-06-11 · doc_id", leaving out what is missing (escaped for HTML)."""
    day = "" if date is None or date is pd.NaT or (isinstance(date, float) and date != date) \
        else pd.Timestamp(date).date().isoformat()
    parts = [str(x) for x in (outlet, day, doc_id) if x not in (None, "")]
    return " · ".join(esc(x) for x in parts) if html else " · ".join(parts)


def safe_link(url: str, label: str) -> str:
    """An ``<a>`` for http(s) URLs; plain escaped text for anything else."""
    try:
        scheme = urlparse(url.strip()).scheme.lower()
    except ValueError:
        scheme = ""
    if scheme in ("http", "https"):
        return f'<a href="{esc(url.strip())}" target="_blank" rel="noopener noreferrer">' \
               f"{esc(label)}</a>"
    return esc(label)


def snippet_html(snippet: str) -> str:
    """A ``**hit**``-marked snippet as escaped HTML with ``<mark>``."""
    return re.sub(r"\*\*(.+?)\*\*", r"<mark>\1</mark>", esc(snippet))


def _mark(text: str, spans: Sequence[tuple[int, int, str, str]]) -> str:
    out, pos = [], 0
    for start, end, colour, title in sorted(spans):
        if start < pos:
            continue
        out.append(esc(text[pos:start]))
        style = (f"background:{esc(colour)}" if not colour.startswith("style:")
                 else esc(colour[6:]))
        out.append(f'<mark style="{style}" title="{esc(title)}">{esc(text[start:end])}</mark>')
        pos = end
    out.append(esc(text[pos:]))
    return "".join(out)


def _paragraphs(marked: str) -> str:
    paras = [p.strip() for p in marked.split("\n\n")]
    return "".join(f"<p>{p.replace(chr(10), '<br>')}</p>" for p in paras if p)


def mark_spans(text: str, spans: Sequence[tuple[int, int, str, str]]) -> str:
    """Escape ``text`` and wrap each ``(start, end, colour, title)`` span in ``<mark>``.

    Overlapping spans keep the first; paragraphs become ``<p>``. A colour written as
    ``"style:..."`` is used as the whole CSS style.
    """
    return _paragraphs(_mark(text, spans))


def mark_nested(text: str, outer: Sequence[tuple[int, int, str, str]],
                inner: Sequence[tuple[int, int, str, str]]) -> str:
    """Like :func:`mark_spans`, with ``outer`` spans ``(start, end, open_html, close_html)``
    (trusted markup made by this module) around the inner marks."""
    out, pos = [], 0

    def inner_part(a: int, b: int) -> str:
        spans = [(s - a, e - a, c, t) for s, e, c, t in inner if s >= a and e <= b]
        return _mark(text[a:b], spans)

    for start, end, open_html, close_html in sorted(outer):
        if start < pos:
            continue
        out.append(inner_part(pos, start))
        out.append(open_html + inner_part(start, end) + close_html)
        pos = end
    out.append(inner_part(pos, len(text)))
    return _paragraphs("".join(out))


def entity_spans(text: str, names: Iterable[tuple[str, Iterable[str], str, str]]
                 ) -> list[tuple[int, int, str, str]]:
    """Spans of each entity's surface forms in ``text``: (name, surfaces, colour, title)."""
    spans = []
    for _name, surfaces, colour, title in names:
        for s in sorted(set(surfaces), key=len, reverse=True):
            if not s.strip():
                continue
            for m in re.finditer(r"(?<!\w)" + re.escape(s) + r"(?!\w)", text):
                spans.append((m.start(), m.end(), colour, title))
    return spans


def furniture_spans(text: str, extra_lines: frozenset[str] = frozenset()
                    ) -> list[tuple[int, int, str, str]]:
    """Outer spans (for :func:`mark_nested`) that grey out page furniture (the hand-kept
    patterns and ``extra_lines``, the boilerplate found for the article's outlet)."""
    return [(s, e, '<span class="cs-furn" style="color:#9ca3af" title="page furniture: '
                   'not indexed">', "</span>") for s, e in furniture_ranges(text, extra_lines)]


def article_html(article: Article) -> str:
    """One article with its entities marked by type; page furniture greyed out."""
    ents = article.entities
    furniture = furniture_ranges(article.text, article.furniture)
    spans = [sp for sp in entity_spans(article.text, [
        (r.name, r.surfaces, TYPE_COLOURS.get(r.type, "#eee"), f"{r.type}: {r.name}")
        for r in ents.itertuples(index=False)]) if not any(a <= sp[0] < b for a, b in furniture)]
    legend = "".join(f'<span><mark style="background:{c}">{t}</mark></span>'
                     for t, c in TYPE_COLOURS.items())
    meta = meta_line(article.outlet, article.date, article.doc_id, html=True)
    outer = furniture_spans(article.text, article.furniture)
    link = safe_link(article.url, "source") if article.url else ""
    return (f'{_STYLE}<div class="cs-art"><h3>{esc(article.title)}</h3>'
            f'<div class="cs-meta">{meta} {link}</div><div class="cs-legend cs-meta">{legend}'
            f"</div>{mark_nested(article.text, outer, spans)}</div>")


def search_result_html(result: SearchResult) -> str:
    """A page of results: total, suggestion, hits with highlighted snippets, facets."""
    parts = [_STYLE, f"<div class='cs-art'><div class='cs-meta'><b>{result.total:,}</b> "
                     f"articles match <code>{esc(result.query)}</code>"]
    if result.filters:
        parts.append(" with " + "; ".join(f"{esc(k)} = {esc(' or '.join(v))}"
                                          for k, v in result.filters.items()))
    parts.append("</div>")
    if result.suggestion:
        parts.append(f"<div class='cs-meta'>Did you mean <code>{esc(result.suggestion)}"
                     "</code>?</div>")
    if result.entities_note:
        parts.append(f"<div class='cs-meta'><b>Note:</b> {esc(result.entities_note)}</div>")
    for row in result.hits.itertuples(index=False):
        meta = meta_line(row.outlet, row.date, row.doc_id, html=True)
        parts.append(f"<div class='cs-hit'><b>{row.rank}. {esc(row.title) or '(untitled)'}"
                     f"</b><div class='cs-meta'>{meta}</div>{snippet_html(row.snippet)}</div>")
    for key, df in result.facets.items():
        if len(df):
            vals = ", ".join(f"{esc(v)} ({c})" for v, c in zip(df["value"], df["count"],
                                                                strict=True))
            parts.append(f"<div class='cs-meta'><b>{esc(key)}</b>: {vals}</div>")
    parts.append("</div>")
    return "".join(parts)


def comparison_html(cmp: Comparison) -> str:
    """Two columns; each shared entity in one colour on both sides, shared distinctive
    terms underlined, matching sentences linked to each other. All text is escaped."""
    colours = {name: PALETTE[i % len(PALETTE)]
               for i, name in enumerate(cmp.shared_entities())}
    term_stems = set(cmp.terms["stem"])

    def side(art: Article, key: str, other: str) -> str:
        ents = art.entities
        names = [(r.name, r.surfaces, colours[r.name], f"{r.type}: {r.name} (in both)")
                 for r in ents.itertuples(index=False) if r.name in colours]
        furniture = furniture_ranges(art.text, art.furniture)
        inner = [sp for sp in entity_spans(art.text, names)
                 if not any(a <= sp[0] < b for a, b in furniture)]
        taken = [(s, e) for s, e, _, _ in inner]
        for _surface, stem, s, e in article_tokens(art.text, art.furniture):
            if stem in term_stems and not any(a <= s < b for a, b in taken):
                inner.append((s, e, "style:background:none;text-decoration:underline 2px "
                              "#b45309", f"shared distinctive term: {stem}"))
        outer = []
        for i, row in enumerate(cmp.sentences.itertuples(index=False), start=1):
            s, e = (row.a_start, row.a_end) if key == "a" else (row.b_start, row.b_end)
            outer.append((s, e, f'<span class="cs-q" id="cs-{key}-{i}">',
                          f'</span><sup><a href="#cs-{other}-{i}" title="the matching sentence'
                          f' in the other article">&#8596;{i}</a></sup>'))
        outer.extend(furniture_spans(art.text, art.furniture))
        meta = meta_line(art.outlet, art.date, art.doc_id, html=True)
        link = safe_link(art.url, "source") if art.url else ""
        return (f"<div><h3>{esc(art.title) or '(untitled)'}</h3><div class='cs-meta'>"
                f"{meta} {link}</div>{mark_nested(art.text, outer, inner)}</div>")

    legend = " ".join(f'<mark style="background:{c}">{esc(n)}</mark>'
                      for n, c in colours.items())
    terms = ", ".join(esc(f) for f in cmp.terms["term"])
    return (f"{_STYLE}<div class='cs-cmp'><div class='cs-meta'>Similarity (tf-idf cosine): "
            f"<b>{cmp.similarity:.2f}</b> · {len(cmp.sentences)} matching sentences<br>"
            f"Shared entities: {legend or 'none'}<br>Shared distinctive terms: "
            f"{terms or 'none'}</div><div class='cs-cols'>{side(cmp.a, 'a', 'b')}"
            f"{side(cmp.b, 'b', 'a')}</div></div>")
