"""Jupyter apps: thin ipywidgets views over the library (the only module importing ipywidgets).

Each app keeps its state in ordinary widgets (``.query.value``, ``.search_button.click()``)
so it can be driven and checked without a browser, computes nothing the library does not
offer, and can show the library call that reproduces its current view (``.code()``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence
from datetime import date

import ipywidgets as w
import pandas as pd

from . import _render as render
from ._colloc import MEASURES
from ._entities import ENTITY_TYPES
from ._errors import CorpusSearchError
from ._facets import FACETS, Selection
from ._index import Index
from ._plots import plot_terms
from ._plots_views import plot_comentions
from ._search import SearchResult
from ._terms import FIELDS

__all__ = ["CoMentions", "Collocates", "CompareArticles", "Dispersion", "Explorer",
           "SearchExplorer", "TermTrends"]

ENTITY_FACETS = ("person", "org", "place", "outlet")
_WIDE = w.Layout(width="100%")


def _code_block(code: str) -> str:
    return (f"<pre style='background:#f6f8fa;padding:.6em;border-radius:4px;"
            f"white-space:pre-wrap'>{render.esc(code)}</pre>")


def _literal(value: object) -> str:
    return repr(value)


def _default(fn: Callable, name: str) -> object:
    """The default of parameter ``name`` of a library method (the apps start from it)."""
    return inspect.signature(fn).parameters[name].default


def _table_html(df: pd.DataFrame, rows: int = 200) -> str:
    """A result table as escaped HTML (floats to three places)."""
    return df.head(rows).to_html(index=False, float_format="%.3f", escape=True, na_rep="")


def _selection_code(sel: Selection) -> str:
    """``cs.Selection(...)`` with the arguments that differ from its defaults."""
    parts = [f"query={_literal(sel.query)}"] if sel.query not in ("", "*") else []
    if sel.filters:
        parts.append(f"filters={_literal(sel.filters)}")
    if sel.count_once:
        parts.append("count_once=True")
    return f"cs.Selection({', '.join(parts)})"


def _count_once_box() -> w.Checkbox:
    return w.Checkbox(value=False, description="count copies once",
                      tooltip="count each cluster of near-duplicate articles (wire copy) once")


def _terms(text: str) -> list[str]:
    """Terms typed in a box, split on commas."""
    return [t.strip() for t in text.split(",") if t.strip()]


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
                             f"<code>{render.esc(res.query or '*')}</code>" +
                             (f"<br><i>{render.esc(res.entities_note)}</i>"
                              if res.entities_note else ""))
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


class Collocates(_App):
    """Collocates of a word or phrase: window, measure, minimum frequency, an optional
    query, and optionally a facet slice (e.g. outlet RT) compared with the rest."""

    def __init__(self, index: Index, node: str = "", index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        self.node = w.Text(value=node, description="Node", placeholder="sanctions",
                           continuous_update=False, layout=w.Layout(width="40%"))
        self.window_left = w.BoundedIntText(value=_default(Index.collocates, "window_left"),
                                            min=0, max=50, description="Left",
                                            layout=w.Layout(width="160px"))
        self.window_right = w.BoundedIntText(value=_default(Index.collocates, "window_right"),
                                             min=0, max=50, description="Right",
                                             layout=w.Layout(width="160px"))
        self.measure = w.Dropdown(options=list(MEASURES),
                                  value=_default(Index.collocates, "measure"),
                                  description="Measure", layout=w.Layout(width="220px"))
        self.min_freq = w.BoundedIntText(value=_default(Index.collocates, "min_freq"), min=1,
                                         max=100_000, description="Min freq",
                                         layout=w.Layout(width="180px"))
        self.query = w.Text(description="Within", placeholder="optional query",
                            continuous_update=False)
        self.compare_facet = w.Dropdown(options=[("(no comparison)", ""),
                                                 *((f, f) for f in FACETS)],
                                        value="", description="Compare",
                                        tooltip="a slice of the articles against the rest")
        self.compare_value = w.Dropdown(options=[], description="slice",
                                        layout=w.Layout(width="40%"))
        self.count_once = _count_once_box()
        self.run_button = w.Button(description="Collocates", button_style="primary",
                                   icon="search")
        self.table_view = w.HTML(layout=_WIDE)
        self.table: pd.DataFrame | None = None
        self._updating = False
        for control in (self.node, self.window_left, self.window_right, self.measure,
                        self.min_freq, self.query, self.compare_value, self.count_once):
            control.observe(self._changed, "value")
        self.compare_facet.observe(lambda _: self._run(self._fill_slices), "value")
        self.run_button.on_click(lambda _: self._run(self._compute))
        self.children = [w.HBox([self.node, self.run_button]),
                         w.HBox([self.window_left, self.window_right, self.measure,
                                 self.min_freq, self.count_once]),
                         w.HBox([self.query, self.compare_facet, self.compare_value]),
                         self.message, self.table_view, w.HBox([self.show_code]),
                         self.code_view]
        if node:
            self._run(self._compute)

    def _changed(self, _change: object) -> None:
        if not self._updating:
            self._run(self._compute)

    def _fill_slices(self) -> None:
        """List the chosen facet's values (most articles first) and compare the first."""
        key = self.compare_facet.value
        self._updating = True
        try:
            values = (self.index.facets(key, limit=None)["value"].tolist() if key else [])
            self.compare_value.options = values
            self.compare_value.value = values[0] if values else None
        finally:
            self._updating = False
        self._compute()

    def slices(self) -> tuple[Selection | dict, Selection | None] | None:
        """The two sets compared (None when no slice is picked)."""
        key, value = self.compare_facet.value, self.compare_value.value
        if not key or value is None:
            return None
        if self.query.value or self.count_once.value:
            query, once = self.query.value or "*", self.count_once.value
            return (Selection(query, {key: [value]}, count_once=once),
                    Selection(query, count_once=once))
        return {key: [value]}, None

    def _options(self) -> str:
        return (f"window_left={self.window_left.value}, window_right={self.window_right.value}"
                f", measure={_literal(self.measure.value)}, min_freq={self.min_freq.value}")

    def code(self) -> str:
        """The library call that reproduces the table."""
        node, opts = _literal(self.node.value.strip()), self._options()
        slices = self.slices()
        if slices is None:
            query = f", query={_literal(self.query.value)}" if self.query.value else ""
            once = ", count_once=True" if self.count_once.value else ""
            return f"{self.index_expr}.collocates({node}, {opts}{query}{once})"
        a, b = slices
        if b is None:
            return f"{self.index_expr}.compare_collocates({node}, {_literal(a)}, {opts})"
        return (f"{self.index_expr}.compare_collocates({node}, {_selection_code(a)}, "
                f"{_selection_code(b)}, {opts})")

    def _compute(self) -> None:
        self.table, self.table_view.value = None, ""
        node = self.node.value.strip()
        if not node:
            return
        opts = {"window_left": self.window_left.value, "window_right": self.window_right.value,
                "measure": self.measure.value, "min_freq": self.min_freq.value}
        slices = self.slices()
        if slices is None:
            df = self.index.collocates(node, query=self.query.value or "*",
                                       count_once=self.count_once.value, **opts)
        else:
            df = self.index.compare_collocates(node, slices[0], slices[1], **opts)
        self.table = df
        if df.empty:
            self.message.value = (f"No collocates of <code>{render.esc(node)}</code> seen "
                                  f"{self.min_freq.value} times or more.")
        self.table_view.value = _table_html(df.drop(columns=["stem"]))


class Dispersion(_App):
    """Where terms occur through the corpus: the dispersion plot and Juilland's D / Gries'
    DP for each term."""

    def __init__(self, index: Index, terms: str = "", order: str = "date",
                 index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        self.terms = w.Text(value=terms, description="Terms", placeholder="sanctions, NATO",
                            continuous_update=False, layout=w.Layout(width="50%"))
        self.order = w.ToggleButtons(options=["date", "article"], value=order,
                                     description="Order",
                                     tooltip="articles by date (undated last) or index order")
        self.query = w.Text(description="Within", placeholder="optional query",
                            continuous_update=False)
        self.count_once = _count_once_box()
        self.plot_button = w.Button(description="Plot", button_style="primary",
                                    icon="barcode")
        self.chart = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.table_view = w.HTML(layout=_WIDE)
        self.table: pd.DataFrame | None = None
        self.figure = None
        for control in (self.terms, self.order, self.query, self.count_once):
            control.observe(lambda _: self._run(self._plot), "value")
        self.plot_button.on_click(lambda _: self._run(self._plot))
        self.children = [w.HBox([self.terms, self.plot_button]), self.order,
                         w.HBox([self.query, self.count_once]),
                         self.message, self.chart, self.table_view, w.HBox([self.show_code]),
                         self.code_view]
        if terms:
            self._run(self._plot)

    def term_list(self) -> list[str]:
        """The terms typed, split on commas."""
        return _terms(self.terms.value)

    def code(self) -> str:
        """The library calls that reproduce the chart and the table."""
        terms = _literal(self.term_list())
        query = f", query={_literal(self.query.value)}" if self.query.value else ""
        if self.count_once.value:
            query += ", count_once=True"
        return (f"{self.index_expr}.plot_dispersion({terms}, "
                f"order={_literal(self.order.value)}{query})\n"
                f"{self.index_expr}.dispersion_measures({terms}{query})")

    def _plot(self) -> None:
        self.table, self.figure = None, None
        self.chart.value, self.table_view.value = b"", ""
        terms = self.term_list()
        if not terms:
            return
        query, once = self.query.value or "*", self.count_once.value
        table = self.index.dispersion_measures(terms, query=query, count_once=once)
        fig = self.index.plot_dispersion(terms, order=self.order.value, query=query,
                                         count_once=once)
        self.table, self.figure = table, fig
        self.chart.value = fig.to_png()
        self.table_view.value = _table_html(table)


class CoMentions(_App):
    """Who is mentioned with whom: a query box, entity types, top N; the network and the
    table of pairs."""

    def __init__(self, index: Index, query: str = "",
                 types: Sequence[str] = ("person", "org", "place"),
                 top: int = 30, draw: bool = True, index_expr: str = "index") -> None:
        super().__init__(index, index_expr)
        self.query = w.Text(value=query, description="Query", placeholder="every article",
                            continuous_update=False, layout=w.Layout(width="50%"))
        self.types = w.SelectMultiple(options=list(ENTITY_TYPES), value=tuple(types), rows=3,
                                      description="Types")
        self.top = w.IntSlider(value=top, min=5, max=100, step=5, description="Top N",
                               continuous_update=False)
        self.min_count = w.BoundedIntText(value=_default(Index.comentions, "min_count"),
                                          min=1, max=100_000, description="Min articles",
                                          layout=w.Layout(width="200px"))
        self.count_once = _count_once_box()
        self.draw_button = w.Button(description="Draw", button_style="primary",
                                    icon="share-alt")
        self.chart = w.Image(format="png", layout=w.Layout(max_width="900px"))
        self.table_view = w.HTML(layout=_WIDE)
        self.table: pd.DataFrame | None = None
        self.figure = None
        for control in (self.query, self.types, self.top, self.min_count, self.count_once):
            control.observe(lambda _: self._run(self._draw), "value")
        self.draw_button.on_click(lambda _: self._run(self._draw))
        self.children = [w.HBox([self.query, self.draw_button]),
                         w.HBox([self.types, w.VBox([self.top, self.min_count,
                                                     self.count_once])]),
                         self.message, self.chart, self.table_view, w.HBox([self.show_code]),
                         self.code_view]
        if draw:
            self._run(self._draw)

    def _kwargs(self) -> str:
        out = f"types={_literal(tuple(self.types.value))}"
        if self.min_count.value != _default(Index.comentions, "min_count"):
            out += f", min_count={self.min_count.value}"
        if self.query.value:
            out += f", query={_literal(self.query.value)}"
        if self.count_once.value:
            out += ", count_once=True"
        return out

    def code(self) -> str:
        """The library calls that reproduce the network and the table."""
        return (f"{self.index_expr}.plot_comentions(top={self.top.value}, {self._kwargs()})\n"
                f"{self.index_expr}.comentions({self._kwargs()}, limit={self.top.value})")

    def _draw(self) -> None:
        self.table, self.figure = None, None
        self.chart.value, self.table_view.value = b"", ""
        if not self.types.value:
            self.message.value = "Pick at least one entity type."
            return
        pairs = self.index.comentions(types=tuple(self.types.value),
                                      min_count=self.min_count.value, limit=None,
                                      query=self.query.value or "*",
                                      count_once=self.count_once.value)
        fig = plot_comentions(pairs, top=self.top.value)
        self.table, self.figure = pairs.head(self.top.value), fig
        self.chart.value = fig.to_png()
        self.table_view.value = _table_html(self.table)


class Explorer(w.Tab):
    """All apps in tabs: search, term trends, compare, collocates, dispersion and
    co-mentions (the network is drawn when its tab is first opened)."""

    def __init__(self, index: Index, query: str = "", index_expr: str = "index") -> None:
        self.index = index
        self.search = SearchExplorer(index, query=query, index_expr=index_expr)
        self.trends = TermTrends(index, index_expr=index_expr)
        self.compare = CompareArticles(index, index_expr=index_expr)
        self.collocates = Collocates(index, index_expr=index_expr)
        self.dispersion = Dispersion(index, index_expr=index_expr)
        self.comentions = CoMentions(index, draw=False, index_expr=index_expr)
        super().__init__(children=[self.search, self.trends, self.compare, self.collocates,
                                   self.dispersion, self.comentions])
        for i, title in enumerate(["Search", "Term trends", "Compare", "Collocates",
                                   "Dispersion", "Co-mentions"]):
            self.set_title(i, title)
        self.observe(self._opened, "selected_index")

    def _opened(self, change: dict) -> None:
        if change["new"] is None:
            return
        if self.children[change["new"]] is self.comentions and self.comentions.figure is None:
            self.comentions.draw_button.click()

    def __repr__(self) -> str:
        return f"<Explorer over {self.index!r}>"


