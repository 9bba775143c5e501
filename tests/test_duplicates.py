"""Near-duplicate clusters on a corpus with one story in three versions.

Story A is 60 distinct words (56 five-word shingles). A1 (RT, 2022-01-01) changes two
words far apart: each change replaces 5 shingles, so J(A, A1) = (56 - 10) / (56 + 10) =
46/66. A2 (BBC, 2022-01-03) appends 10 new words: J(A, A2) = 56/66, and against the
first (earliest) version A1: shared 46, union 66 + 10 = 76, J = 46/76. B is unrelated;
S is too short (under 30 words) to be judged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import corpus_search as cs
from corpus_search import _dups
from corpus_search._dups import CLUSTER_COLUMNS, count_once, duplicate_clusters

WORDS = [f"story{i}" for i in range(60)]
A = " ".join(WORDS)
A1 = " ".join("changed" if i == 10 else "altered" if i == 40 else w
              for i, w in enumerate(WORDS))
A2 = A + " " + " ".join(f"extra{i}" for i in range(10))
B = " ".join(f"other{i}" for i in range(60))
S = " ".join(WORDS[:20])
ARTICLES = [("a", "AP", "2022-01-02", A), ("a1", "RT", "2022-01-01", A1),
            ("a2", "BBC", "2022-01-03", A2), ("b", "AP", "2022-01-01", B),
            ("s", "AP", "2022-01-05", S)]


@pytest.fixture
def ix(tmp_path: Path, build_rows) -> cs.Snapshot:
    """The five articles, built without entities and opened."""
    index = cs.open_index(build_rows(ARTICLES, tmp_path, "d.jsonl", title="Title {id}")).snapshot()
    yield index
    index.close()


def test_signatures_do_not_depend_on_the_chunk_size(
    ix: cs.Snapshot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MinHash signatures hashed a few tokens at a time equal those hashed all at once."""
    stream = ix.stream
    docs = _dups._eligible(stream)
    monkeypatch.setattr(_dups, "_CHUNK_TOKENS", 10**9)
    whole = _dups._signatures(stream, docs)
    monkeypatch.setattr(_dups, "_CHUNK_TOKENS", 70)  # about one article a chunk
    assert whole.tolist() == _dups._signatures(stream, docs).tolist()
    assert len(docs) == 4  # every article but the short one


def test_one_cluster_earliest_first(ix: cs.Snapshot) -> None:
    """The three versions form one cluster, earliest (A1) first, with exact similarities."""
    res = duplicate_clusters(ix)
    assert list(CLUSTER_COLUMNS) == list(res.columns)
    assert res["doc_id"].tolist() == ["d.jsonl#a1", "d.jsonl#a", "d.jsonl#a2"]
    assert res["first"].tolist() == [True, False, False]
    assert {0} == set(res["cluster"]) and {3} == set(res["size"])
    assert pytest.approx([1.0, 46 / 66, 46 / 76], abs=1e-6) == res["similarity"].tolist()
    assert res["outlet"].tolist() == ["RT", "AP", "BBC"]


def test_count_once(ix: cs.Snapshot) -> None:
    """count_once keeps one article per cluster (the earliest in scope) and the rest."""
    keep = count_once(ix)
    kept = sorted(ix.doc_ids[i] for i in np.flatnonzero(keep))
    assert kept == ["d.jsonl#a1", "d.jsonl#b", "d.jsonl#s"]
    mask = np.ones(len(ix.live), dtype=bool)
    mask[ix.docnum["d.jsonl#a1"]] = False
    kept = sorted(ix.doc_ids[i] for i in np.flatnonzero(count_once(ix, mask)))
    assert kept == ["d.jsonl#a", "d.jsonl#b", "d.jsonl#s"]


def test_scope_min_size(ix: cs.Snapshot) -> None:
    """With only A and B in scope no cluster has two members in scope."""
    mask = np.zeros(len(ix.live), dtype=bool)
    mask[[ix.docnum["d.jsonl#a"], ix.docnum["d.jsonl#b"]]] = True
    assert len(duplicate_clusters(ix, mask=mask)) == 0
    assert len(duplicate_clusters(ix, mask=mask, min_size=1)) == 1


# Hand-checked pairs (read side by side): the same story re-edited or updated.
BBC_PAIRS = [("business/209", "business/229"), ("business/260", "business/354"),
             ("politics/043", "politics/313"), ("sport/424", "sport/511"),
             ("tech/009", "tech/379"), ("entertainment/179", "entertainment/216")]
# Hand-checked non-pairs: related stories, not copies (Jaccard 0.36-0.46).
BBC_APART = [("politics/327", "politics/328"), ("entertainment/143", "entertainment/159"),
             ("tech/018", "tech/190")]


def test_bbc_hand_checked(bbc_path: Path, tmp_path: Path) -> None:
    """On the BBC set, hand-checked near copies share a cluster and related stories do not."""
    cs.build([bbc_path], tmp_path / "bbc", entities=False, progress=False)
    with cs.open_index(tmp_path / "bbc").snapshot() as ix:
        res = duplicate_clusters(ix)
    cluster = dict(zip(res["doc_id"], res["cluster"], strict=True))
    for a, b in BBC_PAIRS:
        assert cluster.get(a) is not None and cluster.get(a) == cluster.get(b), (a, b)
    for a, b in BBC_APART:
        assert cluster.get(a) is None or cluster.get(a) != cluster.get(b), (a, b)
