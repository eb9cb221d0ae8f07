"""A script killed with SIGKILL (no cleanup, no atexit) leaves no ipcontroller and no engine
behind: the controller's guard ends it, and the engines stop when its heartbeat is gone."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import require_ipp_stack, wait_gone

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SCRIPT = textwrap.dedent(
    """
    import copy, json, os, sys, time
    import psutil
    from parsl import App, DataFlowKernel
    from parsl.configs.local import localIPP

    cfg = copy.deepcopy(localIPP)
    cfg["sites"][0]["execution"]["block"]["taskBlocks"] = 2
    dfk = DataFlowKernel(config=cfg)

    @App("python", dfk)
    def pid():
        import os
        return os.getpid()

    pid().result(timeout=60)
    ex = dfk.executors["Local_IPP"]
    ex.wait_for_engines(2, timeout=60)
    everything = [p.pid for p in psutil.Process().children(recursive=True)]
    print(json.dumps({"engines": list(ex.engine_pids().values()), "all": everything}), flush=True)
    time.sleep(600)
    """
)


def test_sigkilled_script_leaves_no_controller_or_engine(tmp_path) -> None:
    require_ipp_stack()
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        info = json.loads(line)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    assert set(info["engines"]) <= set(info["all"]) and len(info["all"]) >= 4  # guard, controller, block, 2 engines
    assert wait_gone(info["all"], timeout=60) == []
