"""parsl-data as parsl-core sees it: its staging plugins by URL scheme, its `parsl globus`
command, and the install hint when the globus extra is missing."""
from __future__ import annotations

import subprocess
import sys

import pytest

from parsl import plugins


def test_the_staging_plugins_are_found_by_url_scheme():
    from parsl_data.ftp import FTPStaging
    from parsl_data.http import HTTPStaging

    assert plugins.get("staging", "http") is HTTPStaging and plugins.get("staging", "https") is HTTPStaging
    assert plugins.get("staging", "ftp") is FTPStaging
    assert {"file", "ftp", "globus", "http", "https"} <= set(plugins.names("staging"))
    assert "globus" in plugins.names("command")


def test_importing_parsl_data_imports_no_provider_nor_globus_sdk():
    code = "import sys, parsl_data; print(sorted(m for m in sys.modules if m.startswith(('parsl_data.', 'globus_sdk'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_without_globus_sdk_the_globus_scheme_names_the_extra_to_install(monkeypatch):
    from parsl.errors import PluginDependencyMissing

    monkeypatch.setitem(sys.modules, "globus_sdk", None)  # as if globus-sdk were not installed
    monkeypatch.delitem(sys.modules, "parsl_data.globus", raising=False)
    monkeypatch.delitem(sys.modules, "parsl_data.globus_auth", raising=False)
    plugins.clear_cache()
    try:
        with pytest.raises(PluginDependencyMissing, match=r"pip install 'parsl-data\[globus\]'"):
            plugins.get("staging", "globus")
    finally:
        plugins.clear_cache()
