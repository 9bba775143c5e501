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

import json
from pathlib import Path

import numpy as np
import pytest
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
def tiny(tmp_path: Path) -> cs.Snapshot:
    """The three-article corpus (a3 before a2 in the file), built and opened."""
    src = tmp_path / "tiny.jsonl"
    src.write_text("".join(json.dumps({"id": i, "title": f"Headline {i}", "text": t,
                                       "outlet": o, "date": d}) + "\n"
                           for i, o, d, t in ARTICLES), "utf-8")
    cs.build([src], tmp_path / "index", entities=False, progress=False)
    ix = cs.open_index(tmp_path / "index").snapshot()
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
