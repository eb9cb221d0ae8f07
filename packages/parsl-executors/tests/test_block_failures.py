"""Blocks that die at start are capped: a WARNING per failed block with its stderr tail, then
the waiting tasks fail with ScalingFailed carrying that tail, and no more blocks are started.
The last test runs a real executor whose engine command cannot start (real controller, real
block processes)."""
from __future__ import annotations

import logging
import sys

import pytest
from test_strategy import InMemoryBlocks

from parsl.executors.errors import ScalingFailed
from parsl.interfaces import BlockShape, JobState
from parsl_executors.scaling import BlockFailures, ScalingPolicy, Strategy


def test_cap_trips_after_limit_consecutive_failures(caplog: pytest.LogCaptureFixture) -> None:
    f = BlockFailures("site", limit=3)
    caplog.set_level(logging.WARNING)
    assert f.ended("0", "j0", JobState.FAILED, False, "docker: Cannot connect to the Docker daemon\n") is None
    assert f.ended("1", "j1", JobState.FAILED, False, "") is None
    assert "block 0 (job j0) ended FAILED before any worker connected (1 in a row; cap 3); its stderr ends with:\ndocker: Cannot connect" in caplog.text
    assert "wrote nothing to stderr" in caplog.text
    err = f.ended("2", "j2", JobState.COMPLETED, False, "Error: No such image: app1_v0.1")
    assert isinstance(err, ScalingFailed) and f.tripped is err
    assert err.stderr_tail == "Error: No such image: app1_v0.1" and "No such image: app1_v0.1" in str(err)
    assert "3 blocks in a row failed to start" in str(err) and "max_block_failures=3" in str(err)
    # later failures do not make a second error
    assert f.ended("3", "j3", JobState.FAILED, False, "x") is None and f.tripped is err


def test_a_connected_worker_resets_the_count() -> None:
    f = BlockFailures("site", limit=2)
    f.ended("0", "j0", JobState.FAILED, False)
    f.ended("1", "j1", JobState.FAILED, True)  # its engine had connected: not a failed start
    assert f.count == 0 and f.ended("2", "j2", JobState.FAILED, False) is None
    f.worker_connected()
    assert f.count == 0 and f.tripped is None


def test_refused_submits_count_too(caplog: pytest.LogCaptureFixture) -> None:
    f = BlockFailures("site", limit=2)
    assert f.refused("0", "SubmitException: Invalid partition name specified") is None
    err = f.refused("1", "SubmitException: Invalid partition name specified")
    assert err is not None and "block 1 could not be submitted" in str(err) and "Invalid partition" in err.stderr_tail
    assert "its error ends with" in caplog.text


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_limit_must_be_positive(bad: object) -> None:
    with pytest.raises(ValueError):
        BlockFailures("s", bad)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="max_block_failures"):
        ScalingPolicy(max_block_failures=bad)  # type: ignore[arg-type]


def test_strategy_stops_scaling_and_fails_waiting_tasks_once_tripped() -> None:
    failed: list[BaseException] = []

    class Failing(InMemoryBlocks):
        def fail_waiting(self, err: BaseException) -> None:
            failed.append(err)

    ex = Failing(ScalingPolicy(min_blocks=0, init_blocks=0, max_blocks=4, max_block_failures=1))
    ex.active = 2
    err = ex.block_failures.ended("0", "j0", JobState.FAILED, False, "boom")
    assert err is not None
    Strategy([ex]).strategize()
    assert ex.log == [] and failed == [err]
    ex.block_failures.worker_connected()
    Strategy([ex]).strategize()
    assert ex.log == [("out", 2)]


@pytest.mark.integration
def test_engine_that_cannot_start_fails_the_task_with_the_block_stderr(make_ipp) -> None:
    pytest.importorskip("ipyparallel")
    # what a missing daemon looks like from the block: a message on stderr, a non-zero exit
    broken = f"{sys.executable} -c 'import sys; sys.exit(\"engine-start: cannot connect to the container daemon\")'"
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=2), engine_command=broken, strategy_interval=0.2, max_block_failures=3)
    fut = ex.submit(pow, 2, 3)
    with pytest.raises(ScalingFailed) as info:
        fut.result(timeout=30)
    assert "cannot connect to the container daemon" in info.value.stderr_tail
    assert "3 blocks in a row failed to start" in str(info.value)
    started = len(ex.execution_provider.procs)
    assert started == 3
    # nothing is resubmitted, and a task submitted now fails the same way instead of waiting
    late = ex.submit(pow, 2, 4)
    with pytest.raises(ScalingFailed):
        late.result(timeout=10)
    assert len(ex.execution_provider.procs) == started
