"""Races: many threads submitting, cancellation, deep chains and wide fan-ins."""
from __future__ import annotations

import concurrent.futures as cf
import random
import threading

import pytest

from parsl import App, DataFlowKernel, ThreadPoolExecutor
from parsl.app.errors import DependencyError


def test_many_threads_submit_into_one_graph(dfk):
    @App("python", dfk)
    def add(*xs):
        return sum(xs)

    roots = [add(i) for i in range(50)]
    results: list[cf.Future] = []
    lock = threading.Lock()

    def submitter(seed):
        rnd = random.Random(seed)
        mine = []
        for _ in range(200):
            parents = rnd.sample(roots, 3)
            mine.append((add(*parents), sum(p.result() for p in parents)))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=submitter, args=(s,)) for s in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 1600
    for fut, expected in results:
        assert fut.result(timeout=30) == expected


def test_dependency_counting_under_racing_parents():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=8)])

    @App("python", dfk)
    def leaf(i):
        return i

    @App("python", dfk)
    def gather(inputs=()):
        return sum(inputs)

    for _ in range(20):
        leaves = [leaf(i) for i in range(300)]
        assert gather(inputs=leaves).result(timeout=30) == sum(range(300))
    dfk.cleanup()


def test_cancelled_pending_task_never_runs_and_dependants_fail_clearly(dfk):
    ran = []

    @App("python", dfk)
    def record(x):
        ran.append(x)
        return x

    gate: cf.Future = cf.Future()
    victim = record(gate)
    child = record(victim)
    assert victim.cancel()
    gate.set_result("go")
    with pytest.raises(DependencyError) as ei:
        child.result(timeout=10)
    assert isinstance(ei.value.dependent_exceptions[0], cf.CancelledError)
    assert ran == []
    dfk.wait_for_current_tasks()


def test_long_chain_of_cache_hits_does_not_recurse():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)])

    @App("python", dfk, cache=True)
    def step(x):
        return x

    first = step(0).result()
    f = step(first)
    # 5,000 links whose results are all cache hits once the first is known
    for _ in range(5000):
        f = step(f)
    assert f.result(timeout=60) == 0
    dfk.cleanup()


def test_wide_fan_out_from_one_future(dfk):
    @App("python", dfk)
    def inc(x):
        return x + 1

    gate: cf.Future = cf.Future()
    futs = [inc(gate) for _ in range(20000)]
    gate.set_result(1)
    assert sum(f.result(timeout=60) for f in futs) == 40000
