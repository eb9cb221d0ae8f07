"""``IPyParallelExecutor()`` with no provider attaches to the cluster the user started with
``ipcluster start`` (default profile, ``IPYTHONDIR`` honoured), as 0.5.0 did; with no cluster
it fails fast with an error that says how to start one. A real ``ipcluster`` on 127.0.0.1."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from ipp_helpers import require_ipp_stack, wait_until


def _ipcluster(ipython_dir, *args):
    exe = os.path.join(os.path.dirname(sys.executable), "ipcluster")
    env = {**os.environ, "IPYTHONDIR": str(ipython_dir)}
    return subprocess.Popen([exe, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """A user's `ipcluster start -n 2` in its own IPYTHONDIR; yields that directory."""
    require_ipp_stack()
    ipython_dir = tmp_path / "ipython"
    proc = _ipcluster(ipython_dir, "start", "-n", "2", "--ip=127.0.0.1")
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    client_file = ipython_dir / "profile_default" / "security" / "ipcontroller-client.json"
    try:
        assert wait_until(client_file.exists, 90), "ipcluster did not start"
        import ipyparallel

        with ipyparallel.Client(str(client_file), timeout=30) as c:
            c.wait_for_engines(2, timeout=90)
        yield ipython_dir
    finally:
        stop = _ipcluster(ipython_dir, "stop")
        stop.wait(60)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_050_script_runs_on_the_users_ipcluster(cluster, tmp_path):
    from parsl import App, DataFlowKernel, IPyParallelExecutor  # 0.5.0's `from parsl import *` names

    dfk = DataFlowKernel(executors=[IPyParallelExecutor()], rundir=str(tmp_path / "run"))
    try:

        @App("python", dfk)
        def where():
            import os

            return os.environ.get("IPYTHONDIR"), os.getpid()

        ipython_dir, pid = where().result(timeout=120)
        assert pid != os.getpid() and ipython_dir == str(cluster)  # ran on the cluster's engines
    finally:
        dfk.cleanup()
    # the user's cluster is left running
    import ipyparallel

    client_file = cluster / "profile_default" / "security" / "ipcontroller-client.json"
    with ipyparallel.Client(str(client_file), timeout=30) as c:
        assert len(c.ids) == 2


def test_no_cluster_fails_fast_saying_how_to_start_one(tmp_path, monkeypatch):
    require_ipp_stack()
    from parsl import DataFlowKernel, IPyParallelExecutor
    from parsl.executors.errors import ControllerErr

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "empty"))
    t0 = time.monotonic()
    with pytest.raises(ControllerErr, match=r"ipcluster start") as ei:
        DataFlowKernel(executors=[IPyParallelExecutor()], rundir=str(tmp_path / "run"))
    assert "execution_provider" in str(ei.value) and str(tmp_path / "empty") in str(ei.value)
    assert time.monotonic() - t0 < 30


def test_a_stale_connection_file_fails_within_30_s(cluster, tmp_path, monkeypatch):
    """The cluster is stopped but its client file is left behind (a crashed ipcluster)."""
    from parsl import DataFlowKernel, IPyParallelExecutor
    from parsl.executors.errors import ControllerErr

    client_file = cluster / "profile_default" / "security" / "ipcontroller-client.json"
    kept = tmp_path / "kept.json"
    shutil.copy(client_file, kept)
    _ipcluster(cluster, "stop").wait(60)
    assert wait_until(lambda: not client_file.exists(), 30)
    shutil.copy(kept, client_file)
    t0 = time.monotonic()
    with pytest.raises(ControllerErr, match=r"did not answer.*ipcluster start"):
        DataFlowKernel(executors=[IPyParallelExecutor()], rundir=str(tmp_path / "run"))
    assert time.monotonic() - t0 < 30
