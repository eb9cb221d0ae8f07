"""Generate tests-integration/data/api_050_index.txt from the index of the Parsl 0.5.0
documentation (the API reference's "Symbols ... U" index), for tests-integration/test_050_api_paths.py.

    python scripts/gen_050_api_index.py path/to/parsl-0.5.0-documentation.txt > tests-integration/data/api_050_index.txt

Each output line is ``kind module qualname``: ``module`` (a public module), ``class`` /
``function`` (a public name in a module), ``method`` / ``attribute`` (a member of a class).
Private and dunder members are left out.
"""
from __future__ import annotations

import re
import sys

# name, then "(class in mod)", "(in module mod)", "(mod.Class method|static method|attribute)" or "(module)"
_ENTRY = re.compile(r"`?(?P<name>[A-Za-z_][\w]*)(?:\(\))?`?\s*\((?P<where>[^)]*)\)")


def entries(text: str) -> list[tuple[str, str, str]]:
    start = text.index("## Symbols")
    index = text[start:].replace("\\_", "_").replace("`", "")
    out: set[tuple[str, str, str]] = set()
    for m in _ENTRY.finditer(index):
        name, where = m["name"], m["where"].strip()
        if name.startswith("_"):
            continue
        if where == "module":
            out.add(("module", name, ""))
        elif where.startswith("class in "):
            out.add(("class", where[len("class in ") :], name))
        elif where.startswith("in module "):
            out.add(("function", where[len("in module ") :], name))
        else:
            parts = where.rsplit(" ", 1)
            if len(parts) != 2:
                continue
            target, kind = parts
            if target.endswith(" static"):
                target = target[: -len(" static")]
            kind = "attribute" if kind == "attribute" else "method"
            module, _, cls = target.rpartition(".")
            out.add((kind, module, f"{cls}.{name}"))
    return sorted(out)


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    for kind, module, qualname in entries(text):
        print(f"{kind} {module} {qualname}".rstrip())


if __name__ == "__main__":
    main()
