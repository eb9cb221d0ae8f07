"""Monitoring's cost: 100,000 no-op apps on 4 threads with ``Config(monitoring=True)`` against
the same run without it, in the same process (alternating, best of 3), the store flushed and
closed inside the timed span. Also checks that the store holds every task with a final state.

Target: monitored throughput >= 0.9x unmonitored (issue 16). A second row does the same with
10,000 tasks that sleep 1 ms, closer to real work.
"""
from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import parsl
from parsl import python_app

THREADS = 4


def noop(*_: Any) -> None:
    return None


def short_sleep(*_: Any) -> None:
    time.sleep(0.001)


def one_run(n: int, monitoring: bool, func: Any = noop) -> tuple[float, str]:
    app = python_app(func)
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=THREADS)], monitoring=monitoring))
    try:
        t0 = time.perf_counter()
        futs = [app(i) for i in range(n)]
        for f in futs:
            f.result()
    finally:
        dfk.cleanup()  # includes flushing and closing the store
        elapsed = time.perf_counter() - t0
        parsl.clear()
    return n / elapsed, dfk.run_dir


def check_store(run_dir: str, n: int) -> None:
    db = sqlite3.connect(Path(run_dir) / "monitoring.db")
    try:
        tasks = db.execute("SELECT count(*) FROM task").fetchone()[0]
        done = db.execute("SELECT count(*) FROM task_final WHERE state = 'exec_done'").fetchone()[0]
        launched = db.execute("SELECT count(*) FROM transition WHERE state = 'launched'").fetchone()[0]
    finally:
        db.close()
    if not tasks == done == launched == n:
        raise AssertionError(f"store holds {tasks} tasks, {done} done, {launched} launches; expected {n} of each")


def run(quick: bool) -> list[dict[str, Any]]:
    n = 20_000 if quick else 100_000
    best = {False: 0.0, True: 0.0}
    for _ in range(3):
        for monitoring in (False, True):
            rate, run_dir = one_run(n, monitoring)
            best[monitoring] = max(best[monitoring], rate)
            if monitoring:
                check_store(run_dir, n)
    m = 2_000 if quick else 10_000
    best_sleep = {False: 0.0, True: 0.0}
    for _ in range(2):
        for monitoring in (False, True):
            best_sleep[monitoring] = max(best_sleep[monitoring], one_run(m, monitoring, short_sleep)[0])
    return [
        {
            "scenario": f"monitoring x{n}",
            "metric": "no-op throughput, monitoring on vs off (4 threads)",
            "ours": best[True],
            "baseline": best[False],
            "unit": "tasks/s",
            "higher_is_better": True,
            "target": ">= 0.9x",
        },
        {
            "scenario": f"monitoring x{m}",
            "metric": "1 ms tasks, monitoring on vs off (4 threads)",
            "ours": best_sleep[True],
            "baseline": best_sleep[False],
            "unit": "tasks/s",
            "higher_is_better": True,
            "target": ">= 0.9x",
        },
    ]
