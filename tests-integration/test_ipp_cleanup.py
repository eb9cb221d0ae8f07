"""``cleanup()`` leaves no controller, engine or block process behind (checked by pid), and
the 0.5.0 ``localIPP`` config runs python and bash apps on engines."""
from __future__ import annotations

import copy
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import descendants, wait_gone

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ipp_stack")]


def test_local_ipp_cleanup_leaves_nothing(tmp_path) -> None:
    from parsl import App, DataFlowKernel, File
    from parsl.configs.local import localIPP

    dfk = DataFlowKernel(config=copy.deepcopy(localIPP))
    ex = dfk.executors["Local_IPP"]

    @App("python", dfk)
    def double(x):
        return 2 * x

    @App("bash", dfk)
    def write(x, outputs=()):
        return "echo {0} > {outputs[0]}"

    @App("python", dfk)
    def read(inputs=()):
        with open(inputs[0]) as f:
            return int(f.read())

    w = write(21, outputs=[File(str(tmp_path / "x.txt"))])
    assert read(inputs=[w.outputs[0]]).result(timeout=60) == 21
    assert [double(i).result(timeout=60) for i in range(5)] == [0, 2, 4, 6, 8]
    ex.wait_for_engines(4, timeout=60)  # taskBlocks 4
    engines = set(ex.engine_pids().values())
    controller = ex.controller.pid
    started = descendants()
    assert engines <= started and controller in started
    assert len(started) >= 1 + 4 + 1  # controller, 4 engines, the block's shell
    dfk.cleanup()
    assert wait_gone(started) == []
    assert os.listdir(os.path.join(dfk.run_dir, "Local_IPP"))  # controller log and profile stay for reading


def test_cleanup_without_waiting_for_running_tasks() -> None:
    from parsl import App, DataFlowKernel
    from parsl.configs.local import localIPP

    dfk = DataFlowKernel(config=copy.deepcopy(localIPP))

    @App("python", dfk)
    def forever():
        import time

        time.sleep(600)

    f = forever()
    dfk.executors["Local_IPP"].wait_for_engines(1, timeout=60)
    started = descendants()
    dfk.cleanup(wait=False)
    assert wait_gone(started) == []
    from parsl.executors.errors import ExecutorShutdown

    with pytest.raises(ExecutorShutdown):
        f.result(timeout=10)


def test_unpicklable_argument_fails_fast_and_spends_no_retries() -> None:
    """Reliability bar item 16: a generator cannot travel to an engine; the task fails at once
    with the pickling error (no hang, no retries burnt), and the executor keeps working."""

    from parsl import App, DataFlowKernel
    from parsl.configs.local import localIPP

    dfk = DataFlowKernel(config=copy.deepcopy(localIPP), retries=2)

    @App("python", dfk)
    def consume(items):
        return sum(items)

    assert consume([1, 2]).result(timeout=60) == 3
    fut = consume(i for i in range(3))
    exc = fut.exception(timeout=30)
    assert exc is not None and "pickle" in f"{type(exc).__name__} {exc}".lower()
    assert fut.task_record["fail_count"] == 0  # refused at submit: never ran, no retry spent
    assert consume([3, 4]).result(timeout=60) == 7
    dfk.cleanup()
