"""Under CI=true a skip fails the run unless it is allow-listed with a reason (root conftest.py).
Each case runs a real pytest in a subprocess on a small tree that carries the same conftest."""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tree(tmp_path: Path, allow: str | None) -> Path:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / ".ci").mkdir()
    if allow is not None:
        (tmp_path / ".ci" / "allowed-skips.txt").write_text(allow)
    (tmp_path / "test_x.py").write_text(
        "import pytest\n"
        "def test_ok():\n    assert True\n"
        "def test_needs_daemon():\n    pytest.skip('no daemon here')\n"
    )
    return tmp_path


def _run(tree: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tree)],
                          cwd=tree, env=env, capture_output=True, text=True, timeout=120)


def test_skip_is_only_a_skip_locally(tmp_path):
    proc = _run(_tree(tmp_path, None), None)
    assert proc.returncode == 0, proc.stdout
    assert "1 skipped" in proc.stdout


def test_skip_fails_under_ci_and_is_named(tmp_path):
    proc = _run(_tree(tmp_path, None), "true")
    assert proc.returncode == 1, proc.stdout
    assert "skips not allowed in CI" in proc.stdout
    assert "test_x.py::test_needs_daemon" in proc.stdout


def test_allow_listed_skip_passes_under_ci(tmp_path):
    proc = _run(_tree(tmp_path, "test_x.py::test_needs_daemon  # this machine has no daemon\n"), "true")
    assert proc.returncode == 0, proc.stdout


def test_allow_list_entry_without_reason_is_an_error(tmp_path):
    proc = _run(_tree(tmp_path, "test_x.py::test_needs_daemon\n"), "true")
    assert proc.returncode != 0
    assert "needs a node-id glob and '# <reason>'" in proc.stdout + proc.stderr


def test_the_repository_allow_list_parses():
    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "conftest.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for glob, reason in mod.load_allow_list():
        assert glob and reason
