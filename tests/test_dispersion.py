"""Dispersion on a three-article corpus worked out by hand.

Tokens: a1 (2022-01-10, 7 words) cats chase dogs and cats eat fish / a2 (2022-02-05, 6)
dogs chase cats cats eat fish / a3 (2022-03-01, 6) fish swim and fish eat lot; N = 19.
"fish" is at a1:6, a2:5, a3:0, a3:3, so by date its corpus positions are
(6.5, 12.5, 13.5, 16.5) / 19. Parts are articles: s = (7, 6, 6)/19, v = (1, 1, 2)/4:
DP = 0.5 * (|1/4 - 7/19| + |1/4 - 6/19| + |2/4 - 6/19|) = 7/38 = 0.184211,
DP_norm = DP / (1 - 6/19) = 7/26 = 0.269231; Juilland's D on p = (1/7, 1/6, 2/6):
1 - (sd(p)/mean(p))/sqrt(2) = 0.720377.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import corpus_search as cs
from corpus_search._colloc import (
    DISPERSION_COLUMNS,
    DISPERSION_MEASURE_COLUMNS,
    dispersion,
    dispersion_measures,
)
from corpus_search._plots_views import plot_dispersion

ARTICLES = [
    ("a1", "X", "2022-01-10", "Cats chase dogs and cats eat fish."),
    ("a3", "X", "2022-03-01", "Fish swim and fish eat a lot"),   # docnum 1, latest date
    ("a2", "Y", "2022-02-05", "Dogs chase cats. Cats eat fish"),
]


@pytest.fixture
def tiny(tmp_path: Path, build_rows) -> cs.Snapshot:
    """The three-article corpus (a3 before a2 in the file), built and opened."""
    ix = cs.open_index(build_rows(ARTICLES, tmp_path, "tiny.jsonl")).snapshot()
    yield ix
    ix.close()


def test_positions_by_date(tiny: cs.Index) -> None:
    """Hits are placed along the corpus in date order (a2 before a3 though filed after)."""
    res = dispersion(tiny, "fish")
    assert list(DISPERSION_COLUMNS) == list(res.columns)
    assert pytest.approx([6.5 / 19, 12.5 / 19, 13.5 / 19, 16.5 / 19]) == res["position"].tolist()
    assert res["doc_id"].tolist() == \
        ["tiny.jsonl#a1", "tiny.jsonl#a2", "tiny.jsonl#a3", "tiny.jsonl#a3"]
    assert res.attrs["tokens"] == 19


def test_positions_by_article(tiny: cs.Index) -> None:
    """order='article' keeps docnum order: a1 (7), a3 (6), a2 (6)."""
    res = dispersion(tiny, ["fish"], order="article")
    assert pytest.approx([6.5 / 19, 7.5 / 19, 10.5 / 19, 18.5 / 19]) == res["position"].tolist()


def test_measures_by_hand(tiny: cs.Index) -> None:
    """Gries' DP, its normalised form and Juilland's D equal the hand-computed values."""
    res = dispersion_measures(tiny, ["fish", "swim", "zebra"])
    assert list(DISPERSION_MEASURE_COLUMNS) == list(res.columns)
    fish = res.set_index("term").loc["fish"]
    assert (fish["freq"], fish["articles"], fish["parts"]) == (4, 3, 3)
    assert pytest.approx(7 / 38) == fish["dp"]
    assert pytest.approx(7 / 26) == fish["dp_norm"]
    assert pytest.approx(0.720377, abs=1e-6) == fish["juilland_d"]
    swim = res.set_index("term").loc["swim"]   # once, in a3: D = 0 (all in one part)
    assert pytest.approx(0.0) == swim["juilland_d"]
    assert pytest.approx(0.5 * (7 / 19 + 6 / 19 + (1 - 6 / 19))) == swim["dp"]
    assert np.isnan(res.set_index("term").loc["zebra", "dp"])


def test_mask(tiny: cs.Index) -> None:
    """With only a1 and a2 in scope, fish is once in each: positions 6.5/13 and 12.5/13."""
    m = np.ones(len(tiny.live), dtype=bool)
    m[tiny.docnum["tiny.jsonl#a3"]] = False
    assert pytest.approx([6.5 / 13, 12.5 / 13]) == dispersion(tiny, "fish", mask=m)["position"]\
        .tolist()


def test_plot(tiny: cs.Index, tmp_path: Path) -> None:
    """The barcode plot has one strip per term and one line per hit."""
    fig = plot_dispersion(dispersion(tiny, ["fish", "cats", "zebra"]))
    assert isinstance(fig, Figure)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert len(axes[0].collections[0].get_segments()) == 4
    fig.savefig(tmp_path / "d.png")


def _tick_boxes(fig: Figure) -> list:
    """The drawn x tick labels of the last strip (Agg renderer, display units)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.get_axes()[-1].get_xticklabels()
            if t.get_text()]


def test_month_labels_do_not_overlap() -> None:
    """Fifteen months, the first two and a later run squeezed into a sliver of the corpus,
    and an undated tail: the labels shown never overlap, each month keeps its grey line."""
    starts = [0.0, 0.004, 0.01, 0.08, 0.16, 0.24, 0.3, 0.301, 0.302, 0.303, 0.45, 0.6, 0.75,
              0.9, 0.97]
    months = [f"{2021 + (9 + i) // 12}-{(9 + i) % 12 + 1:02d}" for i in range(14)]
    hits = pd.DataFrame({"term": ["x"] * 3, "docnum": [0, 1, 2], "doc_id": ["a", "b", "c"],
                         "position": [0.1, 0.5, 0.9], "date": pd.to_datetime(["2022-01-01"] * 3)})
    hits.attrs.update(terms=["x"], order="date", tokens=1000, articles=3,
                      boundaries=list(zip([*months, "undated"], starts, strict=True)))
    fig = plot_dispersion(hits)
    boxes = _tick_boxes(fig)
    assert [(i, i + 1) for i in range(len(boxes) - 1)
                  if boxes[i].x1 > boxes[i + 1].x0] == []
    labels = [t.get_text() for t in fig.get_axes()[-1].get_xticklabels()]
    assert (labels[0], labels[-1]) == ("Oct\n2021", "undated")
    assert "Jan\n2022" in labels
    assert len(starts) - 1 == len(fig.get_axes()[-1].lines)   # grey lines, every month
    # Every month labelled, as before, overlaps: the test can fail.
    fig.get_axes()[-1].set_xticks(starts, [*months, "undated"], fontsize=8)
    boxes = _tick_boxes(fig)
    assert any(boxes[i].x1 > boxes[i + 1].x0 for i in range(len(boxes) - 1))


def test_caption_says_bodies_and_how_copies_were_counted(tmp_path: Path, build_rows) -> None:
    """The dispersion chart says it counts bodies, and whether copies were counted once."""
    index = cs.open_index(build_rows(ARTICLES, tmp_path, "tiny.jsonl", title="fish"))

    def caption(fig: Figure) -> str:
        return " ".join(t.get_text() for t in fig.texts)

    assert "Counted in bodies of 3 articles, 19 words (every near-duplicate copy counted)" \
        in caption(index.plot_dispersion("fish"))
    once = caption(index.plot_dispersion("fish", count_once=True, query="eat"))
    assert "(near-duplicate copies counted once) matching 'eat'" in once
    # Titles are not counted: "fish" is in every title, yet 4 hits as in the bodies.
    assert len(index.dispersion("fish")) == 4
    assert index.term_frequency("fish", by=None, field="body")["count"].sum() == 4
    assert inspect.signature(cs.Index.plot_dispersion).parameters["count_once"].default is \
        inspect.signature(cs.Index.dispersion).parameters["count_once"].default is False
    index.close()
