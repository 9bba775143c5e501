"""Every export of the command line carries its provenance (issue 17, item 6).

The test walks the parser: every verb with ``--json`` must be run here and print a
``"provenance"`` object, every ``--csv``, ``--plot`` and ``--html`` must leave a
``FILE.provenance.json`` beside its file. A new verb without provenance fails it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from corpus_search._provenance import PROVENANCE_KEYS
from corpus_search.cli import main, make_parser

SEEDS = Path(__file__).resolve().parent.parent / "corpus"

RT, NBC = "002_6774853757ba448b", "000_681841e30ad004f4"

# verb -> arguments that make it produce output on the seed index.
ARGS = {
    "search": ["NATO"], "facets": ["outlet"], "show": ["003_c672599c6d8cd13a"],
    "terms": ["NATO"], "kwic": ["NATO"], "compare": [RT, NBC],
    "keyness": ["--filter", "outlet=RT"], "similar": [RT],
    "collocates": ["NATO", "--min-freq", "1"], "compare-collocates": ["NATO", "--a", "outlet=RT"],
    "ngrams": [], "dispersion": ["NATO"], "duplicates": [], "comentions": ["--min-count", "1"],
    "entity-report": [], "status": [],
}
# verb -> why its --json output carries no provenance.
EXEMPT = {"check": "reports on the index's files, and must run when the index cannot open",
          "build": "run separately below: it makes the index it reports on"}


def _verbs() -> dict[str, argparse.ArgumentParser]:
    return next(a for a in make_parser()._actions if a.dest == "command").choices


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {o for a in parser._actions for o in a.option_strings}


def _check(prov: dict, verb: str) -> None:
    assert list(prov) == list(PROVENANCE_KEYS)
    assert prov["extra"]["command"] == verb
    assert len(prov["fingerprint"]) == 32
    assert prov["generation"].startswith("gen-")


def test_every_json_verb_is_walked() -> None:
    """The verbs with --json are exactly those run below (or exempt, with a reason)."""
    with_json = {v for v, p in _verbs().items() if "--json" in _options(p)}
    assert with_json - set(EXEMPT) == set(ARGS)


@pytest.mark.parametrize("verb", sorted(ARGS))
def test_json_and_files_carry_provenance(verb: str, seed_index_dir: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """--json prints a provenance object; --csv, --plot and --html files get sidecars
    naming the same generation and fingerprint."""
    options = _options(_verbs()[verb])
    files = {o: tmp_path / f"out.{o.strip('-')}" for o in ("--csv", "--plot", "--html")
             if o in options}
    extra = [x for o, path in files.items() for x in (o, str(path.with_suffix(
        {"--csv": ".csv", "--plot": ".png", "--html": ".html"}[o])))]
    argv = [verb, *ARGS[verb], "--index", str(seed_index_dir), "--json", *extra]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out, dict)
    _check(out["provenance"], verb)
    for path in extra[1::2]:
        side = json.loads(Path(path + ".provenance.json").read_text("utf-8"))
        _check(side, verb)
        assert (side["generation"], side["fingerprint"]) == (
            out["provenance"]["generation"], out["provenance"]["fingerprint"])


def test_build_json_carries_provenance(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    """build --json names the generation it made and its corpus fingerprint."""
    assert main(["build", str(SEEDS), "--index", str(tmp_path / "ix"), "--no-entities",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    _check(out["provenance"], "build")
    assert out["provenance"]["generation"] == out["generation"]
