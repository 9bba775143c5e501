"""Jupyter apps: thin ipywidgets views over the library (the only module importing ipywidgets).

Each app keeps its state in ordinary widgets (``.query.value``, ``.search_button.click()``)
so it can be driven and checked without a browser, computes nothing the library does not
offer, and can show the library call that reproduces its current view (``.code()``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

import ipywidgets as w
import pandas as pd

from . import _render as render
from ._errors import CorpusSearchError
from ._index import Index
from ._plots import plot_terms
from ._search import SearchResult
from ._terms import FIELDS

__all__ = ["CompareArticles", "Explorer", "SearchExplorer", "TermTrends"]

ENTITY_FACETS = ("person", "org", "place", "outlet")
_WIDE = w.Layout(width="100%")


def _code_block(code: str) -> str:
    return (f"<pre style='background:#f6f8fa;padding:.6em;border-radius:4px;"
            f"white-space:pre-wrap'>{render.esc(code)}</pre>")


def _literal(value: object) -> str:
    return repr(value)


class _App(w.VBox):
    """Common parts: an index, a message line and a "show code" toggle."""

    def __init__(self, index: Index, index_expr: str = "index") -> None:
        self.index = index
        self.index_expr = index_expr
        self.message = w.HTML(layout=_WIDE)
        self.show_code = w.ToggleButton(description="show code", icon="code",
                                        tooltip="the library call that reproduces this view")
        self.code_view = w.HTML(layout=_WIDE)
        self.show_code.observe(lambda _: self._refresh_code(), "value")
        super().__init__()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} over {self.index!r}>"

    def code(self) -> str:  # pragma: no cover - overridden
        """The library call that reproduces the current view."""
        raise NotImplementedError

    def _refresh_code(self) -> None:
        self.code_view.value = _code_block(self.code()) if self.show_code.value else ""

    def _error(self, exc: CorpusSearchError) -> None:
        self.message.value = (f"<span style='color:#b91c1c'>{render.esc(exc)}</span>")

    def _run(self, fn: Callable[[], None]) -> None:
        """Run an update; a library error becomes the message line, never a traceback."""
        self.message.value = ""
        try:
            fn()
        except CorpusSearchError as exc:
            self._error(exc)
        self._refresh_code()


class SearchExplorer(_App):
    """Query box, facet pickers with live counts, date range, paged results, article view."""

    def __init__(self, index: Index, query: str = "", page_size: int = 10,
                 index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        self.page_size = page_size
        self.page = 1
        self.result: SearchResult | None = None
        self.suggestion: str | None = None
        self.latency_ms = 0.0
        self.query = w.Text(value=query, placeholder='NATO AND "secretary general"',
                            description="Query", continuous_update=False,
                            layout=w.Layout(width="60%"))
        self.search_button = w.Button(description="Search", button_style="primary",
                                      icon="search")
        self.sort = w.Dropdown(options=["relevance", "date"], value="relevance",
                               description="Sort", layout=w.Layout(width="200px"))
        dated = index.snapshot().dated
        why = "" if dated else "this corpus has no dates"
        self.date_from = w.DatePicker(description="From", disabled=not dated,
                                      tooltip=why)
        self.date_to = w.DatePicker(description="To", disabled=not dated, tooltip=why)
        self.date_note = w.HTML("" if dated else
                                "<span style='color:#555'>(this corpus has no dates)</span>")
        self.facet_pickers = {key: w.SelectMultiple(rows=8, layout=_WIDE)
                              for key in ENTITY_FACETS}
        self.clear_button = w.Button(description="clear filters", icon="times")
        self.suggestion_button = w.Button(layout=w.Layout(display="none", width="auto"),
                                          button_style="warning")
        self.status = w.HTML()
        self.results = w.VBox(layout=_WIDE)
        self.result_buttons: list[w.Button] = []
        self.prev_button = w.Button(description="previous", icon="arrow-left")
        self.next_button = w.Button(description="next", icon="arrow-right")
        self.page_label = w.Label()
        self.article = w.HTML(layout=_WIDE)

        self.query.observe(lambda _: self._new_search(), "value")
        self.search_button.on_click(lambda _: self._new_search())
        self.sort.observe(lambda _: self._new_search(), "value")
        for picker in (self.date_from, self.date_to):
            picker.observe(lambda _: self._new_search(), "value")
        for picker in self.facet_pickers.values():
            picker.observe(self._on_pick, "value")
        self.clear_button.on_click(lambda _: self.clear_filters())
        self.suggestion_button.on_click(lambda _: self._use_suggestion())
        self.prev_button.on_click(lambda _: self._go(self.page - 1))
        self.next_button.on_click(lambda _: self._go(self.page + 1))

        self._updating = False
        self.children = [
            w.HBox([self.query, self.search_button, self.sort]),
            w.HBox([self.date_from, self.date_to, self.date_note, self.clear_button]),
            w.HBox([w.VBox([w.HTML(f"<b>{key}</b>"), picker], layout=w.Layout(width="25%"))
                    for key, picker in self.facet_pickers.items()], layout=_WIDE),
            self.message, self.suggestion_button, self.status, self.results,
            w.HBox([self.prev_button, self.page_label, self.next_button]),
            self.article, w.HBox([self.show_code]), self.code_view,
        ]
        self._run(self._search)

    # state -> library call ---------------------------------------------------------------

    def filters(self) -> dict[str, list[str]]:
        """The facet filters picked now."""
        return {k: list(p.value) for k, p in self.facet_pickers.items() if p.value}

    def dates(self) -> tuple[str | None, str | None] | None:
        """The date range picked now, as ISO strings."""
        lo, hi = self.date_from.value, self.date_to.value
        if lo is None and hi is None:
            return None
        return (lo.isoformat() if isinstance(lo, date) else None,
                hi.isoformat() if isinstance(hi, date) else None)

    def call_kwargs(self) -> dict:
        """Keyword arguments of the :meth:`Index.search` call behind the view."""
        kwargs: dict = {"limit": self.page_size}
        if self.filters():
            kwargs["filters"] = self.filters()
        if self.dates():
            kwargs["dates"] = self.dates()
        if self.sort.value != "relevance":
            kwargs["sort"] = self.sort.value
        if self.page != 1:
            kwargs["page"] = self.page
        return kwargs

    def code(self) -> str:
        """The library call that reproduces the current results and facets."""
        args = ", ".join([_literal(self.query.value or "*")] +
                         [f"{k}={_literal(v)}" for k, v in self.call_kwargs().items()])
        return (f"result = {self.index_expr}.search({args})\n"
                "result.hits        # the page shown\n"
                "result.facets      # counts per person, org, place, outlet, month")

    # actions -----------------------------------------------------------------------------

    def clear_filters(self) -> None:
        """Unpick every facet value and the date range."""
        self._updating = True
        try:
            for p in self.facet_pickers.values():
                p.value = ()
            self.date_from.value = None
            self.date_to.value = None
        finally:
            self._updating = False
        self._new_search()

    def _on_pick(self, _change: object) -> None:
        if not self._updating:
            self._new_search()

    def _use_suggestion(self) -> None:
        if self.suggestion:
            self.query.value = self.suggestion

    def _new_search(self) -> None:
        if self._updating:
            return
        self.page = 1
        self._run(self._search)

    def _go(self, page: int) -> None:
        if self.result and 1 <= page <= self.result.pages:
            self.page = page
            self._run(self._search)

    def _search(self) -> None:
        started = time.perf_counter()
        try:
            res = self.index.search(self.query.value or "*", facet_limit=25,
                                    **self.call_kwargs())
        except CorpusSearchError as exc:
            self.result = None
            self.results.children = []
            self.status.value = ""
            self._clear_facet_counts()
            suggestion = getattr(exc, "suggestion", None)
            self._show_suggestion(suggestion)
            raise
        self.result = res
        self.latency_ms = (time.perf_counter() - started) * 1000
        self._show_facets(res)
        self._show_results(res)
        self._show_suggestion(res.suggestion)

    def _show_suggestion(self, suggestion: str | None) -> None:
        self.suggestion = suggestion
        if suggestion and suggestion != (self.query.value or "*"):
            self.suggestion_button.description = f"Did you mean: {suggestion}"
            self.suggestion_button.layout.display = "inline-flex"
        else:
            self.suggestion_button.layout.display = "none"

    def _clear_facet_counts(self) -> None:
        """No counts after a query that could not run (the old ones would mislead)."""
        self._updating = True
        try:
            for picker in self.facet_pickers.values():
                chosen = list(picker.value)
                picker.options = [(f"{v} (-)", v) for v in chosen]
                picker.value = tuple(chosen)
        finally:
            self._updating = False

    def _show_facets(self, res: SearchResult) -> None:
        self._updating = True
        try:
            for key, picker in self.facet_pickers.items():
                df = res.facets.get(key, pd.DataFrame(columns=["value", "count"]))
                counts = dict(zip(df["value"], df["count"], strict=True))
                chosen = list(picker.value)
                values = list(counts) + [v for v in chosen if v not in counts]
                picker.options = [(f"{v} ({counts.get(v, 0)})", v) for v in values]
                picker.value = tuple(chosen)
        finally:
            self._updating = False

    def _show_results(self, res: SearchResult) -> None:
        self.status.value = (f"<b>{res.total:,}</b> articles match "
                             f"<code>{render.esc(res.query or '*')}</code>")
        rows, buttons = [], []
        for hit in res.hits.itertuples(index=False):
            button = w.Button(description="open", icon="file-text", tooltip=hit.doc_id,
                              layout=w.Layout(width="80px"))
            button.on_click(lambda _b, d=hit.doc_id: self.open_article(d))
            meta = render.meta_line(hit.outlet, hit.date, hit.doc_id, html=True)
            body = w.HTML(f"<b>{hit.rank}. {render.esc(hit.title) or '(untitled)'}</b>"
                          f"<div style='color:#555;font-size:.85em'>{meta}</div>"
                          f"<div>{render.snippet_html(hit.snippet)}</div>", layout=_WIDE)
            rows.append(w.HBox([button, body], layout=_WIDE))
            buttons.append(button)
        self.result_buttons = buttons
        self.results.children = rows
        self.page_label.value = f"page {res.page} of {res.pages}"
        self.prev_button.disabled = res.page <= 1
        self.next_button.disabled = res.page >= res.pages

    def open_article(self, doc_id: str) -> None:
        """Show one article with its entities marked."""
        self._run(lambda: setattr(self.article, "value",
                                  render.article_html(self.index.show(doc_id))))


class TermTrends(_App):
    """Terms by outlet, month or article, raw or per 10k words: chart and table."""

    def __init__(self, index: Index, terms: str = "", by: str | None = None,
                 field: str = "all", index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        if by is None:  # by month where there are dates, else by outlet
            by = "month" if index.snapshot().dated else "outlet"
        self.terms = w.Text(value=terms, description="Terms", placeholder="sanctions, NATO",
                            continuous_update=False, layout=w.Layout(width="50%"))
        self.by = w.ToggleButtons(options=["outlet", "month", "article", "all"], value=by,
                                  description="By")
        self.field = w.Dropdown(options=list(FIELDS), value=field, description="Count in",
                                tooltip="all: titles and bodies, as search matches")
        self.per_10k = w.Checkbox(value=False, description="per 10k words")
        self.query = w.Text(description="Within", placeholder="optional query",
                            continuous_update=False)
        self.plot_button = w.Button(description="Plot", button_style="primary",
                                    icon="line-chart")
        self.chart = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.table_view = w.HTML(layout=_WIDE)
        self.table: pd.DataFrame | None = None
        self.figure = None
        for control in (self.terms, self.by, self.field, self.per_10k, self.query):
            control.observe(lambda _: self._run(self._plot), "value")
        self.plot_button.on_click(lambda _: self._run(self._plot))
        self.children = [w.HBox([self.terms, self.plot_button]), self.by,
                         w.HBox([self.field, self.per_10k, self.query]), self.message,
                         self.chart,
                         self.table_view, w.HBox([self.show_code]), self.code_view]
        if terms:
            self._run(self._plot)

    def term_list(self) -> list[str]:
        """The terms typed, split on commas."""
        return [t.strip() for t in self.terms.value.split(",") if t.strip()]

    def code(self) -> str:
        """The library calls that reproduce the chart and table."""
        by = None if self.by.value == "all" else self.by.value
        extra = f", query={_literal(self.query.value)}" if self.query.value else ""
        if self.field.value != "all":
            extra += f", field={_literal(self.field.value)}"
        return (f"freq = {self.index_expr}.term_frequency({_literal(self.term_list())}, "
                f"by={_literal(by)}{extra})\n"
                f"cs.plot_terms(freq, per_10k={self.per_10k.value})")

    def _plot(self) -> None:
        terms = self.term_list()
        if not terms:
            self.table, self.figure = None, None
            self.chart.value, self.table_view.value = b"", ""
            return
        by = None if self.by.value == "all" else self.by.value
        try:
            df = self.index.term_frequency(terms, by=by, field=self.field.value,
                                           query=self.query.value or None)
        except CorpusSearchError:
            self.table, self.figure = None, None
            self.chart.value, self.table_view.value = b"", ""
            raise
        fig = plot_terms(df, per_10k=self.per_10k.value)
        self.table, self.figure = df, fig
        self.chart.value = fig.to_png()
        shown = df[["term", "group", "count", "articles", "tokens", "per_10k", "forms"]]
        self.table_view.value = shown.head(200).to_html(index=False, float_format="%.1f",
                                                        escape=True)


class CompareArticles(_App):
    """Two searchable article pickers and the side-by-side view."""

    def __init__(self, index: Index, doc_a: str | None = None, doc_b: str | None = None,
                 index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        self.find_a = w.Text(description="Find A", continuous_update=False,
                             placeholder="words in the title or text")
        self.find_b = w.Text(description="Find B", continuous_update=False,
                             placeholder="words in the title or text")
        self.pick_a = w.Dropdown(description="Article A", layout=w.Layout(width="48%"))
        self.pick_b = w.Dropdown(description="Article B", layout=w.Layout(width="48%"))
        self.compare_button = w.Button(description="Compare", button_style="primary",
                                       icon="columns")
        self.view = w.HTML(layout=_WIDE)
        self.comparison = None
        self.find_a.observe(lambda _: self._run(lambda: self._fill(self.pick_a,
                                                                   self.find_a.value)), "value")
        self.find_b.observe(lambda _: self._run(lambda: self._fill(self.pick_b,
                                                                   self.find_b.value)), "value")
        self.compare_button.on_click(lambda _: self._run(self._compare))
        self._fill(self.pick_a, "", doc_a)
        self._fill(self.pick_b, "", doc_b)
        self.children = [w.HBox([self.find_a, self.find_b]),
                         w.HBox([self.pick_a, self.pick_b]), self.compare_button, self.message,
                         self.view, w.HBox([self.show_code]), self.code_view]
        if doc_a and doc_b:
            self._run(self._compare)

    def _fill(self, picker: w.Dropdown, text: str, chosen: str | None = None) -> None:
        hits = self.index.search(text or "*", limit=50, facets=False).hits
        options = [(f"{(t or '(untitled)')[:70]} [{d}]", d)
                   for t, d in zip(hits["title"], hits["doc_id"], strict=True)]
        if chosen and chosen not in {d for _, d in options}:
            options.insert(0, (f"[{chosen}]", chosen))
        picker.options = options
        if chosen:
            picker.value = chosen

    def code(self) -> str:
        """The library call that reproduces the comparison."""
        return (f"{self.index_expr}.compare({_literal(self.pick_a.value)}, "
                f"{_literal(self.pick_b.value)})")

    def _compare(self) -> None:
        if not self.pick_a.value or not self.pick_b.value:
            self.message.value = "Pick two articles."
            return
        self.comparison = self.index.compare(self.pick_a.value, self.pick_b.value)
        self.view.value = self.comparison._repr_html_()


class Explorer(w.Tab):
    """All apps in tabs: search, term trends, compare."""

    def __init__(self, index: Index, query: str = "", index_expr: str = "index") -> None:
        self.index = index
        self.search = SearchExplorer(index, query=query, index_expr=index_expr)
        self.trends = TermTrends(index, index_expr=index_expr)
        self.compare = CompareArticles(index, index_expr=index_expr)
        super().__init__(children=[self.search, self.trends, self.compare])
        for i, title in enumerate(["Search", "Term trends", "Compare"]):
            self.set_title(i, title)

    def __repr__(self) -> str:
        return f"<Explorer over {self.index!r}>"


