"""IPyParallel executor benchmarks (real controller and engines on loopback).

1. No-op throughput: 1,000 no-op tasks through ``IPyParallelExecutor.submit`` and through
   python apps on a DataFlowKernel, each against raw ipyparallel ``apply_async`` on the same
   two engines in the same run (target: at least 0.8x raw).
2. Time to first result: ``DataFlowKernel(config=localIPP)`` to the first app's result,
   against starting ``ipcontroller`` + one ``ipengine`` by hand and running one
   ``apply_async`` (target: at most 5 s).

Run alone: ``python bench/scenarios/ipp.py [--quick]``; prints one line per figure.
"""
from __future__ import annotations

import copy
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

# the task function, built so that both cloudpickle (ours) and ipyparallel's own canning (raw)
# send it by value: engines cannot import this module
_ns: dict[str, Any] = {"__name__": "__main__"}
exec("def noop(*a):\n    return None\n", _ns)
noop = _ns["noop"]


def _row(scenario: str, metric: str, ours: float, baseline: float, unit: str, higher: bool, target: str = "") -> dict[str, Any]:
    return {
        "scenario": scenario,
        "metric": metric,
        "ours": round(ours, 3),
        "baseline": round(baseline, 3),
        "unit": unit,
        "higher_is_better": higher,
        "target": target,
    }


def _rate(submit: Any, n: int) -> float:
    t = time.perf_counter()
    futs = [submit() for _ in range(n)]
    for f in futs:
        f.result(timeout=300)
    return n / (time.perf_counter() - t)


def throughput(n: int, rounds: int) -> list[dict[str, Any]]:
    import parsl
    from libsubmit.channels.local.local import LocalChannel
    from libsubmit.providers.local.local import Local
    from parsl.interfaces import BlockShape
    from parsl_executors import IPyParallelExecutor

    work = tempfile.mkdtemp(prefix="bench-ipp-")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        provider = Local(channel=LocalChannel(scriptDir=os.path.join(work, "scripts")), tasks_per_node=2, init_blocks=1, min_blocks=1, max_blocks=1)
        ex = IPyParallelExecutor(provider, label="bench_ipp", shape=BlockShape(tasks_per_node=2, init_blocks=1, min_blocks=1, max_blocks=1))
        dfk = parsl.DataFlowKernel(executors=[ex], rundir=os.path.join(work, "run"))
        try:
            ex.wait_for_engines(2, timeout=60)
            # the executor's own load-balanced view: same engines, same controller (min_blocks=1
            # keeps the block while raw tasks, which the strategy does not see, are running)
            view = ex.view
            app = parsl.python_app(noop, data_flow_kernel=dfk)
            for _ in range(2):  # warm both paths up
                ex.submit(noop).result(timeout=60)
                view.apply_async(noop).get(timeout=60)
            best = {"raw": 0.0, "executor": 0.0, "apps": 0.0}
            for _ in range(rounds):
                best["raw"] = max(best["raw"], _rate(lambda: view.apply_async(noop), n))
                best["executor"] = max(best["executor"], _rate(lambda: ex.submit(noop), n))
                best["apps"] = max(best["apps"], _rate(app, n))
        finally:
            dfk.cleanup()
    finally:
        os.chdir(cwd)
    return [
        _row(f"ipp x{n}", "executor.submit vs raw apply_async, 2 engines", best["executor"], best["raw"], "tasks/s", True, ">= 0.8x"),
        _row(f"ipp x{n}", "python apps via the kernel vs raw apply_async", best["apps"], best["raw"], "tasks/s", True, ">= 0.8x"),
    ]


def first_result() -> list[dict[str, Any]]:
    import parsl
    from parsl.configs.local import localIPP

    work = tempfile.mkdtemp(prefix="bench-ipp-first-")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        t = time.perf_counter()
        dfk = parsl.DataFlowKernel(config=copy.deepcopy(localIPP))
        try:
            parsl.python_app(noop, data_flow_kernel=dfk)().result(timeout=120)
            ours = time.perf_counter() - t
        finally:
            dfk.cleanup()
        raw = _raw_first_result(work)
    finally:
        os.chdir(cwd)
    return [_row("ipp startup", "DataFlowKernel(localIPP) to first result vs controller+engine by hand", ours, raw, "s", False, "<= 5 s")]


def _raw_first_result(work: str) -> float:
    import ipyparallel as ipp

    prof = os.path.join(work, "raw-profile")
    sec = os.path.join(prof, "security")
    procs: list[subprocess.Popen[bytes]] = []
    t = time.perf_counter()
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "ipyparallel.controller", "--ip=127.0.0.1", f"--profile-dir={prof}", "--log-level=WARN",
                                       "--HeartMonitor.period=1000"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        deadline = time.monotonic() + 60
        while not all(os.path.exists(os.path.join(sec, f"ipcontroller-{k}.json")) for k in ("engine", "client")):
            if time.monotonic() > deadline:
                raise RuntimeError("raw ipcontroller did not start")
            time.sleep(0.05)
        time.sleep(0.05)
        procs.append(subprocess.Popen([sys.executable, "-m", "ipyparallel.engine", f"--file={sec}/ipcontroller-engine.json", "--log-level=WARN",
                                       "--IPEngine.enable_nanny=False"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
        rc = ipp.Client(os.path.join(sec, "ipcontroller-client.json"), timeout=30)
        rc.wait_for_engines(1, timeout=60)
        rc.load_balanced_view().apply_async(noop).get(timeout=60)
        elapsed = time.perf_counter() - t
        rc.close()
        return elapsed
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, 9)
            except ProcessLookupError:
                pass
            p.wait(10)


def run(quick: bool) -> list[dict[str, Any]]:
    rows = throughput(200 if quick else 1000, 1 if quick else 2)
    rows += first_result()
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv[1:]):
        ratio = r["ours"] / r["baseline"] if r["higher_is_better"] else r["baseline"] / r["ours"]
        print(f"{r['metric']}: ours {r['ours']} {r['unit']}, baseline {r['baseline']} {r['unit']} ({ratio:.2f}x)")
