"""The code keeps its shape: layers import downward only, the public API is explicit and
the same at every layer (issue 12)."""

from __future__ import annotations

import inspect
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import corpus_search as cs
from corpus_search import _compare, _keyness, _kwic, _provenance, _search, _terms
from corpus_search.cli import make_parser

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

# Index method -> the query function it calls with the current snapshot.
FRONT_DOOR = {
    "search": _search.search, "facets": _search.facets, "crosstab": _search.crosstab,
    "show": _search.show, "term_frequency": _terms.term_frequency,
    "concordance": _kwic.concordance, "compare": _compare.compare,
    "keyness": _keyness.keyness, "similar": _keyness.similar,
    "provenance": _provenance.provenance,
}


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(root / "pyproject.toml")],
                          cwd=root, capture_output=True, text=True, timeout=120,
                          env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, check=False)


def test_layers_contract_holds() -> None:
    """import-linter: every module imports only from the layers below it."""
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-2000:]


def test_layers_contract_breaks_on_an_upward_import(tmp_path: Path) -> None:
    """The contract is not vacuous: the store importing the front door breaks it."""
    shutil.copytree(ROOT / "corpus_search", tmp_path / "corpus_search",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with open(tmp_path / "corpus_search" / "_store.py", "a", encoding="utf-8") as fh:
        fh.write("\nfrom . import _index  # an import circle\n")
    result = _lint(tmp_path)
    assert result.returncode == 1
    assert "corpus_search._store is not allowed to import corpus_search._index" in result.stdout


@pytest.mark.parametrize("method", sorted(FRONT_DOOR))
def test_index_methods_repeat_the_query_signatures(method: str) -> None:
    """Each Index method has the parameters, kinds and defaults of the function it calls
    (less the snapshot)."""
    mine = list(inspect.signature(getattr(cs.Index, method)).parameters.values())[1:]
    theirs = list(inspect.signature(FRONT_DOOR[method]).parameters.values())[1:]
    assert [(p.name, p.kind, p.default) for p in theirs] == [
        (p.name, p.kind, p.default) for p in mine]


def _public_callables() -> list[tuple[str, object]]:
    out = []
    for name in cs.__all__:
        obj = getattr(cs, name)
        if inspect.isfunction(obj):
            out.append((name, obj))
    for name, obj in inspect.getmembers(cs.Index, inspect.isfunction):
        if not name.startswith("_"):
            out.append((f"Index.{name}", obj))
    return out


@pytest.mark.parametrize(("name", "fn"), _public_callables(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_public_callables_document_every_parameter(name: str, fn: object) -> None:
    """No ``**kwargs`` pass-through, and ``help()`` names every parameter."""
    params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    assert [p.name for p in params if p.kind is p.VAR_KEYWORD] == []
    doc = inspect.getdoc(fn) or ""
    missing = [p.name for p in params if p.name not in doc]
    assert missing == [], f"{name}: {missing}"


def test_cli_defaults_are_the_library_defaults() -> None:
    """``--help`` defaults are read from the Index methods the verbs call."""
    sub = next(a for a in make_parser()._actions if a.dest == "command").choices
    pairs = [("kwic", "width", cs.Index.concordance, "width"),
             ("keyness", "limit", cs.Index.keyness, "limit"),
             ("keyness", "min_freq", cs.Index.keyness, "min_freq"),
             ("search", "limit", cs.Index.search, "limit"),
             ("facets", "limit", cs.Index.facets, "limit"),
             ("terms", "by", cs.Index.term_frequency, "by"),
             ("terms", "field", cs.Index.term_frequency, "field"),
             ("similar", "limit", cs.Index.similar, "limit")]
    for verb, dest, fn, param in pairs:
        action = next(a for a in sub[verb]._actions if a.dest == dest)
        assert inspect.signature(fn).parameters[param].default == action.default, verb


def test_no_shadowed_submodules() -> None:
    """``corpus_search`` exports no name that hides one of its modules."""
    modules = {p.stem for p in (ROOT / "corpus_search").glob("*.py")}
    assert set() == (set(cs.__all__) & modules) - {"synthetic"}
