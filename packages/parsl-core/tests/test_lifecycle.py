"""Reliability bar items for the core: precise dependency failures, leak-free load/cleanup
cycles, and safe exit without cleanup (also under SIGTERM)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import parsl
from parsl import App, DataFlowKernel, ThreadPoolExecutor, python_app
from parsl.app.errors import DependencyError


def test_dependency_chain_names_the_root_and_spends_no_retries():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], retries=2)
    runs = []

    @App("python", dfk)
    def root():
        runs.append("root")
        raise ArithmeticError("root cause")

    @App("python", dfk)
    def child(x):
        runs.append("child")
        return x

    r = root()
    chain = [child(r)]
    for _ in range(2):
        chain.append(child(chain[-1]))
    for f in chain:
        with pytest.raises(DependencyError) as ei:
            f.result(timeout=10)
        err = ei.value
        assert err.root_tasks == [r.tid]
        assert isinstance(err.__cause__, ArithmeticError) and "root cause" in str(err)
        assert f"task {r.tid}" in str(err)
    assert runs == ["root"] * 3  # the root tried 1 + 2 retries; dependants never ran or retried
    dfk.cleanup()


def test_independent_failures_resolve_lazily():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])

    @App("python", dfk)
    def bad(i):
        return 1 / 0

    @App("python", dfk)
    def good(i):
        return i

    bads = [bad(i) for i in range(10)]
    goods = [good(i) for i in range(10)]
    assert all(isinstance(b.exception(timeout=10), ZeroDivisionError) for b in bads)
    assert [g.result() for g in goods] == list(range(10))
    dfk.cleanup()


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_load_cleanup_cycles_leak_no_threads_or_fds():
    @python_app
    def inc(x):
        return x + 1

    def cycle():
        with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(4)])):
            assert sum(f.result() for f in [inc(i) for i in range(10)]) == 55
        parsl.clear()

    cycle()  # warm-up: process-wide helpers start once
    threads, fds = threading.active_count(), _fds()
    for _ in range(100):
        cycle()
    deadline = time.monotonic() + 5
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.05)
    assert threading.active_count() <= threads
    assert _fds() <= fds + 5


NO_CLEANUP = textwrap.dedent(
    """
    import time
    from parsl import App, DataFlowKernel, ThreadPoolExecutor
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])
    @App('python', dfk)
    def f():
        time.sleep(0.2)
        return 1
    futs = [f() for _ in range(3)]
    """
)

SIGTERMED = textwrap.dedent(
    """
    import os, sys, time
    from parsl import App, DataFlowKernel, ThreadPoolExecutor
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])
    @App('bash', dfk)
    def long():
        return 'sleep 300 & echo $! > child.pid; sleep 300'
    @App('python', dfk)
    def later(x):
        return x
    f = long()
    g = later(f)
    while not os.path.exists('child.pid'):
        time.sleep(0.05)
    print('ready', flush=True)
    f.result()
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_exit_without_cleanup_warns_and_finishes_tasks(tmp_path):
    subprocess.run([sys.executable, "-c", NO_CLEANUP], cwd=tmp_path, check=True, timeout=60)
    log = (tmp_path / "runinfo" / "000" / "parsl.log").read_text()
    assert "cleanup() was not called" in log and "3 tasks submitted, 0 failed" in log


def test_sigterm_kills_running_commands_and_exits_quickly(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SIGTERMED], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    child = int((tmp_path / "child.pid").read_text())
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM
    assert time.monotonic() - t0 < 10
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the bash app's background child survived the driver"
    log = (tmp_path / "runinfo" / "000" / "parsl.log").read_text()
    assert "stopped by a signal" in log and "killed 1 running bash app command" in log


INTERRUPTED = textwrap.dedent(
    """
    import os, sys, time
    from parsl import App, DataFlowKernel, ThreadPoolExecutor, Config
    dfk = DataFlowKernel(config=Config(executors=[ThreadPoolExecutor(3)], exit_wait=float(sys.argv[1])))
    @App('python', dfk)
    def slow():
        time.sleep(120)
    @App('bash', dfk)
    def long():
        return 'sleep 300 & echo $! > child.pid; sleep 300'
    futs = [long()] + [slow() for _ in range(4)]
    while not (os.path.exists('child.pid') and open('child.pid').read().strip()):
        time.sleep(0.05)
    print('ready', flush=True)
    if sys.argv[2] == 'wait':
        [f.result() for f in futs]
    """
)


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a background job may have it ignored


@pytest.mark.parametrize("how", ["sigint", "no-cleanup"])
def test_interrupt_or_forgotten_cleanup_exits_promptly_and_says_so(tmp_path, how):
    """Two 120 s python tasks run on the thread pool, two wait, and a bash command runs.
    One SIGINT (or leaving the script without cleanup(), with exit_wait=1) ends the script
    promptly with a note on stderr, and the bash command's child does not survive. Before:
    Ctrl-C waited for every task (> 120 s here)."""
    args = ["60", "wait"] if how == "sigint" else ["1", "exit"]
    proc = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, *args], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    child = int((tmp_path / "child.pid").read_text())
    if how == "sigint":
        proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if how == "sigint":
        assert proc.returncode in (-signal.SIGINT, 128 + signal.SIGINT), err
        assert "interrupted (Ctrl-C): cancelling waiting tasks" in err
    else:
        assert proc.returncode == 0
        assert "cleanup() was not called and 5 task(s) were still unfinished after 1 s (Config.exit_wait)" in err
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)
