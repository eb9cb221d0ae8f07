"""Conformance tests for a plugin distribution's packaging.

Subclass and set the names::

    class TestDistribution(DistributionConformance):
        distribution = "parsl-data"
        import_name = "parsl_data"
        pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
"""
from __future__ import annotations

import importlib
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

PLUGIN_PACKAGES = frozenset({"libsubmit", "parsl_executors", "parsl_data", "parsl_containers", "parsl_monitoring"})


class DistributionConformance:
    distribution: str = ""
    import_name: str = ""
    pyproject: Path = Path()

    def test_installed_version_is_the_checkout_version(self) -> None:
        project = tomllib.loads(self.pyproject.read_text())["project"]
        assert importlib.metadata.version(self.distribution) == project["version"]
        assert any(r.startswith("parsl-core") and ">=" in r and "<" in r for r in project["dependencies"])

    def test_version_attribute_is_the_metadata_version(self) -> None:
        module = importlib.import_module(self.import_name)
        version = getattr(module, "__version__", None)
        assert version is not None, f"{self.import_name}.__version__ is missing (read it from the distribution's metadata)"
        assert version == importlib.metadata.version(self.distribution)

    def test_import_starts_nothing_and_pulls_in_no_other_plugin(self) -> None:
        others = sorted(PLUGIN_PACKAGES - {self.import_name})
        code = (
            f"import sys, threading, {self.import_name}; "
            f"print(threading.active_count(), sorted(m for m in sys.modules if m.split('.')[0] in {others!r}))"
        )
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        assert out.stdout.strip() == "1 []", out.stdout + out.stderr
