"""N-gram clusters on a three-article corpus counted by hand.

Tokens: a1 cats chase dogs and cats eat fish / a2 dogs chase cats cats eat fish /
a3 fish swim and fish eat lot. Bigrams occurring twice: "cats eat" (a1, a2) and
"eat fish" (a1, a2); the only repeated trigram is "cats eat fish" (a1, a2). No sequence
spans two articles ("fish dogs" would, a1 -> a2).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus_search as cs
from corpus_search._colloc import NGRAM_COLUMNS, _top_candidates, ngrams
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


def test_bigrams(tiny: cs.Index) -> None:
    """The repeated bigrams with their counts and article counts, commonest first."""
    res = ngrams(tiny, n=2, min_freq=2)
    assert list(NGRAM_COLUMNS) == list(res.columns)
    assert list(res.itertuples(index=False)) == [("cats eat", 2, 2, 2), ("eat fish", 2, 2, 2)]


def test_two_lengths(tiny: cs.Index) -> None:
    """n=(2, 3): ties on count are ordered shorter first, then alphabetically."""
    res = ngrams(tiny, n=(2, 3), min_freq=2)
    assert res["ngram"].tolist() == ["cats eat", "eat fish", "cats eat fish"]


def test_all_bigrams_counted(tiny: cs.Index) -> None:
    """min_freq=1 lists all 14 distinct bigrams (16 bigrams, two of them twice), none
    across articles."""
    res = ngrams(tiny, n=2, min_freq=1, limit=None)
    assert len(res) == 14
    assert res["count"].sum() == 16
    assert "fish dogs" not in set(res["ngram"])


def test_contains_anchor(tiny: cs.Index) -> None:
    """contains='fish' anchored left/right/anywhere picks the sequences by the word's place."""
    left = ngrams(tiny, n=2, contains="fish", anchor="left", min_freq=1)
    assert dict(zip(left["ngram"], left["count"], strict=True)) == {"fish swim": 1, "fish eat": 1}
    right = ngrams(tiny, n=2, contains="fishes", anchor="right", min_freq=1)
    assert dict(zip(right["ngram"], right["count"], strict=True)) == {"eat fish": 2, "and fish": 1}
    anywhere = ngrams(tiny, n=2, contains="fish", min_freq=1)
    assert len(anywhere) == 4


def test_mask(tiny: cs.Index) -> None:
    """Only a1 and a2 in scope: "cats eat fish" still twice; with only a1, nothing repeats."""
    m = np.zeros(len(tiny.live), dtype=bool)
    m[tiny.docnum["tiny.jsonl#a1"]] = True
    assert len(ngrams(tiny, n=3, min_freq=2, mask=m)) == 0
    m[tiny.docnum["tiny.jsonl#a2"]] = True
    assert ngrams(tiny, n=3, min_freq=2, mask=m)["ngram"].tolist() == ["cats eat fish"]


def test_bad_input(tiny: cs.Index) -> None:
    """Lengths outside 2..5 and an anchor without a word are one-line QueryErrors."""
    with pytest.raises(QueryError, match="2 to 5"):
        ngrams(tiny, n=6)
    with pytest.raises(QueryError, match="contains"):
        ngrams(tiny, anchor="left")



def test_top_candidates_keep_every_ngram_of_the_top() -> None:
    """The bucket pre-filter keeps every occurrence of the top-50 n-grams, ties included."""
    rng = np.random.default_rng(5)
    common = rng.zipf(1.3, 100_000).astype(np.uint64) * np.uint64(2_654_435_761)
    rare = rng.integers(1 << 40, 1 << 60, 300_000, dtype=np.uint64)  # mostly once each
    keys = rng.permutation(np.concatenate([common, rare]))
    kept_starts, kept = _top_candidates(np.arange(len(keys)), keys, 50, 2)
    uniq, counts = np.unique(keys, return_counts=True)
    cut = np.sort(counts)[::-1][49]
    kept_uniq, kept_counts = np.unique(kept, return_counts=True)
    got = dict(zip(kept_uniq.tolist(), kept_counts.tolist(), strict=True))
    want = dict(zip(uniq[counts >= cut].tolist(), counts[counts >= cut].tolist(), strict=True))
    assert ({k: got.get(k) for k in want}, len(kept) < len(keys) // 2,
            bool((keys[kept_starts] == kept).all())) == (want, True, True)
