"""Entity co-mentions and timelines on a hand-made entity table.

Five articles (N = 5): d0 names Putin, Biden, Kyiv; d1 Putin (twice), Biden; d2 Putin,
Zelensky, Kyiv; d3 Biden; d4 nobody. Persons: Biden-Putin in d0, d1 (O = 2, n = 3 and 3,
expected 9/5 = 1.8, PMI = log2(2/1.8) = 0.152003, G2 of [[2, 1], [1, 1]] = 0.138443);
Putin-Zelensky in d2 only. With places, Kyiv-Putin in d0, d2 (n_Kyiv = 2, expected 1.2,
PMI = 0.736966, G2 of [[2, 0], [1, 2]] = 2.911032).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

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
