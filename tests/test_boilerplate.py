"""Boilerplate found from the data: lines repeated verbatim across one outlet's articles."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpus_search import _analysis, _boilerplate
from corpus_search._analysis import article_tokens, furniture_ranges, strip_furniture
from corpus_search._boilerplate import (
    BOILERPLATE_COLUMNS,
    BOILERPLATE_MIN_ARTICLES,
    BOILERPLATE_MIN_SHARE,
    Boilerplate,
    BoilerplateCounter,
    find_boilerplate,
    strip_boilerplate,
)

BBC_LINE = (
    "\u00a9 2022 BBC. The BBC is not responsible for the content of external sites. "
    "Read about our approach to external linking."
)


def _body(i: int, tail: str = "") -> str:
    return (
        f"Story number {i} about the grain corridor and port {i * 7}.\n\n"
        f"A second paragraph, unique to article {i}, quoting an official.\n\n{tail}"
    )


def test_thresholds_are_named() -> None:
    """The thresholds are the ones the issue gives: 5% of an outlet and 5 articles."""
    assert (BOILERPLATE_MIN_SHARE, BOILERPLATE_MIN_ARTICLES) == (0.05, 5)


def test_repeated_line_is_found_per_outlet() -> None:
    """A line in 6 of 20 BBC articles is furniture of BBC, with its article count."""
    pairs = [("BBC News", _body(i, BBC_LINE if i < 6 else "")) for i in range(20)]
    pairs += [("RT", _body(100 + i)) for i in range(20)]
    bp = find_boilerplate(pairs)
    assert tuple(bp.table.columns) == BOILERPLATE_COLUMNS
    assert list(bp.table.itertuples(index=False, name=None)) == [("BBC News", BBC_LINE, 6, 0.3)]
    assert frozenset({BBC_LINE}) == bp.lines_for("BBC News")
    assert frozenset() == bp.lines_for("RT")


def test_below_thresholds_is_not_furniture() -> None:
    """Four articles, or five of 200 (2.5%), are not enough."""
    four = [("A", _body(i, BBC_LINE if i < 4 else "")) for i in range(10)]
    assert len(find_boilerplate(four).table) == 0
    sparse = [("A", _body(i, BBC_LINE if i < 5 else "")) for i in range(200)]
    assert len(find_boilerplate(sparse).table) == 0
    assert len(find_boilerplate(sparse, min_share=0.02).table) == 1


def test_outlets_are_not_pooled() -> None:
    """Three articles in each of two outlets do not make furniture of either."""
    pairs = [(o, _body(i, BBC_LINE if i < 3 else "")) for o in ("A", "B") for i in range(10)]
    assert len(find_boilerplate(pairs).table) == 0


def test_line_counted_once_per_article_and_whitespace_normalised() -> None:
    """A line twice in one article counts once; spacing differences do not matter."""
    spaced = BBC_LINE.replace(" ", "  ", 3)
    pairs = [("A", _body(i, f"{BBC_LINE}\n{spaced}" if i < 5 else "")) for i in range(10)]
    (row,) = find_boilerplate(pairs).table.itertuples(index=False)
    assert row.articles == 5


def test_short_lines_are_not_counted() -> None:
    """Very short repeated lines (a dateline, a word) are left to the hand-kept list."""
    pairs = [("A", _body(i, "KYIV\n")) for i in range(10)]
    assert len(find_boilerplate(pairs).table) == 0


def test_chunkwise_counting_matches_one_pass() -> None:
    """Counting in chunks and merging gives the same table as one pass."""
    pairs = [("BBC News", _body(i, BBC_LINE if i % 3 == 0 else "")) for i in range(30)]
    whole = find_boilerplate(pairs).table
    a, b = BoilerplateCounter(), BoilerplateCounter()
    a.update(pairs[:13])
    b.update(pairs[13:])
    a.merge(b)
    pd.testing.assert_frame_equal(whole, a.result().table)
    assert a.articles == 30


def test_counter_holds_hashes_not_texts() -> None:
    """Only lines that reached the article threshold are held as text."""
    counter = BoilerplateCounter()
    counter.update(("A", _body(i, BBC_LINE if i < 5 else "")) for i in range(50))
    assert counter.stored_lines == 1
    assert counter.counted_lines >= 101


def test_strip_keeps_line_structure_and_gives_ranges() -> None:
    """Stripping blanks the furniture lines; the ranges point into the original body."""
    body = f"First paragraph here.\n{BBC_LINE}\nLast paragraph.\nRead Full Article at RT.com"
    text, ranges = strip_boilerplate(body, frozenset({BBC_LINE}))
    assert text == "First paragraph here.\n\nLast paragraph."
    assert [body[a:b] for a, b in ranges] == [BBC_LINE, "Read Full Article at RT.com"]


def test_analysis_takes_extra_lines() -> None:
    """The analysis layer leaves found lines out of indexed tokens and greys them."""
    body = f"Grain ships left Odesa.\n{BBC_LINE}\nThe BBC asked officials."
    lines = frozenset({BBC_LINE})
    assert BBC_LINE not in strip_furniture(body, extra_lines=lines)
    assert BBC_LINE in strip_furniture(body)
    assert [body[a:b] for a, b in furniture_ranges(body, extra_lines=lines)] == [BBC_LINE]
    words = [t[1] for t in article_tokens(body, extra_lines=lines)]
    assert words.count("bbc") == 1
    assert "extern" not in words


def test_boilerplate_strip_method() -> None:
    """Boilerplate.strip uses the lines of the article's own outlet only."""
    pairs = [("BBC News", _body(i, BBC_LINE)) for i in range(6)]
    bp = find_boilerplate(pairs)
    body = f"Text.\n{BBC_LINE}"
    assert ("Text.", [(6, 6 + len(BBC_LINE))]) == bp.strip("BBC News", body)
    assert bp.strip("RT", body) == ("Text.\n" + BBC_LINE, [])


def test_chunks_below_threshold_each_are_found_after_a_second_pass() -> None:
    """A line once per chunk in six chunks is pending after merging, then filled."""
    chunks = [
        [("A", _body(10 * c + i, BBC_LINE if i == 0 else "")) for i in range(5)] for c in range(6)
    ]
    total = BoilerplateCounter()
    for chunk in chunks:
        part = BoilerplateCounter()
        part.update(chunk)
        total.merge(part)
    assert len(total.result().table) == 0
    assert total.pending() == 1
    total.fill_texts(pair for chunk in chunks for pair in chunk)
    assert total.pending() == 0
    assert list(total.result().table.itertuples(index=False, name=None)) == [
        ("A", BBC_LINE, 6, 0.2)
    ]


def test_boilerplate_round_trips_through_its_table() -> None:
    """A Boilerplate rebuilt from its table (as an index stores it) strips the same."""
    pairs = [("BBC News", _body(i, BBC_LINE)) for i in range(6)]
    bp = find_boilerplate(pairs)
    again = Boilerplate.from_table(bp.table)
    assert bp.lines == again.lines
    assert bp.strip("BBC News", pairs[0][1]) == again.strip("BBC News", pairs[0][1])


def test_counts_folded_into_arrays_give_the_same_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Folding the counts into sorted arrays every few lines (as a large corpus does)
    gives the table, texts and line count of counting without folding, merges included."""
    lines = [f"Line {k} that several outlets stamp on their pages, verbatim." for k in range(4)]
    pairs = [(o, _body(i, "\n".join(lines[: 1 + i % 4]) if i % 3 else ""))
             for i in range(90) for o in ("A", "B") if (i + len(o)) % 5]
    whole = BoilerplateCounter()
    whole.update(pairs)
    monkeypatch.setattr(_boilerplate, "_FOLD_LINES", 3)
    folded = BoilerplateCounter()
    folded.update(pairs)
    assert folded.counted_folded > 0  # folded before the end
    halves = BoilerplateCounter(), BoilerplateCounter()
    halves[0].update(pairs[:71])
    halves[1].update(pairs[71:])
    halves[0].merge(halves[1])
    expected = whole.result().table
    assert len(expected) == 8
    pd.testing.assert_frame_equal(expected, folded.result().table)
    pd.testing.assert_frame_equal(expected, halves[0].result().table)
    assert whole.counted_lines == folded.counted_lines == halves[0].counted_lines
    assert whole.stored_lines == folded.stored_lines
_PIECES = ["Share this article", "  SHARE:  ", "Image", "Read more", "Advertisement",
           "Read Full Article at RT.com", "read the full story on bbc.co.uk.",
           "Watch the match live on BBC One.", "Click here to subscribe", "Related:",
           "You may also like", "Leave a Reply", "More from this story",
           "Follow us on Telegram", "Sign up for our daily newsletter today",
           "Your email address will not be published. Required fields",
           "Main image source: Reuters", "ſhare", "The talks went on.", "Kyiv said",
           "İmage", "share this story and more", "", " ", "\t", "\r", "\x0b", "\x85",
           "\u2028", "\u00a0", "read full article at x", "watch"]


@given(st.lists(st.sampled_from(_PIECES), max_size=12),
       st.lists(st.sampled_from(["\n", " ", "", "\r\n", "\n\n"]), min_size=12, max_size=12))
@settings(max_examples=400, deadline=None)
def test_whole_text_check_skips_only_furniture_free_texts(pieces: list[str],
                                                          seps: list[str]) -> None:
    """Stripping and furniture ranges are the same whether or not the whole-text check
    lets a text skip the line-by-line pass."""
    text = "".join(p + s for p, s in zip(pieces, seps, strict=False))
    fast = (strip_furniture(text), furniture_ranges(text))
    real = _analysis._may_have_furniture
    try:
        _analysis._may_have_furniture = lambda _text: True
        slow = (strip_furniture(text), furniture_ranges(text))
    finally:
        _analysis._may_have_furniture = real
    assert slow == fast
