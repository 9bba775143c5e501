"""The Jupyter apps, driven as a user would (set values, click) without a browser."""

from __future__ import annotations

import ast
import inspect
import json

import pandas as pd
import pytest

import corpus_search as cs
from corpus_search.widgets import (
    Collocates,
    CoMentions,
    CompareArticles,
    Dispersion,
    Explorer,
    SearchExplorer,
    TermTrends,
)

RT, NBC = "002_6774853757ba448b", "000_681841e30ad004f4"


def _options(picker) -> dict[str, str]:
    return {value: label for label, value in picker.options}


def test_search_updates_results_and_facets(seed_index: cs.Index) -> None:
    """Typing a query updates the count, results and facet counts."""
    app = SearchExplorer(seed_index)
    app.query.value = "Kremlin"
    assert app.result.total == 3
    assert len(app.result_buttons) == 3
    assert _options(app.facet_pickers["org"])["Kremlin"] == "Kremlin (3)"
    assert "<b>3</b> articles match" in app.status.value


def test_facet_pick_filters_and_keeps_counts(seed_index: cs.Index) -> None:
    """Picking a person filters the results; that facet still shows its other values."""
    app = SearchExplorer(seed_index, query="NATO")
    app.facet_pickers["person"].value = ("Jens Stoltenberg",)
    assert app.result.total == 3
    assert app.facet_pickers["person"].value == ("Jens Stoltenberg",)
    assert _options(app.facet_pickers["person"])["Vladimir Putin"] == "Vladimir Putin (4)"
    assert {"NBC News", "RT"} == set(_options(app.facet_pickers["outlet"]))
    app.clear_filters()
    assert app.result.total == 5


def test_open_article(seed_index: cs.Index) -> None:
    """Clicking a result shows the article with its entities marked."""
    app = SearchExplorer(seed_index, query='"more NATO"')
    app.result_buttons[0].click()
    assert "NATO chief issues new warning to Russia" in app.article.value
    assert 'title="person: Jens Stoltenberg"' in app.article.value


def test_bad_query_message_and_suggestion(seed_index: cs.Index) -> None:
    """A malformed query shows a message and a suggestion button that fixes it."""
    app = SearchExplorer(seed_index)
    app.query.value = "NATO AND ("
    assert "unbalanced" in app.message.value
    assert app.suggestion_button.layout.display == "inline-flex"
    app.suggestion_button.click()
    assert (app.query.value, app.result.total, app.message.value) == ("NATO", 5, "")


def test_did_you_mean(seed_index: cs.Index) -> None:
    """A misspelt query offers the correction."""
    app = SearchExplorer(seed_index, query="Stoltenbreg")
    assert app.suggestion_button.description == "Did you mean: Stoltenberg"
    app.suggestion_button.click()
    assert app.result.total == 3


def test_paging(seed_index: cs.Index) -> None:
    """Next and previous move through pages of results."""
    app = SearchExplorer(seed_index, query="NATO", page_size=2)
    assert app.page_label.value == "page 1 of 3"
    app.next_button.click()
    app.next_button.click()
    assert (app.page_label.value, len(app.result_buttons), app.next_button.disabled) == (
        "page 3 of 3",
        1,
        True,
    )


def test_show_code_reproduces_view(seed_index: cs.Index) -> None:
    """The code shown, run against the library, gives the same results as the view."""
    app = SearchExplorer(seed_index, query="NATO")
    app.facet_pickers["outlet"].value = ("RT", "TVN24")
    app.show_code.value = True
    code = app.code()
    assert code.splitlines()[0] in app.code_view.value.replace("&#x27;", "'")
    call = ast.parse(code.splitlines()[0]).body[0].value
    args = [ast.literal_eval(a) for a in call.args]
    kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    res = seed_index.search(*args, **kwargs)
    assert app.result.hits["doc_id"].tolist() == res.hits["doc_id"].tolist()


def test_term_trends(seed_index: cs.Index) -> None:
    """The trends app draws a chart and a table from term_frequency."""
    app = TermTrends(seed_index, terms="NATO, Russia", by="outlet")
    assert bytes(app.chart.value).startswith(b"\x89PNG")
    assert list(app.table["term"].unique()) == ["NATO", "Russia"]
    app.per_10k.value = True
    assert app.figure.axes[0].get_ylabel() == "per 10,000 words"
    assert "by='outlet'" in app.code()
    app.terms.value = "a"
    assert "Nothing to count" in app.message.value


def test_compare_articles(seed_index: cs.Index) -> None:
    """Picking two articles and clicking compare shows the side-by-side view."""
    app = CompareArticles(seed_index)
    app.find_a.value = "Kremlin aim"
    app.pick_a.value = RT
    app.pick_b.value = NBC
    app.compare_button.click()
    assert {"Jens Stoltenberg", "NATO"} <= set(app.comparison.shared_entities())
    assert "cs-cols" in app.view.value
    assert f"index.compare({RT!r}, {NBC!r})" == app.code()


def test_explorer_tabs(seed_index: cs.Index) -> None:
    """The explorer holds the six apps in tabs; the network is drawn when its tab opens."""
    app = Explorer(seed_index, query="NATO")
    assert tuple(app.titles) == (
        "Search",
        "Term trends",
        "Compare",
        "Collocates",
        "Dispersion",
        "Co-mentions",
    )
    assert app.search.result.total == 5
    assert app.comentions.figure is None
    app.selected_index = 5
    assert bytes(app.comentions.chart.value).startswith(b"\x89PNG")
    assert "Jens Stoltenberg" in set(app.comentions.table["entity_a"])


@pytest.mark.bbc
def test_queries_update_results_and_facets_on_bbc(bbc_index_dir) -> None:
    """On the BBC set each typed query redraws the total, the hits and the facets.

    (How fast is measured by ``benchmarks/widgets.py``, not asserted here: a timed unit
    test fails on a loaded machine and proves nothing on a fast one.)
    """
    app = SearchExplorer(cs.open_index(bbc_index_dir))
    shown = []
    for q in ["Blair", "election", "film OR music", "the", 'person:"Tony Blair"']:
        app.query.value = q
        shown.append((app.result.query, f"<b>{app.result.total:,}</b>" in app.status.value,
                      len(app.results.children) == min(10, app.result.total),
                      len(app.facet_pickers["person"].options) > 0))
    assert shown == [(q, True, True, True) for q in
                     ["Blair", "election", "film OR music", "the", 'person:"Tony Blair"']]


def test_widgets_escape_article_data(tmp_path) -> None:
    """Titles, outlets, snippets and article text with markup are shown as text."""
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    rec = {
        "title": f"Title {evil}",
        "text": f"NATO text {evil}",
        "outlet": f"<b>{evil}</b>",
        "url": "javascript:alert(3)",
    }
    (tmp_path / "a.jsonl").write_text(json.dumps(rec))
    cs.build([tmp_path / "a.jsonl"], tmp_path / "ix", progress=False, entities=False)
    app = SearchExplorer(cs.open_index(tmp_path / "ix"), query="NATO")
    app.result_buttons[0].click()
    shown = [row.children[1].value for row in app.results.children] + [app.article.value]
    shown += [label for label, _ in app.facet_pickers["outlet"].options]
    for html in shown[:-1]:
        assert "<script>" not in html and "<img" not in html
        assert 'href="javascript' not in html
    assert "&lt;script&gt;" in app.article.value


# --- corpus-tool views: collocates, dispersion, co-mentions ------------------------------

STORY = [f"story{i}" for i in range(60)]
SMALL = [
    ("a1", "X", "2022-01-10", "Cats chase dogs and cats eat fish."),
    ("a2", "Y", "2022-02-05", "Dogs chase cats. Cats eat fish"),
    ("a3", "X", "2022-03-01", "Fish swim and fish eat a lot"),
    ("d1", "AP", "2022-01-02", " ".join(STORY)),
    (
        "d2",
        "RT",
        "2022-01-01",
        " ".join("changed" if i in (10, 40) else w for i, w in enumerate(STORY)),
    ),
]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, build_rows) -> cs.Index:
    """Three articles (cats, dogs, fish) and a story with a near-duplicate copy, built
    without entities: node "cat" with window 1/1 has chase (2 of 2), eat (2 of 3), cats
    (2 of 4); logDice(chase) = 13.415037."""
    return cs.open_index(build_rows(SMALL, tmp_path_factory.mktemp("widgets-small"), "s.jsonl"))


def _same(expected: pd.DataFrame, shown: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(expected.reset_index(drop=True), shown.reset_index(drop=True))


def test_collocates_app(small: cs.Index) -> None:
    """Setting node, window and minimum frequency fills the table; code() reproduces it."""
    app = Collocates(small)
    assert app.table is None
    app.window_left.value = 1
    app.window_right.value = 1
    app.min_freq.value = 2
    app.node.value = "cat"
    assert app.table["collocate"].tolist() == ["chase", "eat", "cats"]
    assert round(app.table["logdice"].iloc[0], 6) == 13.415037
    assert "<td>chase</td>" in app.table_view.value
    app.measure.value = "t_score"
    assert app.code() == (
        "index.collocates('cat', window_left=1, window_right=1, measure='t_score', min_freq=2)"
    )
    _same(eval(app.code(), {"index": small}), app.table)
    app.node.value = "zebra"
    assert app.table.empty
    assert "No collocates of <code>zebra</code>" in app.message.value


def test_collocates_compare_slice(small: cs.Index) -> None:
    """Picking a facet slice compares it with the rest; with a query both sides keep it."""
    app = Collocates(small, node="cat")
    app.min_freq.value = 1
    app.window_left.value = 1
    app.window_right.value = 1
    app.compare_facet.value = "outlet"
    assert {"X", "Y", "AP", "RT"} == set(app.compare_value.options)
    app.compare_value.value = "X"
    row = app.table.set_index("collocate").loc["chase"]
    assert (row["cooc_a"], row["cooc_b"]) == (1, 1)
    assert "index.compare_collocates('cat', {'outlet': ['X']}, window_left=1" in app.code()
    _same(eval(app.code(), {"index": small}), app.table)
    app.query.value = "dogs"
    assert (
        "cs.Selection(query='dogs', filters={'outlet': ['X']}), cs.Selection(query='dogs')"
    ) in app.code()
    _same(eval(app.code(), {"index": small, "cs": cs}), app.table)
    app.compare_facet.value = ""
    assert "cooc" in app.table.columns and "cooc_a" not in app.table.columns


def test_dispersion_app(small: cs.Index) -> None:
    """Terms give the dispersion plot as an image and the measures table; order changes
    the plot's axis; code() reproduces the table."""
    app = Dispersion(small, terms="cats, fish")
    assert bytes(app.chart.value).startswith(b"\x89PNG")
    assert list(app.table[["term", "freq", "articles"]].itertuples(index=False, name=None)) == [
        ("cats", 4, 2),
        ("fish", 4, 3),
    ]
    assert len(app.figure.axes) == 2
    app.order.value = "article"
    assert app.figure.axes[-1].get_xlabel().startswith("position in the corpus")
    plot_line, table_line = app.code().splitlines()
    assert plot_line == "index.plot_dispersion(['cats', 'fish'], order='article')"
    _same(eval(table_line, {"index": small}), app.table)
    app.terms.value = ""
    assert (app.table, bytes(app.chart.value)) == (None, b"")


def test_count_once_boxes(small: cs.Index) -> None:
    """ "count copies once" counts the story's two copies once, in the table and the code."""
    coll = Collocates(small, node="story5")
    coll.window_left.value = 1
    coll.window_right.value = 0
    coll.min_freq.value = 1
    assert list(coll.table[["collocate", "cooc"]].itertuples(index=False, name=None)) == [
        ("story4", 2)
    ]
    coll.count_once.value = True
    assert list(coll.table[["collocate", "cooc"]].itertuples(index=False, name=None)) == [
        ("story4", 1)
    ]
    assert coll.code().endswith("count_once=True)")
    _same(eval(coll.code(), {"index": small}), coll.table)
    coll.compare_facet.value = "outlet"
    coll.compare_value.value = "RT"
    assert (
        "cs.Selection(filters={'outlet': ['RT']}, count_once=True), cs.Selection(count_once=True)"
    ) in coll.code()
    assert [
        (c, a, None if b != b else b)
        for c, a, b in coll.table[["collocate", "cooc_a", "cooc_b"]].itertuples(
            index=False, name=None
        )
    ] == [("story4", 1.0, None)]
    disp = Dispersion(small, terms="story5")
    assert disp.table["freq"].tolist() == [2]
    disp.count_once.value = True
    assert disp.table["freq"].tolist() == [1]
    _same(eval(disp.code().splitlines()[1], {"index": small}), disp.table)


def test_comentions_app(seed_index: cs.Index) -> None:
    """Types, minimum count and top N drive the network image and the pairs table."""
    app = CoMentions(seed_index, types=("person",))
    assert bytes(app.chart.value).startswith(b"\x89PNG")
    assert {"person"} == set(app.table["type_a"]) | set(app.table["type_b"])
    app.min_count.value = 3
    assert list(
        app.table[["entity_a", "entity_b", "count"]].itertuples(index=False, name=None)
    ) == [("Jens Stoltenberg", "Vladimir Putin", 3)]
    app.types.value = ("person", "org", "place")
    app.top.value = 5
    assert len(app.table) == 5
    plot_line, table_line = app.code().splitlines()
    assert plot_line.startswith("index.plot_comentions(top=5, types=('person', 'org', ")
    _same(eval(table_line, {"index": seed_index}), app.table)
    app.query.value = "Kremlin"
    assert "query='Kremlin'" in app.code()
    assert app.table["count"].max() == 3
    app.types.value = ()
    assert (app.message.value, app.table) == ("Pick at least one entity type.", None)


def test_comentions_app_without_entities(small: cs.Index) -> None:
    """An index built without entities draws the empty network and says nothing broke."""
    app = CoMentions(small)
    assert (len(app.table), app.message.value) == (0, "")
    assert bytes(app.chart.value).startswith(b"\x89PNG")


def test_app_defaults_follow_library(small: cs.Index) -> None:
    """The apps start from the library's defaults (window, measure, types, top N)."""
    lib = inspect.signature(cs.Index.collocates).parameters
    app = Collocates(small)
    assert tuple(
        lib[k].default for k in ("window_left", "window_right", "measure", "min_freq")
    ) == (app.window_left.value, app.window_right.value, app.measure.value, app.min_freq.value)
    com = inspect.signature(CoMentions).parameters
    assert tuple(inspect.signature(cs.Index.comentions).parameters["types"].default) == (
        tuple(com["types"].default)
    )
    assert inspect.signature(cs.Index.plot_comentions).parameters["top"].default == (
        com["top"].default
    )


def test_bad_query_clears_facet_counts(seed_index: cs.Index) -> None:
    """After a malformed query the facet pickers show no counts of the previous query."""
    app = SearchExplorer(seed_index, query="Kremlin")
    assert any("(" in label for label, _ in app.facet_pickers["outlet"].options)
    app.query.value = "NATO AND ("
    assert app.facet_pickers["outlet"].options == ()


def test_undated_corpus_in_the_apps(seed_index: cs.Index) -> None:
    """On a corpus without dates the date pickers are off and say why, trends default to
    outlets, and asking for months says the corpus has no dates."""
    app = SearchExplorer(seed_index)
    assert (app.date_from.disabled, app.date_to.disabled) == (True, True)
    assert "no dates" in app.date_note.value
    trends = TermTrends(seed_index, terms="NATO")
    assert trends.by.value == "outlet"
    assert bytes(trends.chart.value).startswith(b"\x89PNG")
    trends.by.value = "month"
    assert "no dates" in trends.message.value
    assert trends.table is None
