"""Make ``tutorial.ipynb`` from ``tutorial.md`` (one source for both): prose becomes markdown
cells, each runnable python block a code cell.

    python docs/notebook.py            # rewrite docs/tutorial.ipynb
    python docs/notebook.py --check    # exit 1 if the committed notebook is out of date
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from examples import FENCE

DOCS = Path(__file__).resolve().parent


def cells(markdown: str) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    pos = 0

    def prose(text: str) -> None:
        text = text.strip("\n")
        if text.strip():
            out.append({"cell_type": "markdown", "metadata": {}, "source": text.splitlines(keepends=True)})

    for m in FENCE.finditer(markdown):
        rest = m.group("rest").split()
        runnable = m.group("lang") == "python" and not (rest and rest[0] == "norun")
        if not runnable:
            continue
        prose(markdown[pos:m.start()])
        body = m.group("body").rstrip("\n")
        out.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": body.splitlines(keepends=True)})
        pos = m.end()
    prose(markdown[pos:])
    return out


def notebook(markdown: str) -> str:
    nb = {
        "cells": cells(markdown),
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, cell in enumerate(nb["cells"]):  # type: ignore[arg-type]
        cell["id"] = f"cell-{i}"
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    text = notebook((DOCS / "tutorial.md").read_text())
    target = DOCS / "tutorial.ipynb"
    if "--check" in argv:
        if not target.exists() or target.read_text() != text:
            print("docs/tutorial.ipynb is out of date: run python docs/notebook.py")
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
