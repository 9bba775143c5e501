"""Term frequency, charts, concordance, comparison, keyness and similar articles."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import qparser
from whoosh import query as wq

import corpus_search as cs
from corpus_search._analysis import (
    TOKEN_PATTERN,
    cased_words,
    make_analyzer,
    make_pairs_analyzer,
    reference_analyzer,
    strip_furniture,
    surface_words,
)
from corpus_search._kwic import KWIC_COLUMNS
from corpus_search._plots import plot_terms
from corpus_search._query import parse_query, phrase_pairs
from corpus_search._terms import TERM_COLUMNS
from corpus_search.cli import main

SEEDS = Path(__file__).resolve().parent.parent / "corpus"

RT, NBC = "002_6774853757ba448b", "000_681841e30ad004f4"


@pytest.fixture(scope="module")
def dated_index(tmp_path_factory: pytest.TempPathFactory) -> cs.Index:
    """A small dated corpus: January and March articles, nothing in February."""
    root = tmp_path_factory.mktemp("dated")
    recs = [
        {
            "id": "1",
            "title": "Sanctions",
            "text": "Sanctions were agreed. More sanctions.",
            "outlet": "A",
            "date": "2022-01-05",
        },
        {
            "id": "2",
            "title": "Talks",
            "text": "Talks on sanctions and gas prices.",
            "outlet": "B",
            "date": "2022-01-20",
        },
        {
            "id": "3",
            "title": "Gas",
            "text": "Gas prices rose again in March.",
            "outlet": "A",
            "date": "2022-03-02",
        },
        {"id": "4", "title": "Undated", "text": "A sanction with no date.", "outlet": "B"},
    ]
    (root / "a.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    cs.build([root], root / "ix", progress=False, entities=False)
    return cs.open_index(root / "ix")


def test_nato_by_article_equals_plain_count(plain_index: cs.Index) -> None:
    """Counting NATO by article equals a case-insensitive count in each indexed body."""
    df = plain_index.term_frequency(["NATO"], by="article", field="body")
    assert list(TERM_COLUMNS) == list(df.columns)
    for row in df.itertuples(index=False):
        body = strip_furniture(plain_index.show(row.group).text)
        assert len(re.findall(r"\bnato\b", body, re.IGNORECASE)) == row.count


def test_stemmed_forms_and_phrases(plain_index: cs.Index) -> None:
    """A word counts all its forms and says which; a phrase counts as a phrase."""
    df = plain_index.term_frequency(["sanction", '"more NATO"'], by=None)
    sanction, phrase = df.iloc[0], df.iloc[1]
    assert "sanctions" in sanction["forms"]
    assert (phrase["articles"], phrase["count"]) == (1, 2)


def test_months_include_gaps(dated_index: cs.Index) -> None:
    """Empty months are rows with no words and NaN per 10k; undated articles are left out."""
    df = dated_index.term_frequency("sanctions", by="month", field="body")
    assert df["group"].tolist() == ["2022-01", "2022-02", "2022-03"]
    assert df["count"].tolist() == [3, 0, 0]
    assert df["tokens"].iloc[1] == 0
    assert np.isnan(df["per_10k"].iloc[1])
    assert df.attrs["articles"] == 3


def test_outlets_and_query(dated_index: cs.Index) -> None:
    """Grouping by outlet respects a query; per 10k uses the group's words."""
    df = dated_index.term_frequency("gas", by="outlet", query="prices", field="body")
    rows = {r.group: (r.count, r.tokens) for r in df.itertuples(index=False)}
    assert rows == {"A": (1, 6), "B": (1, 6)}
    assert pytest.approx(df["per_10k"].tolist()) == [10_000 / 6] * 2


def test_plot_month_has_gap_and_caption(dated_index: cs.Index, tmp_path: Path) -> None:
    """The month chart shows a gap (NaN) for February and states its denominators."""
    fig = plot_terms(
        dated_index.term_frequency(["sanctions", "gas"], by="month", field="body"), per_10k=True
    )
    ax = fig.axes[0]
    y = ax.lines[0].get_ydata()
    assert np.isnan(y[1])
    assert ax.get_ylabel() == "per 10,000 words"
    caption = " ".join(t.get_text() for t in fig.texts)
    assert "Counted in bodies of 3 articles, 17 words" in caption
    fig.savefig(tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 5_000


def test_plot_outlet_bars(plain_index: cs.Index) -> None:
    """By outlet the chart is one bar per outlet and term."""
    fig = plot_terms(plain_index.term_frequency(["NATO", "Russia"], by="outlet"))
    assert len(fig.axes[0].patches) == 10


def test_concordance_offsets(plain_index: cs.Index) -> None:
    """Every hit's offsets point at the match in the stored text."""
    df = plain_index.concordance('"more NATO" OR sanction*')
    assert list(KWIC_COLUMNS) == list(df.columns)
    assert len(df) == 2 + 1 + 3  # "more NATO" twice in RT; sanctions in 001 once, 004 thrice
    for row in df.itertuples(index=False):
        assert row.match == plain_index.show(row.doc_id).text[row.start : row.end]
    assert {"more NATO", "sanctions"} == set(df["match"])


def test_concordance_sorting(plain_index: cs.Index) -> None:
    """Sorting by the right context orders by the first word after the match."""
    df = plain_index.concordance("Stoltenberg", sort="right")
    firsts = [re.findall(r"\w+", r.lower())[0] for r in df["right"]]
    assert sorted(firsts) == firsts


def test_concordance_skips_furniture(plain_index: cs.Index) -> None:
    """ "Read Full Article at RT.com" is furniture, so "article" has no hit in the RT piece."""
    df = plain_index.concordance("article")
    assert RT not in set(df["doc_id"])


def test_compare_rt_and_nbc(seed_index: cs.Index) -> None:
    """RT and NBC share Jens Stoltenberg, NATO, Russia and Ukraine."""
    cmp = seed_index.compare(RT, NBC)
    assert {"Jens Stoltenberg", "NATO", "Russia", "Ukraine"} <= set(cmp.shared_entities())
    assert 0 < cmp.similarity < 1
    assert "stoltenberg" in set(cmp.terms["stem"])
    assert "Stoltenberg" in set(cmp.terms["term"])  # the word as written, not the stem


def test_compare_matching_sentences(tmp_path: Path) -> None:
    """Wire copy shared by two outlets is paired sentence by sentence."""
    wire = "The minister said the talks in Geneva would resume on Monday morning."
    (tmp_path / "a.txt").write_text(f"One\n\nFirst outlet intro here. {wire} More text.")
    (tmp_path / "b.txt").write_text(f"Two\n\nOther lead sentence. {wire[:-1]}, officials said.")
    cs.build([tmp_path], tmp_path / "ix", progress=False, entities=False)
    cmp = cs.open_index(tmp_path / "ix").compare("a", "b")
    assert len(cmp.sentences) == 1
    assert wire == cmp.sentences["a_text"].iloc[0]
    html = cmp._repr_html_()
    assert 'href="#cs-b-1"' in html and 'id="cs-a-1"' in html


def test_html_escapes_markup(tmp_path: Path) -> None:
    """Article text, titles and URLs cannot inject markup into the HTML views."""
    evil = "<script>alert(1)</script> <img src=x onerror=alert(2)>"
    recs = [
        {
            "title": f"T {evil}",
            "text": f"Body {evil} NATO",
            "url": "javascript:alert(3)",
            "outlet": "<b>O</b>",
        },
        {"title": "Plain", "text": f"NATO body {evil}", "url": "https://ok.example/x"},
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in recs))
    cs.build([tmp_path], tmp_path / "ix", progress=False, entities=False)
    index = cs.open_index(tmp_path / "ix")
    pages = [
        index.compare("a.jsonl:1", "a.jsonl:2")._repr_html_(),
        index.show("a.jsonl:1")._repr_html_(),
        index.search("NATO")._repr_html_(),
    ]
    for html in pages:
        assert "<script>" not in html and "<img" not in html and "<b>O</b>" not in html
        assert (
            "javascript:" not in html.replace("javascript:alert(3)", "")
            or 'href="javascript' not in html
        )
        assert 'href="javascript' not in html
    assert "&lt;script&gt;" in pages[1]
    assert 'href="https://ok.example/x"' in pages[0]


def test_keyness_rt(plain_index: cs.Index) -> None:
    """What RT says that the others do not: words only RT uses rank first."""
    df = plain_index.keyness({"outlet": "RT"}, min_freq=3)
    assert df["g2"].is_monotonic_decreasing
    top = df.iloc[0]
    assert top["reference"] == 0 and top["log_ratio"] > 0
    assert {k: df.attrs[k] for k in ("target_articles", "reference_articles")} == {
        "target_articles": 1,
        "reference_articles": 4,
    }


def test_keyness_needs_target(plain_index: cs.Index) -> None:
    """Keyness without a target is a QueryError, not a traceback."""
    with pytest.raises(cs.QueryError):
        plain_index.keyness({})


def test_similar(plain_index: cs.Index) -> None:
    """More-like-this returns other articles, best first, never the article itself."""
    df = plain_index.similar(RT, limit=3)
    assert len(df) == 3
    assert RT not in set(df["doc_id"])
    assert df["score"].is_monotonic_decreasing


def test_cli_terms_and_kwic(
    seed_index_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """terms --json and --plot, kwic --json, compare --html work from the command line."""

    png = tmp_path / "t.png"
    assert (
        main(
            [
                "terms",
                "NATO",
                "--by",
                "article",
                "--index",
                str(seed_index_dir),
                "--json",
                "--plot",
                str(png),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 5 and png.stat().st_size > 5_000
    assert main(["kwic", '"more NATO"', "--index", str(seed_index_dir), "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["rows"]) == 2
    html = tmp_path / "c.html"
    assert (
        main(["compare", RT, NBC, "--index", str(seed_index_dir), "--html", str(html), "--json"])
        == 0
    )
    assert "Jens Stoltenberg" in json.loads(capsys.readouterr().out)["entities"]["person"]["shared"]
    assert "<!doctype html>" in html.read_text()


_KWARGS = [
    dict(mode="index", positions=True, chars=True),
    dict(mode="query"),
    dict(mode="query", tokenize=False, removestops=False),
    dict(mode="query", removestops=False),
    dict(mode="index", start_pos=3, start_char=7, positions=True, chars=True),
]


def _tokens(analyzer, text: str, kw: dict) -> list[tuple]:
    return [
        (
            t.text,
            t.stopped,
            getattr(t, "pos", None),
            getattr(t, "startchar", None),
            getattr(t, "endchar", None),
        )
        for t in analyzer(text, **kw)
    ]


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from([*"ab Zé.'-\n1", "Warned", "U.S.", "Stoltenberg’s", "Зеленський"]),
        max_size=30,
    ).map("".join)
)
def test_fused_analyzer_equals_whoosh_pipeline(text: str) -> None:
    """The fused tokenizer gives exactly the Whoosh pipeline's tokens, in every mode."""
    for kw in _KWARGS:
        assert _tokens(reference_analyzer(), text, kw) == _tokens(make_analyzer(), text, kw)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(
        st.sampled_from([*"ab Zé.'-\n1_", "İ", "Warned", "U.S.", "e.g.", "Stoltenberg’s"]),
        max_size=30,
    ).map("".join)
)
def test_word_lists_are_the_token_pattern_s_matches(text: str) -> None:
    """cased_words and surface_words (one findall) are the token pattern's matches."""
    matches = [m.group() for m in re.finditer(TOKEN_PATTERN, text) if len(m.group()) >= 2]
    assert matches == cased_words(text)
    assert [m.lower() for m in matches] == surface_words(text)


def test_fused_analyzer_on_seeds() -> None:
    """Token for token equal on the five seed articles; pairs are neighbouring common stems."""
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for kw in _KWARGS[:1]:
            assert _tokens(reference_analyzer(), text, kw) == _tokens(make_analyzer(), text, kw)
        stems = [t.text for t in make_analyzer()(text)]
        common = frozenset(s for s in stems if s < "n")
        assert [
            f"{a} {b}" for a, b in itertools.pairwise(stems) if a in common and b in common
        ] == [t.text for t in make_pairs_analyzer(common)(text)]


PHRASES = [
    '"more NATO"',
    '"Jens Stoltenberg"',
    '"the Munich Security Conference"',
    '"Eastern Europe" AND Russia',
    '"NATO allies" OR "Russian President"',
    'body:"NATO chief"',
    '"will only get more NATO"',
    '"NATO NATO"',
]


@pytest.mark.parametrize("query", PHRASES)
def test_phrases_through_pairs_match_whoosh_phrases(plain_index: cs.Index, query: str) -> None:
    """Phrases answered through the pairs field find exactly Whoosh's own phrase matches."""
    _assert_same_as_whoosh(plain_index, query)


def _assert_same_as_whoosh(index: cs.Index, query: str) -> None:

    snap = index.snapshot()
    raw = qparser.MultifieldParser(["title", "body"], snap.schema).parse(query)
    expected = sorted(snap.searcher.docs_for_query(raw))
    q = parse_query(snap, query)
    assert "pairs" in {f for f, _ in q.iter_all_terms()} or not any(
        phrase_pairs(p.words, snap.pair_stems)
        for p in raw.leaves()
        if isinstance(p, wq.Phrase) and p.fieldname == "body"
    )
    assert expected == np.flatnonzero(cs.Selection(query).mask(snap)).tolist()
    assert len(expected) == index.search(query).total


def test_phrase_counts_through_pairs(plain_index: cs.Index) -> None:
    """Two- and four-word phrase counts equal a plain count of the phrase in each body."""
    for phrase in ["more NATO", "Jens Stoltenberg", "the Munich Security Conference"]:
        df = plain_index.term_frequency([phrase], by="article", field="body")
        pattern = re.compile(r"\b" + r"\W+".join(phrase.split()) + r"\b", re.IGNORECASE)
        for doc_id, count in zip(df["group"], df["count"], strict=True):
            body = strip_furniture(plain_index.show(doc_id).text)
            assert len(pattern.findall(body)) == count, (phrase, doc_id)
