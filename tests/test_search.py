"""Search on the seeds: the acceptance checks, the query language, facets and errors."""

from __future__ import annotations

import time

import pandas as pd
import pytest

import corpus_search as cs


def _facet(res: cs.SearchResult, key: str) -> dict[str, int]:
    df = res.facets[key]
    return dict(zip(df["value"], df["count"], strict=True))


def test_nato_finds_all_five(seed_index: cs.Index) -> None:
    """NATO is in every seed article."""
    res = seed_index.search("NATO")
    assert res.total == 5
    assert list(cs.HIT_COLUMNS) == list(res.hits.columns)
    assert res.hits["rank"].tolist() == [1, 2, 3, 4, 5]
    assert res.hits["snippet"].str.contains(r"\*\*NATO\*\*").all()


def test_words_only_in_bodies_are_highlighted(seed_index: cs.Index) -> None:
    """A query word found in no title is highlighted in the bodies (not only title words)."""
    marked = {q: seed_index.search(q).hits["snippet"].str.contains(pattern).tolist()
              for q, pattern in [("sanctions", r"\*\*[Ss]anctions\*\*"),
                                 ("Kremlin", r"\*\*Kremlin\*\*"),
                                 ("Kremlin OR sanctions", r"\*\*(?:Kremlin|[Ss]anctions)\*\*")]}
    expected = {"sanctions": [True, True], "Kremlin": [True, True, True],
                "Kremlin OR sanctions": [True, True, True]}
    assert expected == marked


def test_stoltenberg_is_one_person(seed_index: cs.Index) -> None:
    """Jens Stoltenberg has 3 articles and no separate "Stoltenberg" entry."""
    people = _facet(seed_index.search("NATO", facet_limit=None), "person")
    assert people["Jens Stoltenberg"] == 3
    assert "Stoltenberg" not in people


def test_places(seed_index: cs.Index) -> None:
    """Ukraine is in all 5; Kyiv in the 2 articles that write "Kiev"; no "Kiev" entry."""
    places = _facet(seed_index.search("*", facet_limit=None), "place")
    assert (places["Ukraine"], places["Kyiv"]) == (5, 2)
    assert "Kiev" not in places
    kyiv = seed_index.search("*", filters={"place": "Kiev"}).hits["doc_id"].tolist()
    assert sorted(kyiv) == ["001_03f7df105f449af6", "003_c672599c6d8cd13a"]


def test_filters_or_within_and_across(seed_index: cs.Index) -> None:
    """Values of one facet are ORed; different facets are ANDed."""
    either = seed_index.search("*", filters={"outlet": ["RT", "TVN24"]})
    assert either.total == 2
    both = seed_index.search("*", filters={"outlet": ["RT", "TVN24"],
                                           "person": "Jens Stoltenberg"})
    assert both.hits["doc_id"].tolist() == ["002_6774853757ba448b"]
    # A facet's own counts ignore its own filter, so the other outlets stay visible.
    assert _facet(both, "outlet") == {"NBC News": 1, "RT": 1}


def test_field_queries(seed_index: cs.Index) -> None:
    """person:, place: (with aliases and surnames) and outlet: work in the query."""
    assert seed_index.search('person:"Jens Stoltenberg"').total == 3
    assert seed_index.search("person:Stoltenberg").total == 3
    assert seed_index.search("place:Kiev").total == 2
    assert seed_index.search('outlet:"Voice of America"').total == 1
    assert seed_index.search("outlet:rt AND Kremlin").total == 1


def test_query_language(seed_index: cs.Index) -> None:
    """Phrases, proximity, wildcards, NOT and stemming behave as in Whoosh."""
    assert seed_index.search('"more NATO"').total == 1
    assert seed_index.search('"Secretary General"~2 OR NATO').total == 5
    assert seed_index.search("sanction").total == seed_index.search("sanctions").total
    assert seed_index.search("sanctions").total == 2
    assert seed_index.search("Stoltenberg NOT Blinken").total == 3
    assert seed_index.search("Ukrain*").total == 5


@pytest.mark.parametrize(("query", "message", "suggestion"), [
    ('"NATO AND (', "unbalanced quote", "NATO"),
    ("NATO AND (Russia", "unbalanced (", "NATO AND (Russia)"),
    ("colour:red", "Unknown field 'colour'", "red"),
    ("?", "not a word pattern", "*"),
    ("a", "Nothing to search for", "*"),
    ('NATO date:""', "This corpus has no dates", "NATO"),  # the seeds are undated
    ("date:2022-06 NATO", "This corpus has no dates", "NATO"),
])
def test_malformed_queries(seed_index: cs.Index, query: str, message: str,
                           suggestion: str) -> None:
    """A malformed query raises QueryError with a reason and a runnable suggestion."""
    with pytest.raises(cs.QueryError) as info:
        seed_index.search(query)
    assert message in info.value.message
    assert suggestion == info.value.suggestion
    seed_index.search(suggestion)


def test_star_is_everything(seed_index: cs.Index) -> None:
    """``*`` and an empty query mean every article."""
    assert (seed_index.search("*").total, seed_index.search("").total) == (5, 5)


def test_stop_words_are_searchable(seed_index: cs.Index) -> None:
    """Common words are indexed, so "the" matches rather than silently returning nothing."""
    assert seed_index.search("the").total == 5


def test_did_you_mean(seed_index: cs.Index) -> None:
    """A misspelt word gets a suggestion built from a word in the corpus."""
    res = seed_index.search("Stoltenbreg")
    assert (res.total, res.suggestion) == (0, "Stoltenberg")
    assert seed_index.search("Stoltenberg").suggestion is None


def test_paging_and_date_sort(seed_index: cs.Index) -> None:
    """Pages continue the ranking; sorting by date works with undated articles."""
    all_ids = seed_index.search("NATO", limit=5).hits["doc_id"].tolist()
    page2 = seed_index.search("NATO", limit=2, page=2).hits
    assert ([3, 4], all_ids[2:4]) == (page2["rank"].tolist(), page2["doc_id"].tolist())
    by_date = seed_index.search("NATO", sort="date", limit=5).hits
    assert by_date["score"].isna().all()
    assert len(by_date) == 5


def test_facets_function(seed_index: cs.Index) -> None:
    """facets() gives value/count rows for one facet, with query and filters."""
    df = seed_index.facets("outlet", query="Kremlin")
    assert list(df.columns) == ["value", "count"]
    assert dict(zip(df["value"], df["count"], strict=True)) == {"RT": 1, "Voice of America": 1}


def test_show(seed_index: cs.Index) -> None:
    """show() returns the stored text (furniture kept) and the entities."""
    art = seed_index.show("002_6774853757ba448b")
    assert "Read Full Article at RT.com" in art.text
    assert art.outlet == "RT"
    row = art.entities.set_index("name").loc["Jens Stoltenberg"]
    assert (row["type"], row["count"]) == ("person", 2)
    with pytest.raises(cs.ArticleNotFoundError):
        seed_index.show("nope")


def test_result_html_escapes(seed_index: cs.Index) -> None:
    """The notebook view of results marks hits and escapes text."""
    html = seed_index.search("NATO")._repr_html_()
    assert "<mark>NATO</mark>" in html


def test_hostile_queries_are_bounded(seed_index: cs.Index) -> None:
    """Odd input returns results or a QueryError quickly, never another exception."""
    for q in ["Зеленський", "🙂", "\x00\x07NATO", "AND", "OR OR", "NOT", "x" * 10_000,
              "((((", "]]", "date:[bad to worse]", "title:", ":", "*ab*", "~", "NATO^^"]:
        started = time.perf_counter()
        try:
            res = seed_index.search(q)
            assert isinstance(res.hits, pd.DataFrame)
        except cs.QueryError as exc:
            assert "\n" not in str(exc)
        assert time.perf_counter() - started < 2
