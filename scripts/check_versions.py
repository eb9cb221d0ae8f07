"""Every sibling requirement in packages/*/pyproject.toml is satisfied by that sibling's version
in the checkout, and no package depends on a sibling through a path."""
from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def version_tuple(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", v)[:3])


def satisfied(version: str, spec: str) -> bool:
    v = version_tuple(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        m = re.match(r"(>=|<=|==|<|>|!=)\s*([\d.]+)$", clause)
        if not m:
            raise ValueError(f"cannot read version clause {clause!r}")
        op, bound = m.group(1), version_tuple(m.group(2))
        ok = {">=": v >= bound, "<=": v <= bound, "==": v == bound, "<": v < bound, ">": v > bound, "!=": v != bound}[op]
        if not ok:
            return False
    return True


def main() -> int:
    projects = {}
    for pp in sorted(ROOT.glob("packages/*/pyproject.toml")):
        data = tomllib.loads(pp.read_text())["project"]
        projects[data["name"]] = (pp, data)
    problems = []
    for name, (_pp, data) in projects.items():
        for req in data.get("dependencies", []):
            m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(?:\((.*)\)|(.*))$", req)
            if not m:
                continue
            dep, spec = m.group(1), (m.group(2) or m.group(3) or "").strip()
            if "@" in req or "file:" in req:
                problems.append(f"{name}: depends on {dep} through a path or URL: {req!r}")
            if dep in projects:
                sibling_version = projects[dep][1]["version"]
                if not satisfied(sibling_version, spec):
                    problems.append(f"{name}: requires {dep} {spec}, but the checkout has {sibling_version}")
    for p in problems:
        print(p)
    print(f"check_versions: {len(projects)} packages, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
