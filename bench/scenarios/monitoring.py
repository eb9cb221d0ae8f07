"""Monitoring's cost: 100,000 no-op apps on 4 threads with ``Config(monitoring=True)`` against
the same run without it, in the same process, the store flushed and closed inside the timed
span. Also checks that the store holds every task with a final state.

Runs alternate (off, on, then on, off, ...) and each side reports its median: on a shared
2-core machine one run's throughput moves by up to a tenth from one minute to the next, and
the best of three on each side measured that noise as much as monitoring.

Target: monitored throughput >= 0.9x unmonitored (issue 16). A second row does the same with
10,000 tasks that sleep 1 ms, closer to real work.
"""
from __future__ import annotations

import sqlite3
import statistics
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
    rates: dict[bool, list[float]] = {False: [], True: []}
    for i in range(3 if quick else 5):
        for monitoring in (False, True) if i % 2 == 0 else (True, False):
            rate, run_dir = one_run(n, monitoring)
            rates[monitoring].append(rate)
            if monitoring:
                check_store(run_dir, n)
    median = {k: statistics.median(v) for k, v in rates.items()}
    m = 2_000 if quick else 10_000
    sleep_rates: dict[bool, list[float]] = {False: [], True: []}
    for i in range(3):
        for monitoring in (False, True) if i % 2 == 0 else (True, False):
            sleep_rates[monitoring].append(one_run(m, monitoring, short_sleep)[0])
    median_sleep = {k: statistics.median(v) for k, v in sleep_rates.items()}
    return [
        {
            "scenario": f"monitoring x{n}",
            "metric": "no-op throughput, monitoring on vs off (4 threads, medians of 5)",
            "ours": median[True],
            "baseline": median[False],
            "unit": "tasks/s",
            "higher_is_better": True,
            "target": ">= 0.9x",
        },
        {
            "scenario": f"monitoring x{m}",
            "metric": "1 ms tasks, monitoring on vs off (4 threads, medians of 3)",
            "ours": median_sleep[True],
            "baseline": median_sleep[False],
            "unit": "tasks/s",
            "higher_is_better": True,
            "target": ">= 0.9x",
        },
    ]
