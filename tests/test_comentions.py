"""Entity co-mentions and timelines on a hand-made entity table.

Five articles (N = 5): d0 names Putin, Biden, Kyiv; d1 Putin (twice), Biden; d2 Putin,
Zelensky, Kyiv; d3 Biden; d4 nobody. Persons: Biden-Putin in d0, d1 (O = 2, n = 3 and 3,
expected 9/5 = 1.8, PMI = log2(2/1.8) = 0.152003, G2 of [[2, 1], [1, 1]] = 0.138443);
Putin-Zelensky in d2 only. With places, Kyiv-Putin in d0, d2 (n_Kyiv = 2, expected 1.2,
PMI = 0.736966, G2 of [[2, 0], [1, 2]] = 2.911032).
"""

from __future__ import annotations

import inspect
from types import SimpleNamespace

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import corpus_search as cs
from corpus_search._comention import (
    COMENTION_COLUMNS,
    TIMELINE_COLUMNS,
    comentions,
    entity_timeline,
)
from corpus_search._errors import QueryError
from corpus_search._plots_views import plot_comentions

ENTITIES = [("Vladimir Putin", "person"), ("Joe Biden", "person"), ("Kyiv", "place"),
            ("Volodymyr Zelensky", "person")]
PER_DOC = [[0, 1, 2], [0, 1, 0], [0, 3, 2], [1], []]


@pytest.fixture
def ix() -> SimpleNamespace:
    """An index stand-in with the attributes the co-mention views use."""
    indptr = np.concatenate([[0], np.cumsum([len(d) for d in PER_DOC])]).astype(np.int64)
    return SimpleNamespace(
        live=np.ones(5, dtype=bool), ent_indptr=indptr,
        ent_ids=np.array([e for d in PER_DOC for e in d], dtype=np.int32), entities=ENTITIES,
        month_code=np.array([0, 0, 1, 1, -1], dtype=np.int32), months=["2022-02", "2022-03"],
        outlet_code=np.array([0, 1, 0, 0, 0], dtype=np.int32), outlets=["RT", "BBC"])


def test_person_pairs_by_hand(ix: SimpleNamespace) -> None:
    """Counts, expected, PMI and G2 of the person pairs equal the hand-computed values."""
    res = comentions(ix, types=("person",), min_count=1)
    assert list(COMENTION_COLUMNS) == list(res.columns)
    assert list(res[["entity_a", "entity_b", "count"]].itertuples(index=False, name=None)) \
        == [("Joe Biden", "Vladimir Putin", 2), ("Vladimir Putin", "Volodymyr Zelensky", 1)]
    top = res.iloc[0]
    assert (top["articles_a"], top["articles_b"]) == (3, 3)
    assert pytest.approx([1.8, 0.152003, 0.138443], abs=1e-6) == \
        [top["expected"], top["pmi"], top["g2"]]
    assert res.attrs["articles"] == 5


def test_types_and_min_count(ix: SimpleNamespace) -> None:
    """All types, min_count 2: Biden-Putin and Kyiv-Putin (G2 2.911 ranks it first on a tie)."""
    res = comentions(ix, min_count=2)
    assert list(res[["entity_a", "entity_b"]].itertuples(index=False, name=None)) == \
        [("Kyiv", "Vladimir Putin"), ("Joe Biden", "Vladimir Putin")]
    assert pytest.approx([0.736966, 2.911032], abs=1e-6) == res.loc[0, ["pmi", "g2"]].tolist()


def test_order_by_pmi(ix: SimpleNamespace) -> None:
    """order='pmi' ranks Putin-Zelensky (PMI log2(1/(3*1/5)) = 0.737) over Biden-Putin."""
    res = comentions(ix, types=("person",), min_count=1, order="pmi")
    assert res.loc[0, "entity_b"] == "Volodymyr Zelensky"
    assert pytest.approx(0.736966, abs=1e-6) == res.loc[0, "pmi"]


def test_mask(ix: SimpleNamespace) -> None:
    """Leaving d1 out, Biden-Putin is named together once among N = 4 articles."""
    mask = np.array([True, False, True, True, True])
    res = comentions(ix, types=("person",), min_count=1, mask=mask)
    row = res.set_index(["entity_a", "entity_b"]).loc[("Joe Biden", "Vladimir Putin")]
    assert (row["count"], row["articles_a"], row["articles_b"]) == (1, 2, 2)
    assert pytest.approx(1.0) == row["expected"]


def test_bad_input(ix: SimpleNamespace) -> None:
    """Unknown types and the sentence level are one-line QueryErrors."""
    with pytest.raises(QueryError, match="unknown entity type"):
        comentions(ix, types=("people",))
    with pytest.raises(QueryError, match="level"):
        comentions(ix, level="sentence")


def test_timeline(ix: SimpleNamespace) -> None:
    """Putin by month and outlet: 2022-02 RT 1 and BBC 1, 2022-03 RT 1 (name case-blind)."""
    res = entity_timeline(ix, "vladimir putin", "person")
    assert list(TIMELINE_COLUMNS) == list(res.columns)
    assert list(res.itertuples(index=False, name=None)) == \
        [("2022-02", "BBC", 1), ("2022-02", "RT", 1), ("2022-03", "RT", 1)]
    assert len(entity_timeline(ix, "Nobody", "person")) == 0


def test_network_figure(ix: SimpleNamespace, tmp_path) -> None:
    """The network draws one node per entity in the top pairs and one edge per pair."""
    fig = plot_comentions(comentions(ix, min_count=1), top=10)
    assert isinstance(fig, Figure)
    ax = fig.get_axes()[0]
    labels = {t.get_text() for t in ax.texts}
    assert {"Vladimir Putin", "Joe Biden", "Kyiv", "Volodymyr Zelensky"} == labels
    fig.savefig(tmp_path / "net.png")


def _label_boxes(fig: Figure) -> list:
    """The drawn label boxes of the network (Agg renderer, display units)."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    return [t.get_bbox_patch().get_window_extent(renderer) for t in fig.get_axes()[0].texts]


def _overlapping(boxes: list) -> list[tuple[int, int]]:
    """Pairs of boxes whose interiors intersect."""
    return [(i, j) for i in range(len(boxes)) for j in range(i + 1, len(boxes))
            if min(boxes[i].x1, boxes[j].x1) > max(boxes[i].x0, boxes[j].x0)
            and min(boxes[i].y1, boxes[j].y1) > max(boxes[i].y0, boxes[j].y0)]


_SCATTERED = [("Volodymyr Zelensky", "Olaf Scholz"), ("Olaf Scholz", "Emmanuel Macron"),
              ("Volodymyr Zelensky", "Emmanuel Macron"), ("Antony Blinken", "Sergei Lavrov"),
              ("European Commission", "International Monetary Fund"), ("Kherson", "Mykolaiv"),
              ("Zaporizhzhia Nuclear Power Plant", "International Atomic Energy Agency"),
              ("Recep Tayyip Erdogan", "Istanbul"), ("United Nations", "World Food Programme"),
              ("Black Sea Grain Initiative", "Odesa"), ("Ursula von der Leyen", "Brussels"),
              ("Jens Stoltenberg", "NATO"), ("Andrzej Duda", "Warsaw"), ("Medyka", "Przemysl"),
              ("Annalena Baerbock", "Bundestag")]


def test_network_of_many_components_has_no_overlapping_labels() -> None:
    """Fifteen pairs in eleven components (long names): every label is drawn, no two
    label boxes overlap, and each stays inside the figure."""
    pairs = pd.DataFrame([dict(entity_a=a, type_a="person", entity_b=b, type_b="place",
                               count=20 - i, articles_a=30 - i, articles_b=5 + i % 4,
                               expected=1.0, pmi=1.0, g2=1.0)
                          for i, (a, b) in enumerate(_SCATTERED)])
    pairs.attrs["articles"] = 100
    fig = plot_comentions(pairs, top=15)
    boxes = _label_boxes(fig)
    assert len({n for pair in _SCATTERED for n in pair}) == len(boxes)
    assert _overlapping(boxes) == []
    width, height = fig.bbox.width, fig.bbox.height
    assert all(b.x0 >= 0 and b.y0 >= 0 and b.x1 <= width and b.y1 <= height for b in boxes)
    # Without the layout, the pairs drawn where the spring layout puts them do overlap:
    # the test can fail.
    g = nx.Graph(_SCATTERED)
    pos = nx.spring_layout(g, seed=7)
    naive = Figure(figsize=(9, 7))
    ax = naive.add_subplot()
    for n, (x, y) in pos.items():
        ax.text(x, y, n, fontsize=8, ha="center", va="center",
                bbox=dict(boxstyle="round,pad=0.15"))
    assert _overlapping(_label_boxes(naive)) != []


def test_seed_network_labels_do_not_overlap(seed_index: cs.Index) -> None:
    """On the seeds (real NER), every pair named together once: labels stay apart."""
    pairs = seed_index.comentions(min_count=1, limit=None)
    assert len(pairs) >= 30
    fig = seed_index.plot_comentions(top=30, min_count=1)
    boxes = _label_boxes(fig)
    assert len(set(pairs.head(30)["entity_a"]) | set(pairs.head(30)["entity_b"])) == len(boxes)
    assert _overlapping(boxes) == []


def test_network_caption_says_how_copies_were_counted(seed_index: cs.Index) -> None:
    """The caption says whether near-duplicate copies were counted once, and the query."""
    def caption(fig: Figure) -> str:
        return " ".join(t.get_text() for t in fig.texts)

    assert "every near-duplicate copy counted" in caption(seed_index.plot_comentions())
    once = caption(seed_index.plot_comentions(count_once=True, query="NATO"))
    assert "(near-duplicate copies counted once) matching 'NATO'" in once
    assert "same article" in once
    assert inspect.signature(cs.Index.plot_comentions).parameters["count_once"].default is \
        inspect.signature(cs.Index.comentions).parameters["count_once"].default is False
