"""The parsl-data skeleton installs as its own distribution, depends on parsl-core by range, and
importing it is inert."""
from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def test_installed_version_is_the_checkout_version():
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    assert importlib.metadata.version("parsl-data") == project["version"]
    assert any(r.startswith("parsl-core") and ">=" in r and "<" in r for r in project["dependencies"])


def test_import_starts_nothing_and_pulls_in_no_plugin():
    code = "import sys, threading, parsl_data; print(threading.active_count(), sorted(m for m in sys.modules if m.split('.')[0] in {'libsubmit', 'parsl_executors', 'parsl_data', 'parsl_containers'} and m != 'parsl_data'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1 []"
