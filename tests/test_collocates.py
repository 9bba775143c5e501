"""Collocates on a three-article corpus whose counts and measures are worked out by hand.

Tokens (furniture-free body, one-letter words dropped, titles not included):
  a1 (X, 2022-01-10): cats chase dogs and cats eat fish        (7)
  a2 (Y, 2022-02-05): dogs chase cats cats eat fish            (6)
  a3 (X, 2022-03-01): fish swim and fish eat lot               (6)
N = 19. Node "cat" (stem of "cats"), window 1/1: occurrences a1:0, a1:4, a2:2, a2:3, so
f_n = 4, W = 2; window words: chase (a1:1, a2:1), and (a1:3), eat (a1:5, a2:4),
cats (a2:3, a2:2). So O(chase) = 2, f(chase) = 2; O(eat) = 2, f(eat) = 3; O(cat) = 2,
f(cat) = 4; O(and) = 1, f(and) = 2. For chase: E = 4*2*2/19 = 0.842105;
logDice = 14 + log2(2*2/(4+2)) = 13.415037; MI = log2(2/E) = 1.247928;
t = (2-E)/sqrt(2) = 0.818755; G2 over [[2, 6], [0, 11]] = 3.789476.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus_search as cs
from corpus_search._colloc import COLLOCATE_COLUMNS, collocates, compare_collocates
from corpus_search._errors import QueryError

ARTICLES = [
    ("a1", "X", "2022-01-10", "Cats chase dogs and cats eat fish."),
    ("a2", "Y", "2022-02-05", "Dogs chase cats. Cats eat fish"),
    ("a3", "X", "2022-03-01", "Fish swim and fish eat a lot"),
]


@pytest.fixture
def tiny(tmp_path: Path, build_rows) -> cs.Snapshot:
    """The three-article corpus, built without entities and opened."""
    ix = cs.open_index(build_rows(ARTICLES, tmp_path, "tiny.jsonl")).snapshot()
    yield ix
    ix.close()


def _mask(ix: cs.Snapshot, ids: list[str]) -> np.ndarray:
    m = np.zeros(len(ix.live), dtype=bool)
    m[[ix.docnum[f"tiny.jsonl#{d}"] for d in ids]] = True
    return m


def test_columns_and_order(tiny: cs.Index) -> None:
    """Collocates come with the documented columns, best logDice first, cooc >= min_freq."""
    res = collocates(tiny, "cat", window_left=1, window_right=1, min_freq=2)
    assert list(COLLOCATE_COLUMNS) == list(res.columns)
    assert res["collocate"].tolist() == ["chase", "eat", "cats"]
    assert res["stem"].tolist() == ["chase", "eat", "cat"]


def test_counts_by_hand(tiny: cs.Index) -> None:
    """Co-occurrences, frequencies, node frequency and article counts match the hand count."""
    res = collocates(tiny, "cats", window_left=1, window_right=1, min_freq=1).set_index("stem")
    assert res["cooc"].to_dict() == {"chase": 2, "eat": 2, "cat": 2, "and": 1}
    assert res["freq"].to_dict() == {"chase": 2, "eat": 3, "cat": 4, "and": 2}
    assert {4} == set(res["node_freq"])
    assert res["articles"].to_dict() == {"chase": 2, "eat": 2, "cat": 1, "and": 1}
    assert res.attrs["tokens"] == 19


def test_measures_by_hand(tiny: cs.Index) -> None:
    """logDice, MI, G2 and t-score equal the values worked out in the module docstring."""
    res = collocates(tiny, "cat", window_left=1, window_right=1, min_freq=1).set_index("stem")
    assert pytest.approx([13.415037, 1.247928, 3.789476, 0.818755], abs=1e-5) == \
        res.loc["chase", ["logdice", "mi", "g2", "t_score"]].tolist()
    assert pytest.approx([13.192645, 0.662965, 0.874812, 0.521026], abs=1e-5) == \
        res.loc["eat", ["logdice", "mi", "g2", "t_score"]].tolist()
    assert pytest.approx(12.415037, abs=1e-5) == res.loc["and", "logdice"]


def test_sort_by_other_measure(tiny: cs.Index) -> None:
    """measure='g2' orders by log-likelihood (chase 3.79 > eat 0.87 > cat 0.13)."""
    res = collocates(tiny, "cat", window_left=1, window_right=1, min_freq=2, measure="g2")
    assert res["stem"].tolist() == ["chase", "eat", "cat"]


def test_mask_restricts_scope(tiny: cs.Index) -> None:
    """With outlet X only (a1, a3), N = 13, f_n = 2, and frequencies are counted in scope."""
    res = collocates(tiny, "cat", window_left=1, window_right=1, min_freq=1,
                     mask=_mask(tiny, ["a1", "a3"])).set_index("stem")
    assert res["cooc"].to_dict() == {"chase": 1, "and": 1, "eat": 1}
    assert res["freq"].to_dict() == {"chase": 1, "and": 2, "eat": 2}
    assert res.attrs["tokens"] == 13
    assert pytest.approx(14 + np.log2(2 / 3)) == res.loc["chase", "logdice"]


def test_phrase_node(tiny: cs.Index) -> None:
    """A phrase node ("chase cats", only in a2) has the words just outside it as company."""
    res = collocates(tiny, "chase cats", window_left=1, window_right=1, min_freq=1)
    assert sorted(res["collocate"]) == ["cats", "dogs"]
    assert res.attrs["node_freq"] == 1


def test_window_stays_in_article(tiny: cs.Index) -> None:
    """A wide window never reaches into the next article (a1 ends in 'fish', a2 starts
    with 'dogs': 'dogs' co-occurs with the a2 node only through a2's own words)."""
    res = collocates(tiny, "fish", window_left=0, window_right=3, min_freq=1)
    # Right of fish: a1:6 -> nothing; a2:5 -> nothing; a3:0 -> swim and fish; a3:3 -> eat lot
    assert res.set_index("stem")["cooc"].to_dict() == \
        {"swim": 1, "and": 1, "fish": 1, "eat": 1, "lot": 1}


def test_unknown_word_is_empty(tiny: cs.Index) -> None:
    """A word not in the corpus gives an empty table with the same columns."""
    res = collocates(tiny, "zebra")
    assert len(res) == 0
    assert list(COLLOCATE_COLUMNS) == list(res.columns)


def test_bad_input(tiny: cs.Index) -> None:
    """An unknown measure or an empty node is a QueryError with a one-line message."""
    with pytest.raises(QueryError, match="unknown measure"):
        collocates(tiny, "cat", measure="dice")
    with pytest.raises(QueryError, match="no word"):
        collocates(tiny, "  ")


def test_compare_two_slices(tiny: cs.Index) -> None:
    """Side by side: a1 (X) against a2 (Y); chase is a collocate in both, and only in a1."""
    res = compare_collocates(tiny, "cat", _mask(tiny, ["a1"]), _mask(tiny, ["a2"]),
                             window_left=1, window_right=1, min_freq=1, labels=("X", "Y"))
    row = res.set_index("stem").loc["chase"]
    assert (row["cooc_a"], row["cooc_b"]) == (1.0, 1.0)
    assert pytest.approx(14 + np.log2(2 / 3)) == row["score_a"]   # f_n 2, f_c 1
    assert pytest.approx(14 + np.log2(2 / 3)) == row["score_b"]   # f_n 2, f_c 1
    assert np.isnan(res.set_index("stem").loc["and", "cooc_b"])
    assert res.attrs["labels"] == ("X", "Y")
