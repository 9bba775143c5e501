"""The Jupyter apps, driven as a user would (set values, click) without a browser."""

from __future__ import annotations

import ast
import json
import time

import pytest

import corpus_search as cs
from corpus_search.widgets import CompareArticles, Explorer, SearchExplorer, TermTrends

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
    assert (app.page_label.value, len(app.result_buttons),
                                        app.next_button.disabled) == ("page 3 of 3", 1, True)


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
    """The explorer holds the three apps in tabs."""
    app = Explorer(seed_index, query="NATO")
    assert tuple(app.titles) == ("Search", "Term trends", "Compare")
    assert app.search.result.total == 5


@pytest.mark.bbc
def test_responsive_on_bbc(bbc_index_dir) -> None:
    """On the BBC set a query updates results and facets well under half a second."""
    app = SearchExplorer(cs.open_index(bbc_index_dir))
    for q in ["Blair", "election", "film OR music", "the", 'person:"Tony Blair"']:
        started = time.perf_counter()
        app.query.value = q
        assert time.perf_counter() - started < 0.5, q


def test_widgets_escape_article_data(tmp_path) -> None:
    """Titles, outlets, snippets and article text with markup are shown as text."""
    evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
    rec = {"title": f"Title {evil}", "text": f"NATO text {evil}", "outlet": f"<b>{evil}</b>",
           "url": "javascript:alert(3)"}
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
