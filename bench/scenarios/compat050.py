"""The 0.5.0 API against the modern one on the same kernel (4 local threads, same process).

(a) 20,000 no-op calls of a 0.5.0 ``@App('python', dfk)`` app against the same calls of a
    ``@python_app``: end-to-end throughput. 0.5.0 documented ``walltime=60`` but never
    enforced it, so an ``@App`` with no walltime costs the same as ``@python_app``.
(b) the same calls with an explicit walltime (a watchdog entry per call) against (a)'s modern
    figure: what an enforced walltime costs.
(c) a python app with ``walltime=0.5`` blocked in ``time.sleep(5)``: how late after the
    deadline its future fails (baseline: the 0.5 s deadline itself).
"""
from __future__ import annotations

import statistics
import sys
import time
from typing import Any

import parsl
from parsl import App, python_app

THREADS = 4


def noop(*_: Any, **__: Any) -> None:
    return None


def _throughput(make_app: Any, n: int) -> float:
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=THREADS)]))
    try:
        app = make_app(dfk)
        t0 = time.perf_counter()
        futs = [app(i) for i in range(n)]
        for f in futs:
            f.result()
        return n / (time.perf_counter() - t0)
    finally:
        dfk.cleanup()
        parsl.clear()


def app_050(dfk: Any) -> Any:
    return App("python", dfk)(noop)


def app_050_timed(dfk: Any) -> Any:
    return App("python", dfk, walltime=60)(noop)


def app_modern(dfk: Any) -> Any:
    return python_app(noop)


def deadline_lateness() -> float:
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=THREADS)]))
    try:

        @App("python", dfk, walltime=0.5)
        def sleepy() -> None:
            time.sleep(5)

        t0 = time.perf_counter()
        f = sleepy()
        f.exception()
        return time.perf_counter() - t0
    finally:
        dfk.cleanup(wait=False)
        parsl.clear()


def run(quick: bool) -> list[dict[str, Any]]:
    n, rounds = (2_000, 3) if quick else (20_000, 7)
    # interleaved rounds, medians: both APIs see the same machine load
    old, timed, new = [], [], []
    for i in range(rounds):
        order = [(old, app_050), (new, app_modern), (timed, app_050_timed)]
        for figures, make in order[i % 3 :] + order[: i % 3]:  # rotate: no API always runs first
            figures.append(_throughput(make, n))
    o, m, t = statistics.median(old), statistics.median(new), statistics.median(timed)
    late = deadline_lateness()
    return [
        {"scenario": f"0.5.0 @App x{n}", "metric": "throughput vs @python_app", "ours": o, "baseline": m, "unit": "tasks/s", "higher_is_better": True, "target": ">= 0.9x"},
        {"scenario": f"@App(walltime=60) x{n}", "metric": "throughput vs @python_app", "ours": t, "baseline": m, "unit": "tasks/s", "higher_is_better": True, "target": ""},
        {"scenario": "walltime=0.5 in time.sleep", "metric": "future fails after", "ours": late, "baseline": 0.5, "unit": "s", "higher_is_better": False, "target": "<= 1.0"},
    ]


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(r)
