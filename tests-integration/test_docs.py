"""The docs run: every page's code blocks do what their info strings say (docs/examples.py),
and the tutorial notebook is generated from docs/tutorial.md and executes top to bottom."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS))
import examples  # noqa: E402
import notebook  # noqa: E402

PAGES = examples.pages()


def test_there_are_pages_with_code():
    assert len(PAGES) >= 10 and sum(len(examples.blocks(p)) for p in PAGES) >= 40


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_examples_run(page, monkeypatch):
    monkeypatch.delenv("PARSL_MONITORING", raising=False)
    assert examples.check_page(page) == []


def test_a_failing_block_is_reported_with_its_page_and_line(tmp_path, monkeypatch):
    monkeypatch.setattr(examples, "DOCS", tmp_path)
    page = tmp_path / "broken.md"
    page.write_text("# x\n\n```python\nx = 1\n```\n\ntext\n\n```python\nassert x == 2\n```\n\n```python norun\ndef (\n```\n")
    problems = examples.check_page(page)
    assert any("broken.md:13: does not compile" in p for p in problems)
    assert any("FAILED at broken.md:9" in p and "AssertionError" in p for p in problems)


def test_the_notebook_is_generated_from_the_tutorial_page():
    assert (DOCS / "tutorial.ipynb").read_text() == notebook.notebook((DOCS / "tutorial.md").read_text())


def test_the_tutorial_notebook_executes(tmp_path):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in requirements-dev.txt")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in requirements-dev.txt")
    pytest.importorskip("ipykernel", reason="ipykernel is in requirements-dev.txt")
    nb = nbformat.read(DOCS / "tutorial.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "Result:  Hello World!" in outputs and "Average:" in outputs
