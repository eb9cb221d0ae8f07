"""Fixtures: a real IPyParallelExecutor (real ipcontroller, real engines) on loopback, with
blocks from the small process provider; every process it started is checked gone afterwards."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator

import pytest

from parsl.interfaces import BlockShape, ExecutorContext

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import ProcessBlocks, Recorder, wait_gone


@pytest.fixture
def make_ipp(tmp_path: os.PathLike[str]) -> Iterator[Callable[..., object]]:
    pytest.importorskip("ipyparallel")
    from parsl_executors.ipp import IPyParallelExecutor

    made: list[tuple[IPyParallelExecutor, ProcessBlocks]] = []

    def make(shape: BlockShape | None = None, monitor: Recorder | None = None, **kwargs: object) -> IPyParallelExecutor:
        run_dir = os.path.join(str(tmp_path), f"run{len(made)}")
        os.makedirs(run_dir)
        prov = ProcessBlocks(run_dir)
        kwargs.setdefault("engine_dir", str(tmp_path))
        ex = IPyParallelExecutor(prov, shape=shape or BlockShape(tasks_per_node=2, init_blocks=1, min_blocks=0, max_blocks=1), **kwargs)  # type: ignore[arg-type]
        made.append((ex, prov))
        ex.start(ExecutorContext(run_id="test", run_dir=run_dir, monitor=monitor))
        return ex

    yield make
    for ex, prov in made:
        pids = [p.pid for p in prov.procs.values()] + [e.pid for e in ex.engines.values() if e.pid]
        if ex.controller is not None and ex.controller.pid:
            pids.append(ex.controller.pid)
        ex.shutdown()
        prov.close()
        assert wait_gone(pids) == [], "processes left behind"


@pytest.fixture
def make_htex(tmp_path: os.PathLike[str]) -> Iterator[Callable[..., object]]:
    """Real HighThroughputExecutors (interchange, pools, workers) with process blocks; every
    process they started is checked gone afterwards."""
    pytest.importorskip("zmq")
    from parsl_executors.htex import HighThroughputExecutor

    made: list[tuple[HighThroughputExecutor, ProcessBlocks]] = []

    def make(shape: BlockShape | None = None, start: bool = True, monitor: Recorder | None = None, **kwargs: object) -> HighThroughputExecutor:
        run_dir = os.path.join(str(tmp_path), f"run{len(made)}")
        os.makedirs(run_dir)
        prov = ProcessBlocks(run_dir)
        kwargs.setdefault("max_workers_per_node", 2)
        kwargs.setdefault("label", "htex_test")
        ex = HighThroughputExecutor(provider=prov, shape=shape or BlockShape(init_blocks=1, min_blocks=0, max_blocks=1), **kwargs)  # type: ignore[arg-type]
        made.append((ex, prov))
        if start:
            ex.start(ExecutorContext(run_id="test", run_dir=run_dir, monitor=monitor))
        return ex

    yield make
    for ex, prov in made:
        pids = [p.pid for p in prov.procs.values()] + ex.worker_pids() + [p["pid"] for p in ex.pools]
        if ex.interchange_pid:
            pids.append(ex.interchange_pid)
        ex.shutdown()
        prov.close()
        assert wait_gone(pids) == [], "processes left behind"
