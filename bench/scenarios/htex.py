"""High-throughput executor benchmarks (real interchange, pool and workers on loopback).

1. No-op throughput, 2 workers, one block: ``HighThroughputExecutor.submit`` against
   ``concurrent.futures.ProcessPoolExecutor(2)`` and against upstream Parsl's HTEX (``pip
   install parsl`` into a throw-away venv cached under /var/tmp, run in the same bench run).
   Target: >= 10,000 tasks/s.
2. Load to first result with libsubmit's Local provider (target <= 1 s), against upstream's.
3. Latency per task along a chain of 1,000 dependent tasks, encryption on vs off.
4. Opt-in (``--million`` or ``PARSL_BENCH_HTEX_MILLION=1``): 1,000,000 no-op tasks submitted at once in one
   run; peak memory of the driver and of the interchange (target: each under 1 GiB).

Run alone: ``python bench/scenarios/htex.py [--quick] [--million]``.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

# sent by value: the workers cannot import this module
_ns: dict[str, Any] = {"__name__": "__main__"}
exec("def noop(*a):\n    return None\n", _ns)
noop = _ns["noop"]

UPSTREAM_VENV = "/var/tmp/parsl-upstream-htex"

UPSTREAM_SCRIPT = r"""
import json, os, sys, time, tempfile
os.chdir(tempfile.mkdtemp(prefix="bench-upstream-htex-"))
t0 = time.perf_counter()
import parsl
from parsl.config import Config
from parsl.executors import HighThroughputExecutor
from parsl.providers import LocalProvider
ex = HighThroughputExecutor(label="htex", max_workers_per_node=2, provider=LocalProvider(init_blocks=1, min_blocks=1, max_blocks=1))
dfk = parsl.load(Config(executors=[ex], initialize_logging=False, strategy=None))
def noop(*a):
    return None
parsl.python_app(noop)().result(timeout=120)
first = time.perf_counter() - t0
n, rounds = int(sys.argv[1]), int(sys.argv[2])
best = 0.0
for _ in range(rounds):
    t = time.perf_counter()
    futs = [ex.submit(noop, {}) for _ in range(n)]
    for f in futs:
        f.result(timeout=600)
    best = max(best, n / (time.perf_counter() - t))
print(json.dumps({"first": first, "rate": best}), flush=True)
dfk.cleanup()
os._exit(0)
"""


def _row(scenario: str, metric: str, ours: float, baseline: float | None, unit: str, higher: bool, target: str = "") -> dict[str, Any]:
    return {"scenario": scenario, "metric": metric, "ours": round(ours, 4), "baseline": round(baseline, 4) if baseline else None,
            "unit": unit, "higher_is_better": higher, "target": target}


def _rate(submit: Any, n: int) -> float:
    t = time.perf_counter()
    futs = [submit() for _ in range(n)]
    for f in futs:
        f.result(timeout=600)
    return n / (time.perf_counter() - t)


def _executor(work: str, **kw: Any) -> Any:
    from libsubmit.channels.local.local import LocalChannel
    from libsubmit.providers.local.local import Local
    from parsl_executors.htex import HighThroughputExecutor

    provider = Local(channel=LocalChannel(scriptDir=os.path.join(work, "scripts")), init_blocks=1, min_blocks=1, max_blocks=1)
    return HighThroughputExecutor(label="bench_htex", max_workers_per_node=2, provider=provider, **kw)


def _upstream(n: int, rounds: int) -> dict[str, float] | None:
    """Upstream Parsl's figures from its own venv (made once, cached); None if it cannot be made."""
    py = os.path.join(UPSTREAM_VENV, "bin", "python")
    if not os.path.exists(os.path.join(UPSTREAM_VENV, ".ready")):
        try:
            subprocess.run([sys.executable, "-m", "venv", UPSTREAM_VENV], check=True, timeout=300)
            subprocess.run([py, "-m", "pip", "-q", "--disable-pip-version-check", "install", "parsl"], check=True, timeout=900)
            open(os.path.join(UPSTREAM_VENV, ".ready"), "w").close()
        except Exception as e:
            print(f"upstream parsl could not be installed: {e}", file=sys.stderr)
            return None
    env = {**os.environ, "PATH": os.path.join(UPSTREAM_VENV, "bin") + os.pathsep + os.environ.get("PATH", "")}  # its console scripts
    r = subprocess.run([py, "-c", UPSTREAM_SCRIPT, str(n), str(rounds)], capture_output=True, text=True, timeout=900, env=env)
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("{")]
    if r.returncode != 0 or not lines:
        print(f"upstream parsl run failed (exit {r.returncode}): {r.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(lines[-1])  # type: ignore[no-any-return]


def throughput_and_first(n: int, rounds: int) -> list[dict[str, Any]]:
    from parsl.interfaces import ExecutorContext

    work = tempfile.mkdtemp(prefix="bench-htex-")
    t = time.perf_counter()
    ex = _executor(work)
    ex.start(ExecutorContext("bench", work))
    try:
        ex.submit(noop).result(timeout=60)
        first = time.perf_counter() - t
        ex.wait_for_workers(2, timeout=60)
        ours = max(_rate(lambda: ex.submit(noop), n) for _ in range(rounds))
    finally:
        ex.shutdown()
    apps = _apps_rate(n, rounds)
    # the pool pickles by reference and cannot import this module: its no-op is the builtin bool()
    with ProcessPoolExecutor(2) as pool:
        pool.submit(bool).result()
        ppe = max(_rate(lambda: pool.submit(bool), n) for _ in range(rounds))
    up = _upstream(n, rounds)
    rows = [_row(f"htex x{n}", "no-op tasks/s, 2 workers, vs ProcessPoolExecutor(2)", ours, ppe, "tasks/s", True, ">= 10,000 tasks/s")]
    rows.append(_row(f"htex x{n}", "no-op python apps/s through the kernel, 2 workers, vs ProcessPoolExecutor(2)", apps, ppe, "tasks/s", True))
    rows.append(_row(f"htex x{n}", "no-op tasks/s, 2 workers, vs upstream Parsl HTEX", ours, up["rate"] if up else None, "tasks/s", True, ">= 10x upstream"))
    rows.append(_row("htex startup", "start to first result (Local provider) vs upstream Parsl HTEX", first, up["first"] if up else None, "s", False, "<= 1 s"))
    return rows


def _apps_rate(n: int, rounds: int) -> float:
    import parsl

    work = tempfile.mkdtemp(prefix="bench-htex-apps-")
    ex = _executor(work)
    dfk = parsl.DataFlowKernel(executors=[ex], rundir=os.path.join(work, "run"))
    try:
        app = parsl.python_app(noop, data_flow_kernel=dfk)
        app().result(timeout=60)
        return max(_rate(app, n) for _ in range(rounds))
    finally:
        dfk.cleanup()


def chain_latency(n: int) -> list[dict[str, Any]]:
    from parsl.interfaces import ExecutorContext

    per_task = {}
    for encrypted in (True, False):
        work = tempfile.mkdtemp(prefix="bench-htex-chain-")
        ex = _executor(work, encrypted=encrypted)
        ex.start(ExecutorContext("bench", work))
        try:
            ex.submit(noop).result(timeout=60)
            t = time.perf_counter()
            value = None
            for _ in range(n):
                value = ex.submit(noop, value).result(timeout=60)
            per_task[encrypted] = (time.perf_counter() - t) / n * 1000
        finally:
            ex.shutdown()
    return [_row(f"htex chain x{n}", "latency per dependent task, encrypted (CurveZMQ) vs not", per_task[True], per_task[False], "ms", False)]


def _vm_hwm_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def million(n: int = 1_000_000) -> list[dict[str, Any]]:
    """``n`` no-op tasks submitted at once; peak RSS of the driver and of the interchange."""
    from parsl.interfaces import ExecutorContext

    work = tempfile.mkdtemp(prefix="bench-htex-million-")
    ex = _executor(work)
    ex.start(ExecutorContext("bench", work))
    try:
        ex.wait_for_workers(2, timeout=60)
        t = time.perf_counter()
        futs = [ex.submit(noop) for _ in range(n)]
        for f in futs:
            f.result(timeout=600)
        rate = n / (time.perf_counter() - t)
        ichg = _vm_hwm_mb(ex.interchange_pid)
    finally:
        ex.shutdown()
    driver = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        _row(f"htex x{n:,}", "driver peak RSS, all tasks submitted at once", driver, None, "MB", False, "<= 1024 MB"),
        _row(f"htex x{n:,}", "interchange peak RSS", ichg, None, "MB", False, "<= 1024 MB"),
        _row(f"htex x{n:,}", "no-op tasks/s over the whole run", rate, None, "tasks/s", True),
    ]


def run(quick: bool) -> list[dict[str, Any]]:
    rows = throughput_and_first(2000 if quick else 20000, 1 if quick else 3)
    rows += chain_latency(100 if quick else 1000)
    if os.environ.get("PARSL_BENCH_HTEX_MILLION") == "1":
        rows += million()
    return rows


if __name__ == "__main__":
    if "--million" in sys.argv[1:]:
        os.environ["PARSL_BENCH_HTEX_MILLION"] = "1"
    for r in run("--quick" in sys.argv[1:]):
        base = r["baseline"]
        ratio = "" if not base else f" ({(r['ours'] / base if r['higher_is_better'] else base / r['ours']):.2f}x)"
        print(f"{r['scenario']}: {r['metric']}: ours {r['ours']} {r['unit']}, baseline {base} {r['unit']}{ratio}")
