"""The plugin registry: lookup order, actionable errors, `parsl plugins`."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from parsl import plugins
from parsl.errors import PluginDependencyMissing, PluginError, PluginNotFound, PluginTypeError
from parsl.executors.threads import ThreadPoolExecutor
from parsl.interfaces import ParslExecutor


class Dummy(ParslExecutor):
    label = "dummy"

    def submit(self, func, *args, **kwargs):
        raise NotImplementedError

    def shutdown(self, block=True):
        pass


def test_core_registers_threads_and_file():
    assert plugins.get("executor", "threads") is ThreadPoolExecutor
    assert "file" in plugins.names("staging")


def test_programmatic_registration_wins_and_is_type_checked():
    plugins.register("executor", "threads", Dummy)
    try:
        assert plugins.get("executor", "threads") is Dummy
        assert isinstance(plugins.create("executor", "threads"), Dummy)
    finally:
        plugins.unregister("executor", "threads")
    assert plugins.get("executor", "threads") is ThreadPoolExecutor
    plugins.register("executor", "wrong", object)
    try:
        with pytest.raises(PluginTypeError, match="not a ParslExecutor"):
            plugins.get("executor", "wrong")
    finally:
        plugins.unregister("executor", "wrong")


def test_string_targets_are_imported_lazily():
    plugins.register("executor", "lazy", "parsl.executors.threads:ThreadPoolExecutor")
    try:
        assert plugins.get("executor", "lazy") is ThreadPoolExecutor
    finally:
        plugins.unregister("executor", "lazy")


def test_unknown_name_lists_installed_and_suggests(no_plugins):
    with pytest.raises(PluginNotFound) as ei:
        plugins.get("executor", "thread")
    msg = str(ei.value)
    assert "did you mean 'threads'" in msg and "installed: threads" in msg


def test_known_name_from_another_distribution_gives_pip_line(no_plugins):
    with pytest.raises(PluginNotFound, match=r"pip install 'libsubmit\[aws\]'"):
        plugins.get("provider", "aws")
    with pytest.raises(PluginNotFound, match=r"pip install 'parsl-executors\[ipp\]'"):
        plugins.get("executor", "ipp")


def test_unknown_kind():
    with pytest.raises(PluginError, match="unknown plugin kind"):
        plugins.get("widget", "x")


def test_require_names_the_extra():
    with pytest.raises(PluginDependencyMissing) as ei:
        plugins.require("no_such_module_xyz", feature="SshChannel", distribution="libsubmit", extra="ssh")
    assert ei.value.pip_line == "pip install 'libsubmit[ssh]'"
    assert isinstance(ei.value, ImportError)


FAKE_DIST = """
Metadata-Version: 2.1
Name: fake-plugin
Version: 1.2.3
Requires-Dist: definitely_missing_dep_abc>=1 ; extra == "fancy"
"""


def _fake_dist(tmp_path, target):
    site = tmp_path / "site"
    pkg = site / "fakeplug"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "ex.py").write_text(
        textwrap.dedent(
            """
            import definitely_missing_dep_abc  # the optional dependency
            """
        )
    )
    (pkg / "ok.py").write_text(
        textwrap.dedent(
            """
            from parsl.interfaces import ParslExecutor
            class Ok(ParslExecutor):
                label = 'ok'
                def submit(self, f, *a, **k): pass
                def shutdown(self, block=True): pass
            """
        )
    )
    info = site / "fake_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(FAKE_DIST.strip() + "\n")
    (info / "entry_points.txt").write_text(f"[parsl.executors]\nfancy = {target}\nok = fakeplug.ok:Ok\n")
    return site


def test_entry_point_discovery_and_missing_dependency_in_a_subprocess(tmp_path):
    site = _fake_dist(tmp_path, "fakeplug.ex:Fancy")
    code = textwrap.dedent(
        """
        import sys
        from parsl import plugins
        from parsl.errors import PluginDependencyMissing
        print(plugins.get('executor', 'ok').__name__)
        try:
            plugins.get('executor', 'fancy')
        except PluginDependencyMissing as e:
            print(e.pip_line)
        """
    )
    env = {"PYTHONPATH": str(site)}
    import os

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, check=True)
    assert out.stdout.split("\n")[:2] == ["Ok", "pip install 'fake-plugin[fancy]'"]
    cli = subprocess.run([sys.executable, "-m", "parsl.cli", "plugins"], capture_output=True, text=True, env={**os.environ, **env}, check=True)
    assert "fancy" in cli.stdout and "fake-plugin 1.2.3" in cli.stdout and "threads" in cli.stdout


def test_describe_lists_core_plugins():
    rows = {(r.kind, r.name): r for r in plugins.describe()}
    assert rows[("executor", "threads")].target == "parsl.executors.threads:ThreadPoolExecutor"


def test_parsl_plugins_into_a_closed_pipe_exits_quietly():
    """``parsl plugins | head -n 1``: the reader goes away; no traceback, exit status 0."""
    import os

    r, w = os.pipe()
    os.close(r)  # the reader is gone before anything is written
    try:
        p = subprocess.run([sys.executable, "-c", "import sys; from parsl.cli import main; sys.exit(main(['plugins']))"], stdout=w, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(w)
    assert p.returncode == 0 and "BrokenPipe" not in p.stderr, p.stderr
