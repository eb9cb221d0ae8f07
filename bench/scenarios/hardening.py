"""Figures for the hardening bars (issue 8): each row's baseline is the bar it must meet.

engine loss detection, SIGINT to exit, walltime to AppTimeout for a SIGTERM-trapping command,
checkpoint load memory for a large file, records lost to one flipped byte, controller log
growth for junk messages.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from typing import Any


def _row(metric: str, ours: float, bar: float, unit: str, target: str) -> dict[str, Any]:
    return {"scenario": "hardening", "metric": metric, "ours": ours, "baseline": bar, "unit": unit, "higher_is_better": False, "target": target}


def engine_loss(work: str) -> float:
    from libsubmit.providers.local.local import Local
    from parsl.interfaces import BlockShape, ExecutorContext
    from parsl_executors.errors import EngineLost
    from parsl_executors.ipp import IPyParallelExecutor

    prov = Local(channel=None, tasks_per_node=1, init_blocks=1, max_blocks=1, cancel_grace=1.0)
    ex = IPyParallelExecutor(prov, shape=BlockShape(tasks_per_node=1, init_blocks=1, max_blocks=1), flow_control=False)
    ex.start(ExecutorContext("bench", work))
    try:
        ex.wait_for_engines(1, timeout=60)
        (pid,) = ex.engine_pids().values()
        fut = ex.submit(time.sleep, 60)
        time.sleep(1.0)
        t0 = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        exc = fut.exception(timeout=60)
        assert isinstance(exc, EngineLost), exc
        return time.monotonic() - t0
    finally:
        ex.shutdown()
        prov.shutdown()


SIGINT_SCRIPT = textwrap.dedent(
    """
    import os, time
    from parsl import App, Config, DataFlowKernel, ThreadPoolExecutor
    dfk = DataFlowKernel(config=Config(executors=[ThreadPoolExecutor(3)]))
    @App('python', dfk)
    def slow():
        time.sleep(60)
    futs = [slow() for _ in range(6)]
    time.sleep(0.5)
    print('ready', flush=True)
    [f.result() for f in futs]
    """
)


def sigint_to_exit(work: str) -> float:
    proc = subprocess.Popen(
        [sys.executable, "-c", SIGINT_SCRIPT], cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(120)
    return time.monotonic() - t0


def walltime_trap(work: str) -> float:
    import parsl
    from parsl.app.errors import AppTimeout

    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(1)], run_dir=os.path.join(work, "runinfo")))

    @parsl.bash_app
    def stubborn(walltime=1):  # upstream's form: the app's own walltime default
        return "trap '' TERM; setsid sleep 30 & sleep 30"

    t0 = time.monotonic()
    assert isinstance(stubborn().exception(timeout=60), AppTimeout)
    took = time.monotonic() - t0
    dfk.cleanup()
    parsl.clear()
    return took


LOAD_SCRIPT = textwrap.dedent(
    """
    import sys
    from parsl.dataflow import checkpoint_store
    def hwm():  # peak RSS of this program (ru_maxrss would include the parent's, across exec)
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    before = hwm()
    table = checkpoint_store.load([sys.argv[1]])
    print(len(table), hwm() - before)
    """
)


def checkpoint_rss(work: str, size_mb: int) -> tuple[float, int]:
    from parsl.dataflow import checkpoint_store

    w = checkpoint_store.CheckpointWriter(os.path.join(work, "checkpoint"))
    blob = os.urandom(1 << 20)
    for i in range(size_mb):
        w.append(checkpoint_store.encode(f"k{i}", i, blob))
    w.close()
    assert w.path is not None
    size = os.path.getsize(w.path)
    out = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, w.path], capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) == size_mb
    return int(out[1]) / size, size


def flipped_byte_loss() -> int:
    from parsl.dataflow import checkpoint_store

    records = [checkpoint_store.encode(f"k{i}", i, {"i": i, "pad": "x" * 100}) for i in range(20)]
    data = bytearray(checkpoint_store.MAGIC + b"".join(records))
    fifth = len(checkpoint_store.MAGIC) + sum(len(r) for r in records[:4])
    data[fifth + 30] ^= 0x10
    kept, _ = checkpoint_store.decode_file("bench", bytes(data))
    return 20 - len(kept)


def log_growth(work: str, n: int) -> int:
    import zmq

    from libsubmit.providers.local.local import Local
    from parsl.interfaces import ExecutorContext
    from parsl_executors.ipp import IPyParallelExecutor

    # a controller of its own and no engines (with no provider at all it would attach to ipcluster)
    ex = IPyParallelExecutor(Local(init_blocks=0, min_blocks=0, max_blocks=0), label="ipp")
    ex.start(ExecutorContext("bench", work))
    assert ex.controller is not None and ex.work_dir is not None
    log = os.path.join(ex.work_dir, "controller.log")
    ports = set()
    for name in (ex.controller.engine_file, ex.controller.client_file):
        with open(name) as f:
            for v in json.load(f).values():
                ports.update(p for p in (v if isinstance(v, list) else [v]) if isinstance(p, int) and not isinstance(p, bool) and p > 1024)
    ctx = zmq.Context()
    socks = []
    for p in sorted(ports):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.connect(f"tcp://127.0.0.1:{p}")
        socks.append(s)
    before = os.path.getsize(log)
    frames = [lambda i: [os.urandom(i % 4096)], lambda i: [b""], lambda i: [b"{}"], lambda i: [b"<IDS|MSG>", b"sig", b"{}", b"{}", b"{}", b"{}"]]
    for i in range(n):
        try:
            socks[i % len(socks)].send_multipart(frames[i % len(frames)](i), flags=zmq.NOBLOCK)
        except zmq.Again:
            pass
    time.sleep(3.0)
    grown = os.path.getsize(log) - before
    for s in socks:
        s.close()
    ctx.term()
    ex.shutdown()
    return grown


def run(quick: bool) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as work:
        rows.append(_row("ipp engine loss detected (heartbeat 1 s, threshold 2 s)", engine_loss(work), 3.0, "s", "<= 2 periods + 1 s"))
    with tempfile.TemporaryDirectory() as work:
        rows.append(_row("SIGINT to exit, 6 x 60 s tasks on threads", sigint_to_exit(work), 10.0, "s", "<= 10 s"))
    with tempfile.TemporaryDirectory() as work:
        rows.append(_row("walltime=1 to AppTimeout, command traps SIGTERM", walltime_trap(work), 1.5, "s", "<= 1.5 s"))
    with tempfile.TemporaryDirectory() as work:
        ratio, size = checkpoint_rss(work, 32 if quick else 256)
        rows.append(_row(f"checkpoint load peak RSS growth / file size ({size >> 20} MiB file)", ratio, 3.0, "x", "~1x: the records kept (main: 3.0x)"))
    rows.append(_row("records lost to one flipped byte in record 5 of 20", flipped_byte_loss(), 1, "records", "1 (was 16)"))
    with tempfile.TemporaryDirectory() as work:
        n = 2000 if quick else 20000
        rows.append(_row(f"controller.log growth for {n} junk messages", log_growth(work, n) / 1024, 13.8 * 1024 * n / 20000, "KiB", "rate-limited (was 13.8 MB)"))
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(r)
