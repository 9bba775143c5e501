"""Real-shaped corpora through the whole build: outlets per source, recorded sources,
boilerplate found from the data, counts that say what they count."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search.cli import main

REALSHAPED = Path(__file__).resolve().parent / "data" / "realshaped" / "corpus"
BBC_STAMP = "The BBC is not responsible for the content of external sites."


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[cs.BuildReport, cs.Index]:
    """The real-shaped corpus built without the entity model."""
    ix = tmp_path_factory.mktemp("real") / "ix"
    report = cs.build([REALSHAPED], ix, entities=False, progress=False)
    return report, cs.open_index(ix)


def test_every_article_has_an_outlet_and_says_from_where(real: tuple) -> None:
    """Per-outlet CSVs without an outlet column get theirs from the URL host."""
    report, index = real
    assert "" not in set(index.articles()["outlet"])
    origins = dict(zip(report.outlets["outlet"], report.outlets["outlet_from"], strict=True))
    assert origins["RT"] == "url host"
    assert origins["The Kyiv Independent"] == "sources file"
    assert index.search("*", filters={"outlet": "RT"}).total > 0
    assert "(from url host)" in str(report)


def test_boilerplate_is_reported_and_not_indexed(real: tuple) -> None:
    """The BBC's repeated stamp is listed, kept in the text, and not searchable there."""
    report, index = real
    lines = report.boilerplate[report.boilerplate["outlet"] == "BBC News"]["line"]
    assert any(BBC_STAMP in line for line in lines)
    stamped = [d for d in index.articles()["doc_id"] if BBC_STAMP in index.show(d).text]
    assert len(stamped) >= 5
    hits = set(index.search('"responsible for the content of external sites"')
               .hits["doc_id"])
    assert not hits & set(stamped)
    key = index.keyness({"outlet": "BBC News"}, min_freq=2, limit=30)
    assert not {"extern", "external", "responsible"} & set(key["term"].str.lower())


def test_counts_match_a_plain_count_of_the_indexed_text(real: tuple) -> None:
    """term_frequency (titles and bodies) equals a regex count of what was indexed."""
    _, index = real
    df = index.term_frequency("grain", by="article")
    pattern = re.compile(r"\bgrains?\b", re.IGNORECASE)
    snap = index.snapshot()
    for doc_id, count in zip(df["group"], df["count"], strict=True):
        art = index.show(doc_id)
        body = cs._analysis.strip_furniture(art.text, snap.boilerplate.lines_for(art.outlet))
        assert len(pattern.findall(art.title)) + len(pattern.findall(body)) == count, doc_id
    assert df.attrs["field"] == "all"
    assert index.search("grain").total == int((df["count"] > 0).sum())


def test_sources_are_recorded_added_and_removed(tmp_path: Path) -> None:
    """Building one outlet file after another adds; --remove removes; a plain rebuild
    rebuilds the recorded sources."""
    for name in ("RT.csv", "NBC.csv"):
        shutil.copy(REALSHAPED / name, tmp_path / name)
    ix = tmp_path / "ix"
    assert main(["build", str(tmp_path / "RT.csv") + "=RT", "--index", str(ix),
                 "--no-entities"]) == 0
    rt = len(cs.open_index(ix))
    assert main(["build", str(tmp_path / "NBC.csv") + "=NBC", "--add", "--index", str(ix),
                 "--no-entities"]) == 0
    index = cs.open_index(ix)
    assert {"RT", "NBC News"} <= set(index.facets("outlet")["value"]) or {
        "RT", "NBC"} <= set(index.facets("outlet")["value"])
    both = len(index)
    assert both > rt
    report = cs.build(None, ix, entities=False, progress=False)
    assert (report.total, report.removed) == (both, 0)
    assert main(["build", str(tmp_path / "NBC.csv"), "--remove", "--index", str(ix),
                 "--no-entities"]) == 0
    assert len(cs.open_index(ix)) == rt
