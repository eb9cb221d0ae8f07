"""Liveness of the ipp executor: lost engines are replaced, and busy engines do not outlive
a SIGKILLed driver (real controller, real engines, Local provider blocks)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, ipp_site, require_ipp_stack, wait_gone, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.usefixtures("ipp_stack")
def test_capacity_lost_to_a_poison_task_is_replaced() -> None:
    """A task kills its engine: the lost capacity is replaced by a new block, so two tasks
    again run side by side."""
    from parsl import App, DataFlowKernel
    from parsl_executors.errors import EngineLost

    dfk = DataFlowKernel(config=config(ipp_site(taskBlocks=2, initBlocks=1, minBlocks=1, maxBlocks=2, parallelism=1)))
    ex = dfk.executors["Local_IPP"]
    ex.wait_for_engines(2, timeout=60)
    assert len(ex.engine_pids()) == 2  # both engines known, with their block

    @App("python", dfk)
    def poison():
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)

    @App("python", dfk)
    def nap(t):
        import os
        import time

        time.sleep(t)
        return os.getpid()

    before = set(ex.engine_pids().values())
    assert isinstance(poison().exception(timeout=60), EngineLost)
    # the block that lost an engine counts as half a block: a new block brings the live
    # engines back to two (before, the block counted as whole and one engine was left)
    assert wait_until(lambda: len(ex.engine_pids()) >= 2, 60), (ex.engines, ex._blocks)
    assert set(ex.engine_pids().values()) != before
    futs = [nap(2) for _ in range(2)]
    assert len({f.result(timeout=120) for f in futs}) == 2
    dfk.cleanup()
    # the plugin's INFO/WARNING lines reach the run's parsl.log
    log = open(os.path.join(dfk.run_dir, "parsl.log")).read()
    for line in ("parsl_executors.scaling.blocks: executor Local_IPP: block 1 submitted as job", "block 0) lost", "blocks held (0.50 usable)"):
        assert line in log, line


DRIVER = textwrap.dedent(
    """
    import json, os, sys, time
    import psutil
    from parsl import App, DataFlowKernel

    site = {"site": "L", "auth": {"channel": None}, "execution": {"executor": "ipp", "provider": "local",
            "block": {"taskBlocks": 2, "initBlocks": 1, "maxBlocks": 1}}}
    dfk = DataFlowKernel(config={"sites": [site]})

    @App("python", dfk)
    def busy(d):
        import os, subprocess, time
        child = subprocess.Popen(["sleep", "300"])  # work the task started, in its block
        open(os.path.join(d, f"{os.getpid()}.{child.pid}"), "w").close()
        time.sleep(200)

    d = sys.argv[1]
    futs = [busy(d) for _ in range(2)]
    while len(os.listdir(d)) < 2:
        time.sleep(0.05)
    print(json.dumps([p.pid for p in psutil.Process().children(recursive=True)]), flush=True)
    time.sleep(600)
    """
)


def test_busy_engines_die_with_a_sigkilled_driver(tmp_path) -> None:
    """Both engines are in the middle of a 200 s task (each with a child process) when the
    driver is SIGKILLed: the controller goes with the driver, and every engine, block and
    task child goes within the heartbeat threshold (2 s) after it."""
    require_ipp_stack()
    marks = tmp_path / "marks"
    marks.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", DRIVER, str(marks)], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    try:
        pids = json.loads(proc.stdout.readline())  # type: ignore[union-attr]
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    killed = time.monotonic()
    children = [int(n.split(".")[1]) for n in os.listdir(marks)]
    everything = set(pids) | set(children)
    assert len(pids) >= 5 and len(children) == 2  # guard, controller, block, 2 engines
    assert wait_gone(everything, timeout=60) == []
    print(f"all {len(everything)} processes gone {time.monotonic() - killed:.1f} s after the driver's SIGKILL")
