"""The lessons: every notebook runs top to bottom on the real-shaped corpus, and charts are
saved and shown as images (nbval alone compares text and skips images)."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import corpus_search as cs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
REALSHAPED = ROOT / "tests" / "data" / "realshaped" / "corpus"
SEEDS = ROOT / "corpus"
FIGURE_TEXT = re.compile(r"<(Figure|Chart) size \d+x\d+")
CHART_CALL = re.compile(r"\bplot_\w+\(")
REALSHAPED_REPR = re.compile(r"<Index .*: 91 articles>")


def _figure_outputs_without_png(nb: nbformat.NotebookNode) -> list[str]:
    """Where an output's text is a figure's repr but the output holds no image."""
    bad = []
    for num, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if FIGURE_TEXT.search(data.get("text/plain", "")) and "image/png" not in data:
                bad.append(f"cell {num}: {data['text/plain']!r}")
            if out.get("output_type") == "stream" and FIGURE_TEXT.search(out.get("text", "")):
                bad.append(f"cell {num}: printed {out['text']!r}")
    return bad


def _chart_cells_without_png(nb: nbformat.NotebookNode) -> list[str]:
    """Code cells that call a ``plot_*`` function but hold no image/png output."""
    bad = []
    for num, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not CHART_CALL.search(cell.source):
            continue
        if not any("image/png" in out.get("data", {}) for out in cell.outputs):
            bad.append(f"cell {num}: {cell.source.splitlines()[-1]!r}")
    return bad


def _run(nb: nbformat.NotebookNode, cwd: Path) -> None:
    """Execute ``nb`` in place with the python3 kernel from ``cwd``; raises on a cell error
    (cells tagged ``raises-exception`` excepted)."""
    NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=False,
                   resources={"metadata": {"path": str(cwd)}}).execute()


@pytest.fixture(scope="module")
def realshaped_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real-shaped corpus built once with the entity model (the lessons use entities)."""
    path = tmp_path_factory.mktemp("lessons") / "index"
    cs.build([REALSHAPED], path, progress=False)
    return path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_saved_charts_are_images(path: Path) -> None:
    """Every saved chart output holds a PNG, not only ``<Figure size ...>`` text."""
    nb = nbformat.read(path, as_version=4)
    assert _figure_outputs_without_png(nb) + _chart_cells_without_png(nb) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem[:2] for p in NOTEBOOKS])
def test_lesson_runs_on_the_realshaped_corpus(path: Path, realshaped_index: Path) -> None:
    """The lesson runs top to bottom with its settings cell pointed at the real-shaped
    corpus, and every chart it draws shows as an image."""
    nb = nbformat.read(path, as_version=4)
    settings = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(settings) == 1, "one settings cell tagged 'parameters'"
    settings[0].source = f"CORPUS = {str(REALSHAPED)!r}\nINDEX = {str(realshaped_index)!r}\n"
    _run(nb, path.parent)
    shown = [out.get("data", {}).get("text/plain", "") for c in nb.cells
             for out in c.get("outputs", [])]
    assert any(REALSHAPED_REPR.search(text) for text in shown), "the index shown is not it"
    assert _figure_outputs_without_png(nb) + _chart_cells_without_png(nb) == []


def test_a_chart_shows_once_as_png_without_matplotlib_inline(tmp_path: Path) -> None:
    """``index.plot_terms(...)`` in a fresh kernel (no ``%matplotlib inline``) displays
    exactly one PNG and no figure text."""
    cs.build([SEEDS], tmp_path / "index", entities=False, progress=False)
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import corpus_search as cs\n"
                                  f"index = cs.open_index({str(tmp_path / 'index')!r})"),
        nbformat.v4.new_code_cell('index.plot_terms(["NATO", "Russia"])'),
    ])
    _run(nb, tmp_path)
    outputs = nb.cells[1].outputs
    pngs = [out for out in outputs if "image/png" in out.get("data", {})]
    assert len(pngs) == 1, outputs
    assert base64.b64decode(pngs[0]["data"]["image/png"]).startswith(b"\x89PNG")
    assert _figure_outputs_without_png(nb) == []
