"""Charts (matplotlib Figures, no pyplot state) from the library's DataFrames.

Every chart labels its axes and states in a caption the articles and words behind it.
Months with no articles are gaps, never zeros.

A :class:`Chart` shows itself in Jupyter as one PNG image (its ``_repr_png_``), whether
or not the notebook ran ``%matplotlib inline``: no pyplot figure manager is involved, so
it is never drawn twice, and a saved notebook holds the image, not ``<Figure ...>`` text.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ._provenance import write_sidecar

__all__ = ["CHART_DPI", "Chart", "copies_note", "plot_terms"]

CHART_DPI = 100
"""Resolution of the PNG a chart shows in Jupyter."""


def copies_note(count_once: object) -> str:
    """What a caption says about near-duplicate copies (wire copy, republications):
    counted once (``count_once=True``) or each copy counted."""
    return ("near-duplicate copies counted once" if count_once else
            "every near-duplicate copy counted")


class Chart(Figure):
    """A matplotlib Figure that displays itself once in Jupyter (as PNG)."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=CHART_DPI, bbox_inches="tight",
                     metadata={"Software": None})
        return buf.getvalue()

    def to_png(self) -> bytes:
        """The chart as PNG bytes (what Jupyter shows)."""
        return self._repr_png_()

    def save(self, path: str | Path, *, provenance: Mapping | None = None,
             dpi: int = 120) -> Path:
        """Save the chart (PNG, SVG, PDF: by the file's suffix), cropped to its contents.

        Parameters
        ----------
        path : str or Path
            The file.
        provenance : mapping or None, default None
            Where the chart comes from (``index.provenance(...)``); written beside it as
            ``<file>.provenance.json`` (None: no sidecar).
        dpi : int, default 120
            Resolution of raster formats.

        Returns
        -------
        Path
            The file.
        """
        path = Path(path)
        self.savefig(path, dpi=dpi, bbox_inches="tight")
        if provenance is not None:
            write_sidecar(path, dict(provenance))
        return path


def plot_terms(freq: pd.DataFrame, *, per_10k: bool = False, title: str | None = None,
               max_groups: int = 40) -> Chart:
    """Chart a term-frequency DataFrame (from ``Index.term_frequency``).

    Parameters
    ----------
    freq : pandas.DataFrame
        The table, with its ``attrs`` (grouping, field, articles, words).
    per_10k : bool, default False
        Plot occurrences per 10,000 words instead of counts.
    title : str or None, default None
        The chart title (None: the terms and what is plotted).
    max_groups : int, default 40
        Bars for at most this many outlets or articles (those with most words).

    Returns
    -------
    Chart
        Lines over months (gaps where a month has no articles), or bars by outlet or
        article, one series per term; shows itself once in Jupyter.
    """
    by = freq.attrs.get("by")
    value = "per_10k" if per_10k else "count"
    fig = Chart(figsize=(9, 4.6), layout="constrained")
    ax = fig.add_subplot()
    terms = list(dict.fromkeys(freq["term"]))
    what = "per 10,000 words" if per_10k else "occurrences"
    if freq.empty or not terms:
        ax.text(0.5, 0.5, "No articles match", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    elif by == "month":
        for term in terms:
            sub = freq[freq["term"] == term]
            y = sub[value].astype(float).where(sub["tokens"] > 0)  # empty month: a gap
            x = pd.PeriodIndex(sub["group"], freq="M").to_timestamp()
            ax.plot(x, y, marker="o", markersize=3, label=term)
        ax.set_xlabel("month")
        fig.autofmt_xdate()
    else:
        groups = list(dict.fromkeys(freq["group"]))
        if len(groups) > max_groups:
            tokens = freq.drop_duplicates("group").set_index("group")["tokens"]
            groups = list(tokens.sort_values(ascending=False).index[:max_groups])
        x = np.arange(len(groups))
        width = 0.8 / len(terms)
        for i, term in enumerate(terms):
            sub = freq[freq["term"] == term].set_index("group").reindex(groups)
            ax.bar(x + (i - (len(terms) - 1) / 2) * width, sub[value].astype(float), width,
                   label=term)
        ax.set_xticks(x, [str(g) for g in groups], rotation=30 if len(groups) > 4 else 0,
                      ha="right" if len(groups) > 4 else "center", fontsize=8)
        ax.set_xlabel({"outlet": "outlet", "article": "article"}.get(by, ""))
    ax.set_ylabel(what)
    if terms and not freq.empty:
        ax.legend(title="term", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    by_text = {"month": "by month", "outlet": "by outlet", "article": "by article"}.get(by, "")
    ax.set_title(title or f"{', '.join(terms)}: {what} {by_text}".strip())
    counted = {"all": "titles and bodies", "body": "bodies", "title": "titles"}.get(
        freq.attrs.get("field", "body"), "bodies")
    caption = (f"Counted in {counted} of {freq.attrs.get('articles', 0):,} articles, "
               f"{freq.attrs.get('tokens', 0):,} words")
    caption += f" ({copies_note(freq.attrs.get('count_once'))})"
    if freq.attrs.get("query") not in (None, "", "*"):
        caption += f" matching {freq.attrs['query']!r}"
    if by == "month":
        caption += "; undated articles left out; months with no articles are gaps"
    fig.text(0.01, -0.02, caption + ".", fontsize=8, color="#444", ha="left", va="top")
    return fig
