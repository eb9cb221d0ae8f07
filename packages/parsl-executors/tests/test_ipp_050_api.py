"""0.5.0's ``executor.status()``, and a timed app on an engine failing at its deadline even
while it sleeps (the engine runs it in its main thread: a timer signal interrupts the call)."""
from __future__ import annotations

import os
import sys
import time

import cloudpickle

from parsl.app.errors import AppTimeout
from parsl.app.walltime import TimedCall
from parsl.interfaces import BlockShape, JobState

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # engines cannot import this module


def nap(t: float) -> int:
    time.sleep(t)
    return os.getpid()


def test_status_lists_the_state_of_each_block(make_ipp) -> None:
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=2, min_blocks=0, max_blocks=2), flow_control=False)
    states = ex.status()
    assert len(states) == 2 and all(isinstance(s, JobState) for s in states)
    assert all(s in (JobState.PENDING, JobState.RUNNING) for s in states)
    ex.shutdown()
    assert ex.status() == []  # no blocks left


def test_a_timed_call_sleeping_on_an_engine_fails_at_its_deadline(make_ipp) -> None:
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=1), flow_control=False)
    ex.wait_for_engines(1, timeout=60)
    # the nap would last 60 s; the future must fail long before that
    err = ex.submit(TimedCall(nap, 0.5, "nap"), 60).exception(timeout=30)
    assert isinstance(err, AppTimeout)
    # the same engine (the only one) is free again at once
    assert ex.submit(nap, 0).result(timeout=30) > 0
