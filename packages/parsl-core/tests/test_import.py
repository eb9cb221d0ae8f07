"""`import parsl` is cheap and inert (checked in a fresh interpreter)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

PLUGINS_AND_OPTIONAL = [
    "parsl_executors", "libsubmit", "parsl_data", "parsl_containers", "zmq", "paramiko", "boto3",
    "globus_sdk", "docker", "ipyparallel", "cloudpickle", "parsl.dataflow.dflow", "parsl.app.app",
]

PROBE = """
import json, os, sys, threading
before = set(os.listdir('.'))
import parsl
print(json.dumps({
    "modules": sorted(m for m in sys.modules if m.split('.')[0] in %r or m in %r),
    "threads": threading.active_count(),
    "new_files": sorted(set(os.listdir('.')) - before),
}))
""" % ({m.split(".")[0] for m in PLUGINS_AND_OPTIONAL if "." not in m}, PLUGINS_AND_OPTIONAL)


def test_import_parsl_imports_no_plugin_starts_nothing(tmp_path):
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["modules"] == [], f"import parsl pulled in {data['modules']}"
    assert data["threads"] == 1
    assert data["new_files"] == []


def test_star_import_gives_the_0_5_0_names(tmp_path):
    code = "from parsl import *\nprint(sorted(n for n in ('App','app','DataFlowKernel','ThreadPoolExecutor','File','set_stream_logger','set_file_logger','python_app','bash_app','join_app','Config') if n in globals()))"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(sorted(["App", "app", "DataFlowKernel", "ThreadPoolExecutor", "File", "set_stream_logger", "set_file_logger", "python_app", "bash_app", "join_app", "Config"]))
    assert not os.path.exists(tmp_path / "runinfo")


def test_version_is_the_distribution_version():
    import importlib.metadata

    import parsl

    assert parsl.__version__ == importlib.metadata.version("parsl-core")


def test_unknown_attribute_is_an_attribute_error():
    import parsl

    try:
        parsl.NoSuchThing  # noqa: B018
    except AttributeError as e:
        assert "NoSuchThing" in str(e)
    else:
        raise AssertionError("expected AttributeError")
