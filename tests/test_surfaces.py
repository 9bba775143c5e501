"""The build's surface-word pass (surface document frequencies, case counts, indexed
texts, stream word ids) on one process and on two."""

from __future__ import annotations

import hashlib
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import corpus_search as cs
from corpus_search import _analysis, _segwriter, _stream
from corpus_search import _build as build_module

REALSHAPED = Path(__file__).resolve().parent / "data" / "realshaped" / "corpus"


def _contents(index_dir: Path) -> dict[str, object]:
    """Everything a generation holds, by what it is: manifest tables, and the md5 of each
    file (Whoosh's segment files by extension, their names being random: the sorted md5s
    of all segments' files of an extension)."""
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    db = sqlite3.connect(gen / "manifest.sqlite")
    got: dict[str, object] = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                              for t in ("surfaces", "cases", "articles")}
    db.close()
    for f in sorted(gen.iterdir()):
        if f.name.startswith("MAIN_") and not f.name.endswith("WRITELOCK"):
            key = "segment" + f.name[len("MAIN_") + 16:]
            got[key] = sorted([*got.get(key, []), hashlib.md5(f.read_bytes()).hexdigest()])
            continue
        if f.suffix in (".sqlite", ".json", ".sig") or f.name.startswith("_MAIN"):
            continue  # the manifest (compared above), marker, signature, TOC: dated
        else:
            key = f.name
        got[key] = hashlib.md5(f.read_bytes()).hexdigest()
    return got


@pytest.mark.parametrize("workers_only", [False, True], ids=["halves", "workers-only"])
def test_surface_pass_on_two_processes_equals_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers_only: bool
) -> None:
    """Counting the surface words in runs, half of them on a dask worker (or all of them
    on two, from ``WORKERS_ONLY_MIN_DOCS``), gives the same manifest counts, token counts,
    stream and segments as one process (the real-shaped corpus: boilerplate lines,
    furniture, capitals, odd Unicode)."""
    monkeypatch.setattr(build_module, "PARALLEL_MIN_ARTICLES", 10**9)
    cs.build([REALSHAPED], tmp_path / "one", entities=False, progress=False)
    expected = _contents(tmp_path / "one")

    halves: list[tuple[int, int]] = []
    real_halves, real_commit = build_module.run_halves, _segwriter.commit

    def run_halves(mine, theirs, *args, **kwargs):
        halves.append((len(mine), len(theirs), kwargs.get("n_workers", 1)))
        return real_halves(mine, theirs, *args, **kwargs)

    def commit(writer, docs, *, two_processes=False):  # one segment, as above
        return real_commit(writer, docs, two_processes=False)

    monkeypatch.setattr(build_module, "PARALLEL_MIN_ARTICLES", 10)
    monkeypatch.setattr(build_module, "SURFACE_RUN", 7)
    monkeypatch.setattr(build_module, "run_halves", run_halves)
    monkeypatch.setattr(_segwriter, "commit", commit)
    monkeypatch.setattr(_segwriter, "WORKERS_ONLY_MIN_DOCS", 1 if workers_only else 10**9)
    cs.build([REALSHAPED], tmp_path / "two", entities=False, progress=False)
    # 90 articles: 45 a process, in runs of 7; or 13 runs shared by two workers
    assert halves == ([(0, 13, 2)] if workers_only else [(7, 7, 1)])
    got = _contents(tmp_path / "two")
    assert sorted(expected) == sorted(got)
    for key in expected:
        assert (key, expected[key]) == (key, got[key])


def test_surface_run_counts_each_article_once_per_word() -> None:
    """A run's document frequencies count articles, its case counts capitals, its token
    counts every indexed token; texts with furniture come back stripped, others as None."""
    run = build_module._surface_run([
        ("The Mayor said the mayor would go.", frozenset()),
        ("Mayor Smith spoke.\nShare this article", frozenset()),
        ("a b mayor", frozenset()),
    ])
    assert run.df["mayor"] == 3
    assert run.df["the"] == 1
    assert (run.cases.capital["mayor"], run.cases.only["mayor"]) == (2, 1)
    assert run.ntokens == [7, 3, 1]
    assert run.indexed[0] is None and run.indexed[2] is None
    assert run.indexed[1] == "Mayor Smith spoke."
    assert run.lengths.tolist() == [7, 3, 1]
    assert run.firsts == [0, 0, 2]  # "a b": two tokens of one letter before "mayor"
    words = np.asarray(run.words)
    assert words[run.ids[:7]].tolist() == ["the", "mayor", "said", "the", "mayor", "would",
                                           "go"]


def _counted_from_words(texts: list[tuple[str, frozenset[str]]]
                        ) -> tuple[Counter[str], Counter[str], Counter[str], list[int]]:
    """Surface document frequencies, case counts and token counts as the incremental build
    takes them out again: from each article's words (``cased_words``), word by word."""
    df: Counter[str] = Counter()
    cases = build_module._Cases()
    ntokens = []
    for text, lines in texts:
        words = _analysis.cased_words(_analysis.strip_furniture(text, lines))
        df.update(cases.add(words))
        ntokens.append(len(words))
    return df, cases.capital, cases.only, ntokens


TRICKY = [
    ("İ İstanbul İ i̇ I a b İs the THE The", frozenset()),  # U+0130 alone and in words
    ("Advertisement read full story at rt.com\nMayor Ali said a word", frozenset()),
    ("Image\nThe Mayor of İzmir\nFollow us on X", frozenset()),
    ("BBC bbc Bbc x Y 7 99 U.S. u.s. ΟΔΟΣ οδος Straße STRASSE", frozenset()),
    ("Share this\nMayor\nrel line", frozenset({"rel line"})),
    ("", frozenset()),
    ("a b c", frozenset()),
    ("Sigma ΣΑΣ σας İ", frozenset()),
    ("The Mayor of İzmir and İstanbul", frozenset()),  # U+0130 in words only: from ids
    ("iPhone IPHONE Iphone mayor Mayor", frozenset()),
    ("eBay iOS said", frozenset()),  # mixed case, no capital first
    ("𝐀𝐁𝐂 Ǆemal ǅemal ǆemal ⅠⅡ ⅰⅱ", frozenset()),  # capitals without a lower case, title case
]


def test_surface_run_counts_as_the_words_do() -> None:
    """The pass's document frequencies (taken from word ids where they are the surface
    words), case and token counts equal those counted from the words themselves, with
    one-letter "İ" (a two-character stream word), furniture left in, and mixed case."""
    texts = TRICKY * 3 + [(t.lower(), f) for t, f in TRICKY] + [(t.upper(), f)
                                                                for t, f in TRICKY]
    assert any(_analysis.furniture_ranges(_analysis.strip_furniture(t, f))
               for t, f in texts)
    run = build_module._surface_run(texts)
    df, capital, only, ntokens = _counted_from_words(texts)
    assert (dict(run.df), dict(run.cases.capital), dict(run.cases.only), run.ntokens) == (
        dict(df), dict(capital), dict(only), ntokens)
    assert ("i̇" in run.words, "i̇" in df, df["i̇stanbul"] > 0) == (True, False, True)


def test_only_dotted_capital_i_lowers_to_two_characters() -> None:
    """``_GROWS`` is the one character whose lower case is longer (else a one-letter
    token of another would be a stream word and not a surface word)."""
    longer = [chr(c) for c in range(0x110000) if len(chr(c).lower()) != 1]
    assert longer == [build_module._GROWS]


def test_lower_casing_is_idempotent() -> None:
    """No character's lower case lower-cases further (``_coded_ids`` relies on it)."""
    moved = [chr(c) for c in range(0x110000) if chr(c).lower().lower() != chr(c).lower()]
    assert moved == []


def test_prepared_ids_of_runs_are_renumbered_to_one_vocabulary() -> None:
    """``PreparedIds.add_run`` keeps runs counted with vocabularies of their own under one
    numbering; ids that disagree with their keys are refused."""
    prepared = _stream.PreparedIds()
    prepared.add_run(["a", "b"], ["x", "y"], np.array([0, 1, 1], dtype=np.int32),
                     np.array([1, 2]))
    prepared.add_run(["c"], ["y", "z"], np.array([1, 0], dtype=np.int32), np.array([2]))
    prepared.finish()
    words = np.asarray(prepared.words)
    assert [words[prepared.get(k)].tolist() for k in "abc"] == [["x"], ["y", "y"],
                                                                ["z", "y"]]
    with pytest.raises(ValueError, match="after finish"):
        prepared.add_run(["d"], ["x"], np.array([0], dtype=np.int32), np.array([1]))
    other = _stream.PreparedIds()
    with pytest.raises(ValueError, match="do not agree"):
        other.add_run(["d"], ["x"], np.array([0, 0], dtype=np.int32), np.array([1]))


@pytest.mark.parametrize("processes", [1, 2])
def test_segments_from_the_surface_pass_tokens_equal_segments_from_texts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    """Bodies the segment writer takes as the surface pass cut them (``_tokens``) give the
    segments, stream and manifest of bodies it cuts itself (the real-shaped corpus; on
    two processes, the worker's runs come to it with their words)."""
    if processes == 2:
        monkeypatch.setattr(build_module, "PARALLEL_MIN_ARTICLES", 10)
        monkeypatch.setattr(_segwriter, "SEGMENT_MAX_DOCS", 20)
    cut: list[bool] = []
    real_make = build_module._Documents.__getitem__

    def getitem(self, key):
        got = real_make(self, key)
        if isinstance(got, dict):
            cut.append("_tokens" in got)
        return got

    monkeypatch.setattr(build_module._Documents, "__getitem__", getitem)
    cs.build([REALSHAPED], tmp_path / "cut", entities=False, progress=False)
    expected_cut = cut.copy()
    monkeypatch.setattr(_stream.PreparedIds, "first", lambda self, key: -1)
    cut.clear()
    cs.build([REALSHAPED], tmp_path / "texts", entities=False, progress=False)
    assert (len(expected_cut), sum(cut)) == (len(cut), 0)
    assert sum(expected_cut) >= 80  # of 90 (bodies with furniture left in are cut again)
    expected, got = _contents(tmp_path / "texts"), _contents(tmp_path / "cut")
    assert sorted(expected) == sorted(got)
    for key in expected:
        assert (key, expected[key]) == (key, got[key])


def test_prepared_first_says_where_ids_are_indexed_tokens() -> None:
    """``first``: 0 unless given, -1 for ids that are not the indexed tokens and for keys
    not kept."""
    prepared = _stream.PreparedIds()
    prepared.add_run(["a", "b", "c"], ["x"], np.zeros(3, dtype=np.int32), np.array([1, 1, 1]),
                     [0, 4, -1])
    prepared.add_run(["d"], ["x"], np.zeros(1, dtype=np.int32), np.array([1]))
    assert [prepared.first(k) for k in "abcde"] == [0, 4, -1, -1, -1]
    with pytest.raises(ValueError, match="firsts"):
        prepared.add_run(["e"], ["x"], np.zeros(1, dtype=np.int32), np.array([1]), [0, 0])
