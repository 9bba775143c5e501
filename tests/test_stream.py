"""The token stream (forward index) holds exactly the indexed tokens of every article."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import corpus_search as cs
from corpus_search import _analysis, _stream
from corpus_search._corpus import load_corpus
from corpus_search._stream import _tokens, _word_ids, build_stream, load_stream, write_stream

FURNITURE = (
    "Sanctions were imposed on Monday.\nShare this article\n"
    "Officials said the U.S. sanctions would stay.\nRead Full Article at RT.com\n"
    "Related articles: more sanctions"
)


def _corpus(path: Path, docs: dict[str, str]) -> Path:
    src = path / "c.jsonl"
    src.write_text(
        "".join(
            json.dumps(
                {"id": k, "title": "Headline words", "text": v, "outlet": "X", "date": "2022-03-01"}
            )
            + "\n"
            for k, v in docs.items()
        ),
        "utf-8",
    )
    return src


def _check_matches_index(ix: cs.Snapshot) -> int:
    stream = load_stream(ix.gen_path)
    checked = 0
    for d in range(len(ix.live)):
        words = [stream.words[i] for i in stream.doc(d)]
        if not ix.live[d]:
            assert words == []
            continue
        text = ix.searcher.stored_fields(d)["text"]
        assert [t[0].lower() for t in _analysis.article_tokens(text)] == words
        assert ix.tokens[d] == len(words)
        checked += 1
    return checked


def test_furniture_left_out(tmp_path: Path) -> None:
    """Furniture lines and one-letter words are not in the stream; U.S. is one token."""
    cs.build([_corpus(tmp_path, {"a": FURNITURE})], tmp_path / "ix", entities=False, progress=False)
    with cs.open_index(tmp_path / "ix").snapshot() as ix:
        stream = load_stream(ix.gen_path)
        assert [stream.words[i] for i in stream.doc(0)] == [
            "sanctions",
            "were",
            "imposed",
            "on",
            "monday",
            "officials",
            "said",
            "the",
            "u.s",
            "sanctions",
            "would",
            "stay",
        ]
        assert stream.stems[stream.word_stem[stream.word_index["sanctions"]]] == "sanction"
        assert _check_matches_index(ix) == 1


def test_incremental_build_rewrites_stream(tmp_path: Path) -> None:
    """After an update (one article changed, one removed, one added) the stream matches
    every live article again and removed docnums are empty."""
    docs = {
        "a": "Alpha beta gamma delta.",
        "b": "Beta gamma epsilon zeta eta.",
        "c": "Theta iota kappa lambda.",
    }
    cs.build([_corpus(tmp_path, docs)], tmp_path / "ix", entities=False, progress=False)
    docs = {"a": "Alpha beta changed delta now.", "c": docs["c"], "d": "Brand new words."}
    cs.build([_corpus(tmp_path, docs)], tmp_path / "ix", entities=False, progress=False)
    with cs.open_index(tmp_path / "ix").snapshot() as ix:
        assert _check_matches_index(ix) == 3
        assert ix.gen_path.name == "gen-000002"


def test_write_stream_gaps(tmp_path: Path) -> None:
    """Docnums not given get empty ranges; word frequencies are counted."""
    n = write_stream(tmp_path, [(1, "the cat and the hat"), (3, "a hat")], n_docs=5)
    stream = load_stream(tmp_path)
    assert n == 6
    assert stream.indptr.tolist() == [0, 0, 5, 5, 6, 6]
    assert stream.word_freq[stream.word_index["hat"]] == 2
    assert np.uint16 == stream.ids.dtype  # a vocabulary of up to 65,536 words


def test_stream_is_int32_when_the_vocabulary_is_large(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over ``_SMALL_VOCAB`` words the ids stay int32; a stream carried from a uint16 one
    into an int32 one (and back) keeps every article's words."""
    texts = ["the cat sat", "a lone zebra here", "the hat", "cat and hat"]
    small, large, back = tmp_path / "small", tmp_path / "large", tmp_path / "back"
    for d in (small, large, back):
        d.mkdir()
    write_stream(small, enumerate(texts))
    monkeypatch.setattr(_stream, "_SMALL_VOCAB", 4)
    write_stream(large, [(4, "new words here and more")], previous=build_stream(small),
                 carry=np.array([0, 1, 2, 3, -1]))
    monkeypatch.setattr(_stream, "_SMALL_VOCAB", 1 << 16)
    write_stream(back, [], previous=build_stream(large), carry=np.array([4, 3, 2, 1, 0]))
    words = [[s.words[w] for w in s.doc(i)] for s in [load_stream(small)] for i in range(4)]
    got_large, got_back = load_stream(large), load_stream(back)
    assert (np.int32, np.uint16) == (got_large.ids.dtype, got_back.ids.dtype)
    assert [[got_large.words[w] for w in got_large.doc(i)] for i in range(4)] == words
    assert [[got_back.words[w] for w in got_back.doc(4 - i)] for i in range(4)] == words
    assert [got_back.words[w] for w in got_back.doc(0)] == "new words here and more".split()


def test_write_stream_carries_previous(tmp_path: Path) -> None:
    """Articles carried from a previous stream (read from its file, or memory-mapped)
    keep their words; words only dropped articles held leave the vocabulary."""
    old_dir, new_dir, want_dir = tmp_path / "old", tmp_path / "new", tmp_path / "want"
    for d in (old_dir, new_dir, want_dir):
        d.mkdir()
    texts = ["the cat sat", "a lone zebra here", "the hat", "cat and hat"]
    write_stream(old_dir, enumerate(texts))
    # new docnums: 0 <- old 2, 1 <- old 0, 2 new, 3 <- old 3 (old 1, the zebra, dropped)
    carry = np.array([2, 0, -1, 3])
    final = [texts[2], texts[0], "new words here", texts[3]]
    write_stream(want_dir, enumerate(final))
    want = load_stream(want_dir)
    for previous in (build_stream(old_dir), load_stream(old_dir)):
        n = write_stream(new_dir, [(2, "new words here")], previous=previous, carry=carry)
        got = load_stream(new_dir)
        assert n == len(want)
        assert got.indptr.tolist() == want.indptr.tolist()
        assert [[got.words[w] for w in got.doc(i)] for i in range(4)] == \
            [[want.words[w] for w in want.doc(i)] for i in range(4)]
        assert "zebra" not in got.words
        assert sorted(zip(got.words, got.word_freq.tolist(), strict=True)) == \
            sorted(zip(want.words, want.word_freq.tolist(), strict=True))
        assert sorted(got.stems) == sorted(want.stems)


REALSHAPED = Path(__file__).resolve().parent / "data" / "realshaped" / "corpus"
ODD_TEXTS = ["x y The U.S. and e.g. İstanbul straße ÉCOLE İ ǅ", "a", "", FURNITURE,
             "Share this\nthe THE The tHe", " ".join(["the"] * 1500) + " far " * 3]


def test_word_ids_equal_the_token_by_token_stream(tmp_path: Path) -> None:
    """The stream's word ids (one findall per text, a cache per token as written) are the
    ids the token-by-token loop gives, new words numbered in the same order, on the
    real-shaped corpus (furniture stripped as the build does, and not) and odd texts."""
    arts = load_corpus([REALSHAPED]).articles
    texts = [*ODD_TEXTS, *(_analysis.strip_furniture(a.body) for a in arts),
             *(a.body for a in arts), *ODD_TEXTS]
    expected: dict[str, int] = {}
    want = [[expected.setdefault(w, len(expected)) for w in _tokens(t)] for t in texts]
    vocab: dict[str, int] = {}
    raw: dict[str, int] = {}
    got = [_word_ids(t, vocab, raw).tolist() for t in texts]
    assert want == got
    assert list(expected) == list(vocab)
    write_stream(tmp_path, enumerate(texts))
    stream = load_stream(tmp_path)
    assert [w for ws in want for w in ws] == stream.ids.tolist()


def test_prepared_word_ids_give_the_stream_of_the_texts(tmp_path: Path) -> None:
    """Articles given as word ids prepared in another order (with texts among them, and
    a previous stream carried) give the stream their texts give, file for file."""
    arts = load_corpus([REALSHAPED]).articles
    texts = [*ODD_TEXTS, *(_analysis.strip_furniture(a.body) for a in arts[:30])]
    prepared = _stream.PreparedIds()
    order = list(reversed(range(len(texts))))  # prepared in another order than written
    for run in (order[:len(order) // 2], order[len(order) // 2:]):  # each its own words
        vocab: dict[str, int] = {}
        raw: dict[str, int] = {}
        ids = [_stream._word_ids(texts[k], vocab, raw,
                                 _analysis._FINDALL(texts[k]) if k % 2 else None)
               for k in run]
        prepared.add_run([f"d{k}" for k in run], list(vocab), np.concatenate(ids),
                         np.array([len(i) for i in ids]))
    assert prepared.get("missing") is None
    prepared.finish()
    old, want_dir, got_dir = tmp_path / "old", tmp_path / "want", tmp_path / "got"
    for d in (old, want_dir, got_dir):
        d.mkdir()
    write_stream(old, enumerate(["the cat sat", "zebra crossing", "a new hat"]))
    carry = np.array([-1, 2, 0] + [-1] * (len(texts) - 1))
    fresh = [0, *range(3, len(texts) + 2)]
    given = dict(zip(fresh, texts, strict=True))
    write_stream(want_dir, sorted(given.items()), previous=build_stream(old), carry=carry)
    mixed = [(n, t if k % 3 == 0 else prepared.get(f"d{k}"))
             for k, (n, t) in enumerate(sorted(given.items()))]
    assert sum(isinstance(t, np.ndarray) for _, t in mixed) > 20
    write_stream(got_dir, mixed, previous=build_stream(old), carry=carry,
                 prepared=prepared.words)
    for name in _stream.STREAM_FILES:
        assert (want_dir / name).read_bytes() == (got_dir / name).read_bytes(), name
    with pytest.raises(ValueError, match="prepared="):
        write_stream(tmp_path, [(0, prepared.get("d1"))])
