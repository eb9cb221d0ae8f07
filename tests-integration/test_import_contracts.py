"""The package boundaries of DESIGN §1, checked statically over every source file: parsl-core
imports no plugin distribution, and plugin distributions import parsl-core but never each
other (they meet only through entry points and parsl.interfaces)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "parsl": ROOT / "packages/parsl-core/src/parsl",
    "parsl_executors": ROOT / "packages/parsl-executors/src/parsl_executors",
    "libsubmit": ROOT / "packages/libsubmit/src/libsubmit",
    "parsl_data": ROOT / "packages/parsl-data/src/parsl_data",
    "parsl_containers": ROOT / "packages/parsl-containers/src/parsl_containers",
    "parsl_monitoring": ROOT / "packages/parsl-monitoring/src/parsl_monitoring",
}
PLUGINS = set(PACKAGES) - {"parsl"}


def imported_top_levels(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_respect_the_boundaries(package):
    forbidden = PLUGINS if package == "parsl" else PLUGINS - {package}
    offenders = {}
    for path in PACKAGES[package].rglob("*.py"):
        bad = imported_top_levels(path) & forbidden
        if bad:
            offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}, f"{package} imports sibling distributions: {offenders}"


def test_the_check_sees_imports():
    sample = ROOT / "packages/parsl-executors/src/parsl_executors/ipp/executor.py"
    assert "parsl" in imported_top_levels(sample)
