"""Walltime: enforced only where the user gave one (to ``@App``, as the default of the
function's ``walltime`` parameter, or at call time), and then the future fails at the deadline
even while the function sits in a C call; the modern decorators take only upstream's
arguments."""
from __future__ import annotations

import threading
import time

import pytest

import parsl
from parsl import App, DataFlowKernel, ThreadPoolExecutor, bash_app, join_app, python_app
from parsl.app.errors import AppTimeout
from parsl.errors import ConfigurationError


def test_050_app_has_no_walltime_unless_given(dfk):
    @App("python", dfk)
    def plain():
        return 1

    @App("bash", dfk)
    def cmd():
        return "true"

    # nothing is armed per task: the executor runs the function itself
    assert plain.walltime is None and plain.executable is plain.func
    assert cmd.walltime is None and cmd.executable.walltime is None
    assert plain().result(timeout=30) == 1 and cmd().result(timeout=30) == 0


def test_timed_python_app_fails_at_the_deadline_while_blocked_in_c(dfk):
    """The function waits on a lock (a C call the async exception cannot interrupt): its
    future fails with AppTimeout while the function is still blocked."""
    gate = threading.Event()
    left_the_wait = threading.Event()

    @App("python", dfk, walltime=0.3)
    def blocked():
        try:
            gate.wait()
        finally:
            left_the_wait.set()
        return "finished"

    f = blocked()
    with pytest.raises(AppTimeout, match=r"walltime of 0\.3 s"):
        f.result(timeout=30)
    assert not left_the_wait.is_set()  # it failed at the deadline, not when the call returned
    gate.set()
    assert left_the_wait.wait(30)  # once the C call returns, the thread is stopped too
    assert isinstance(f.exception(), AppTimeout)


def test_timed_python_app_fails_at_the_deadline_in_time_sleep(dfk):
    woke = threading.Event()

    @App("python", dfk, walltime=0.3)
    def sleepy():
        time.sleep(3)
        woke.set()

    with pytest.raises(AppTimeout):
        sleepy().result(timeout=30)
    assert not woke.is_set()


def test_a_stuck_worker_is_replaced_so_the_pool_keeps_its_capacity():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=1)])
    gate = threading.Event()
    try:

        @App("python", dfk, walltime=0.2)
        def stuck():
            gate.wait()

        @App("python", dfk)
        def quick(x):
            return x + 1

        s = stuck()
        q = quick(1)  # queued behind the stuck call on the only worker
        with pytest.raises(AppTimeout):
            s.result(timeout=30)
        assert q.result(timeout=30) == 2 and not gate.is_set()
        assert len(dfk.executors["threads"]._threads) == 1
    finally:
        gate.set()
        dfk.cleanup()


def test_walltime_given_at_call_time_python():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)])):
        gate = threading.Event()

        @python_app
        def wait_for(g):
            g.wait()
            return "done"

        @python_app
        def echo(walltime=None):
            return walltime

        with pytest.raises(AppTimeout):
            wait_for(gate, walltime=0.3).result(timeout=30)
        gate.set()
        assert wait_for(gate).result(timeout=30) == "done"
        # a function that takes walltime receives it
        assert echo(walltime=5).result(timeout=30) == 5
        with pytest.raises(ConfigurationError, match="walltime"):
            echo(walltime=-1)


def test_default_of_the_functions_walltime_parameter_is_enforced():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)])):
        gate = threading.Event()

        @python_app
        def limited(g, walltime=0.3):
            g.wait()

        with pytest.raises(AppTimeout):
            limited(gate).result(timeout=30)
        gate.set()


def test_walltime_given_at_call_time_bash(dfk):
    @bash_app(data_flow_kernel=dfk)
    def pause():
        return "sleep 30"

    @App("bash", dfk)
    def pause_050(walltime=None):
        return "sleep 30"

    for f in (pause(walltime=0.5), pause_050(walltime=0.5)):
        with pytest.raises(AppTimeout):
            f.result(timeout=30)


@pytest.mark.parametrize("decorator", [python_app, bash_app, join_app])
def test_a_modern_decorator_given_an_argument_it_does_not_take_raises_typeerror(decorator):
    with pytest.raises(TypeError, match="walltime"):
        decorator(walltime=5)
    with pytest.raises(TypeError, match="sites"):
        decorator(sites=["a"])


def test_app_decorator_rejects_unknown_arguments():
    with pytest.raises(TypeError, match="executors"):
        App("python", None, executors=["a"])  # the 0.5.0 decorator names them sites


ALARM_PROBE = """
import signal, sys, time
from parsl.app.errors import AppTimeout
from parsl.app.walltime import TimedCall

def nap(t):
    time.sleep(t)
    return t

t0 = time.monotonic()
try:
    TimedCall(nap, 0.3, "nap")(30)
except AppTimeout:
    print("timeout after", time.monotonic() - t0)
assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL
assert TimedCall(nap, 0.2, "nap")(0) == 0
time.sleep(0.5)  # a timer left armed would kill the process here ("Alarm clock")
mine = []
signal.signal(signal.SIGALRM, lambda *a: mine.append(1))
try:
    TimedCall(nap, 0.2, "nap")(0.5)  # SIGALRM belongs to the script: the watchdog is used
except AppTimeout:
    print("watchdog timeout")
print("handler kept", signal.getsignal(signal.SIGALRM) is not signal.SIG_DFL and mine == [])
"""


def test_in_a_worker_process_main_thread_a_timer_signal_stops_a_blocked_call(tmp_path):
    """A remote executor's worker runs calls in its main thread: there the deadline interrupts
    ``time.sleep`` itself; the timer never outlives the call, and a script's own SIGALRM
    handler is left alone."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", ALARM_PROBE], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    first, *rest = out.stdout.split("\n")
    assert first.startswith("timeout after ") and float(first.split()[-1]) < 10  # not the 30 s nap
    assert rest[:2] == ["watchdog timeout", "handler kept True"]


def test_which_functions_take_the_walltime_keyword_and_its_default():
    """walltime_parameter(func): (whether a call-time walltime= reaches func, the default of
    its walltime parameter); a positional-only ``walltime`` cannot be given by keyword."""
    import functools

    from parsl.app.walltime import walltime_parameter

    def named(x, walltime=5):
        pass

    def through_kwargs(x, **kw):
        pass

    def none(x):
        pass

    def positional_only(walltime=1, /):
        pass

    def positional_only_and_kwargs(walltime, /, **kw):
        pass

    class Callable:
        def __call__(self, walltime=2):
            pass

    assert walltime_parameter(named) == (True, 5)
    assert walltime_parameter(through_kwargs) == (True, None)
    assert walltime_parameter(none) == (False, None)
    assert walltime_parameter(positional_only) == (False, None)
    assert walltime_parameter(positional_only_and_kwargs) == (True, None)
    assert walltime_parameter(functools.partial(named, 1)) == (True, 5)
    assert walltime_parameter(Callable()) == (True, 2)
    assert walltime_parameter(max) == (True, None)  # no signature to read: pass it on


def test_a_timed_call_that_ends_in_time_returns_its_value(dfk):
    """A call that works in Python for a while, within its walltime, is not cut short."""
    steps = []

    @App("python", dfk, walltime=60)
    def busy(n):
        for i in range(n):
            time.sleep(0.01)
            steps.append(i)
        return len(steps)

    assert busy(30).result(timeout=120) == 30


def test_timed_call_pickles_whole():
    import pickle

    from parsl.app.walltime import TimedCall

    call = pickle.loads(pickle.dumps(TimedCall(divmod, 30.0, "divide")))
    assert (call.func, call.walltime, call.name) == (divmod, 30.0, "divide")
    assert call(7, 2) == (3, 1)
