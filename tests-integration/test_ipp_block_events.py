"""A monitored ipp run records its blocks' lives in the monitoring store (real controller,
engines in libsubmit Local blocks, parsl-monitoring's sqlite store read while the run is live)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ipp_stack")]


def _events(run_dir: str, executor: str) -> dict[str, list[str]]:
    """Block id → the events the store holds for it so far, in order."""
    from parsl_monitoring import open_store

    if not os.path.exists(os.path.join(run_dir, "monitoring.db")):
        return {}
    db = open_store(run_dir)
    try:
        rows = db.execute("SELECT block_id, event FROM block WHERE executor = ? ORDER BY rowid", (executor,)).fetchall()
    finally:
        db.close()
    out: dict[str, list[str]] = {}
    for block, event in rows:
        out.setdefault(block, []).append(event)
    return out


def _monitored(tmp_path, ex):
    import parsl

    pytest.importorskip("parsl_monitoring", reason="needs parsl-monitoring")
    return parsl.load(parsl.Config(executors=[ex], monitoring=True, run_dir=str(tmp_path / "runinfo")))


def test_a_monitored_ipp_run_records_each_blocks_life_in_the_store(tmp_path) -> None:
    """Block 0 comes up, loses its only engine to a task and ends; the strategy starts block 1
    (min_blocks=1), which serves until the run is cleaned up."""
    import parsl
    from libsubmit.providers.local.local import Local
    from parsl_executors.errors import EngineLost
    from parsl_executors.ipp import IPyParallelExecutor

    @parsl.python_app
    def poison():
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)

    @parsl.python_app
    def pid():
        import os

        return os.getpid()

    ex = IPyParallelExecutor(Local(tasks_per_node=1, init_blocks=1, min_blocks=1, max_blocks=1), label="ipp_mon", engine_dir=str(tmp_path))
    with _monitored(tmp_path, ex) as dfk:
        run_dir = dfk.run_dir
        assert wait_until(lambda: _events(run_dir, "ipp_mon").get("0") == ["submitted", "running"], 60), _events(run_dir, "ipp_mon")
        assert isinstance(poison().exception(timeout=60), EngineLost)
        assert wait_until(lambda: _events(run_dir, "ipp_mon").get("1") == ["submitted", "running"], 90), _events(run_dir, "ipp_mon")
        assert wait_until(lambda: "worker_lost" in _events(run_dir, "ipp_mon")["0"], 30), _events(run_dir, "ipp_mon")
        assert isinstance(pid().result(timeout=60), int)
    events = _events(run_dir, "ipp_mon")
    # the engine's loss and its block's end are seen by different checks, in either order
    assert events["0"][:2] == ["submitted", "running"] and sorted(events["0"][2:]) == ["ended", "worker_lost"], events
    assert events["1"] == ["submitted", "running", "released"], events
    assert set(events) == {"0", "1"}


def test_a_block_whose_engines_cannot_start_is_recorded_as_failed(tmp_path) -> None:
    from libsubmit.providers.local.local import Local
    from parsl_executors.ipp import IPyParallelExecutor

    ex = IPyParallelExecutor(Local(tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=1), label="ipp_broken", engine_command="false", engine_dir=str(tmp_path))
    with _monitored(tmp_path, ex) as dfk:
        run_dir = dfk.run_dir
        assert wait_until(lambda: "failed" in _events(run_dir, "ipp_broken").get("0", []), 60), _events(run_dir, "ipp_broken")
    assert _events(run_dir, "ipp_broken") == {"0": ["submitted", "failed"]}
