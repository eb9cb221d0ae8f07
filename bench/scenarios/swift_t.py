"""Turbine (swift_t) executor benchmark: no-op throughput across the 4 ranks of one local block
(rank 0 dispatching to 3 worker ranks over Open MPI), beside the IPyParallel executor with 4
engines measured in the same run (and the high-throughput executor with 4 workers when
``parsl_executors.htex`` is installed).

Run alone: ``python bench/scenarios/swift_t.py [--quick]``; prints one line per figure.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import Any, Callable

# the task function, sent by value (the ranks and engines cannot import this module)
_ns: dict[str, Any] = {"__name__": "__main__"}
exec("def noop(*a):\n    return None\n", _ns)
noop = _ns["noop"]


def _row(metric: str, ours: float, baseline: float, n: int, target: str = "") -> dict[str, Any]:
    return {
        "scenario": f"swift_t x{n}",
        "metric": metric,
        "ours": round(ours, 3),
        "baseline": round(baseline, 3),
        "unit": "tasks/s",
        "higher_is_better": True,
        "target": target,
    }


def _rate(submit: Callable[[], Any], n: int) -> float:
    t = time.perf_counter()
    futs = [submit() for _ in range(n)]
    for f in futs:
        f.result(timeout=600)
    return n / (time.perf_counter() - t)


def _measure(make: Callable[[str], Any], ready: Callable[[Any], None], n: int, rounds: int) -> dict[str, float]:
    """Best executor.submit and python-app rates over ``rounds`` for one executor."""
    import parsl

    work = tempfile.mkdtemp(prefix="bench-swift_t-")
    ex = make(work)
    dfk = parsl.DataFlowKernel(executors=[ex], rundir=os.path.join(work, "run"))
    try:
        ready(ex)
        app = parsl.python_app(noop, data_flow_kernel=dfk)
        for _ in range(3):
            ex.submit(noop).result(timeout=120)
        best = {"executor": 0.0, "apps": 0.0}
        for _ in range(rounds):
            best["executor"] = max(best["executor"], _rate(lambda: ex.submit(noop), n))
            best["apps"] = max(best["apps"], _rate(app, n))
        return best
    finally:
        dfk.cleanup()


def _local(work: str, tasks: int) -> Any:
    from libsubmit.channels.local.local import LocalChannel
    from libsubmit.providers.local.local import Local

    return Local(channel=LocalChannel(scriptDir=os.path.join(work, "scripts")), tasks_per_node=tasks, init_blocks=1, min_blocks=1, max_blocks=1)


def turbine(work: str) -> Any:
    from parsl_executors.swift_t import TurbineExecutor

    return TurbineExecutor(label="bench_swift_t")  # its default: one local block of 4 ranks


def ipp(work: str) -> Any:
    from parsl_executors import IPyParallelExecutor

    return IPyParallelExecutor(_local(work, 4), label="bench_ipp")


def htex_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("parsl_executors.htex") is not None


def htex(work: str) -> Any:
    """The hook for the high-throughput executor (measured when it is installed)."""
    from parsl_executors.htex import HighThroughputExecutor

    return HighThroughputExecutor(label="bench_htex", max_workers_per_node=4, provider=_local(work, 1))


def run(quick: bool) -> list[dict[str, Any]]:
    n, rounds = (500, 1) if quick else (5000, 2)
    ours = _measure(turbine, lambda ex: ex.wait_for_ranks(4, timeout=120), n, rounds)
    base = _measure(ipp, lambda ex: ex.wait_for_engines(4, timeout=120), n, rounds)
    rows = [
        _row("executor.submit, 4 MPI ranks vs ipp executor.submit, 4 engines", ours["executor"], base["executor"], n, ">= 2x"),
        _row("python apps via the kernel, 4 MPI ranks vs ipp, 4 engines", ours["apps"], base["apps"], n, ">= 2x"),
    ]
    if htex_installed():
        other = _measure(htex, lambda ex: time.sleep(2), n, rounds)
        rows.append(_row("executor.submit, 4 MPI ranks vs htex executor.submit, 4 workers", ours["executor"], other["executor"], n))
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv[1:]):
        print(f"{r['metric']}: ours {r['ours']} {r['unit']}, baseline {r['baseline']} {r['unit']} ({r['ours'] / r['baseline']:.2f}x)")
