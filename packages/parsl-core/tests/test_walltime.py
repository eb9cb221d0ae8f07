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
    with pytest.raises(AppTimeout, match=r"walltime of 0\.3 s") as ei:
        f.result(timeout=30)
    assert ei.value.exitcode == -1  # as for a bash app's timeout
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
time.sleep(1.5)  # a timer left armed (even re-armed for a second) would kill the process here ("Alarm clock")
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

    def keyword_only(x, *, walltime=3):
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
    assert walltime_parameter(keyword_only) == (True, 3)
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

    @App("python", dfk, walltime=1.0)
    def brief():
        for _ in range(10):
            time.sleep(0.01)
        return "in time"

    assert brief().result(timeout=60) == "in time"  # a walltime under a second is waited out too


def test_timed_call_pickles_whole():
    import pickle

    from parsl.app.walltime import TimedCall

    call = pickle.loads(pickle.dumps(TimedCall(divmod, 30.0, "divide")))
    assert (call.func, call.walltime, call.name) == (divmod, 30.0, "divide")
    assert call(7, 2) == (3, 1)


def test_deadlines_fire_in_order_after_the_watchdog_drops_cancelled_entries():
    """Once most of the watchdog's entries belong to calls that already ended, it drops them;
    the live ones must still fire earliest first. Here a call due in 3.0 s sits above one due
    in 2.5 s when the ended entries go, and the firing order is read from the abandon hooks,
    which the watchdog calls as it fires each call."""
    from parsl.app.walltime import Watchdog, set_abandon_hook

    wd = Watchdog()
    fired: list[str] = []
    armed = {name: threading.Event() for name in ("late", "early")}
    stop = threading.Event()

    def timed(name: str, seconds: float) -> None:
        set_abandon_hook(lambda: fired.append(name))
        token = None
        try:
            token = wd.arm(seconds, name)
            armed[name].set()
            while not stop.is_set():
                time.sleep(0.01)
        except BaseException:  # the watchdog's exception, raised in this thread
            pass
        finally:
            if token is not None:
                wd.disarm(token)

    def ended_calls() -> None:
        first = wd.arm(2.0, "ended")  # the earliest deadline, on top until the watchdog pops it
        time.sleep(0.5)  # the watchdog wakes for it, and goes back to sleep until 2.0 s
        wd.disarm(first)
        threading.Thread(target=timed, args=("early", 2.0), daemon=True).start()  # due 2.5 s
        armed["early"].wait(10)
        for _ in range(1100):  # enough ended entries for the watchdog to drop them
            wd.disarm(wd.arm(1000.0, "ended"))

    late = threading.Thread(target=timed, args=("late", 3.0), daemon=True)
    late.start()
    assert armed["late"].wait(10)
    helper = threading.Thread(target=ended_calls, daemon=True)
    helper.start()
    helper.join(30)
    try:
        for _ in range(600):
            if len(fired) == 2:
                break
            time.sleep(0.05)
        assert fired == ["early", "late"]
    finally:
        stop.set()


def test_calls_ending_right_at_their_deadline_never_wedge_the_watchdog():
    """Many threads make calls that end around their deadline, so the timeout often reaches a
    thread while it is disarming: whichever way each race goes (a result, or AppTimeout), no
    other exception escapes, every thread finishes, and timed calls still work afterwards.
    (The timeout once arrived inside a Condition's Python __exit__, which left the watchdog's
    lock held and hung every timed call in the process.)"""
    import random

    from parsl.app.walltime import call_with_walltime

    outcomes: dict[str, int] = {"ok": 0, "timeout": 0}
    escaped: list[BaseException] = []
    lock = threading.Lock()

    def worker(seed: int) -> None:
        rnd = random.Random(seed)
        for _ in range(1000):
            try:
                call_with_walltime(sum, rnd.uniform(0.0002, 0.004), "racer", range(rnd.randint(1000, 40000)))
                kind = "ok"
            except AppTimeout:
                kind = "timeout"
            except BaseException as e:  # anything else is the failure
                escaped.append(e)
                return
            with lock:
                outcomes[kind] += 1

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120  # a hang detector: the whole test takes a few seconds
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    assert [t.name for t in threads if t.is_alive()] == [] and escaped == []
    assert outcomes["ok"] > 0 and outcomes["timeout"] > 0 and sum(outcomes.values()) == 8 * 1000
    with pytest.raises(AppTimeout):  # (a Python loop: the timeout reaches it between naps)
        call_with_walltime(lambda: [time.sleep(0.01) for _ in range(3000)], 0.2, "after")


def test_the_watchdog_forgets_calls_that_ended():
    """Ended calls with far deadlines are not kept until those deadlines: once they are most of
    the watchdog's entries (past 1,024) they are dropped, so memory stays bounded however
    many timed calls a long run makes. (White-box: the entries are the watchdog's heap.)"""
    from parsl.app.walltime import Watchdog

    wd = Watchdog()
    done = threading.Event()

    def calls() -> None:
        for _ in range(5000):
            wd.disarm(wd.arm(3600.0, "ended"))
        done.set()

    watchdogs = {t for t in threading.enumerate() if t.name == "parsl-walltime"}
    threading.Thread(target=calls, daemon=True).start()  # (a thread the watchdog may signal)
    assert done.wait(60)
    assert len(wd._heap) <= 1025
    assert len({t for t in threading.enumerate() if t.name == "parsl-walltime"} - watchdogs) == 1  # one thread for them all
    kept = []
    for _ in range(10):  # calls still running are never dropped
        kept.append(wd.arm(3600.0, "running"))
    for _ in range(2000):
        wd.disarm(wd.arm(3600.0, "ended"))
    assert sum(e[2].active for e in wd._heap) == 10 and len(wd._heap) <= 1025
    for token in kept:
        wd.disarm(token)
    # a burst of more than 1,024 calls at once: all kept while they run, and once they have
    # ended, the next calls drop them (the heap does not stay at the burst's size and grow)
    burst = [wd.arm(3600.0, "burst") for _ in range(1500)]
    assert sum(e[2].active for e in wd._heap) == 1500
    for token in burst:
        wd.disarm(token)
    for _ in range(2000):
        wd.disarm(wd.arm(3600.0, "ended"))
    assert len(wd._heap) <= 1025


def test_a_timeout_that_fires_before_arm_returns_is_still_an_app_timeout(monkeypatch):
    """With a deadline of a few hundred µs the watchdog can fire while ``arm()`` is still
    returning: the asynchronous exception then lands before the call is under way. It must
    still reach the caller as AppTimeout, never as the internal exception (seen once in CI)."""
    from parsl.app import walltime as wt

    real_arm = wt.Watchdog.arm

    def slow_arm(self, seconds, name="app"):  # type: ignore[no-untyped-def]
        token = real_arm(self, seconds, name)
        time.sleep(0.05)  # the deadline passes here; the exception lands on the next bytecode
        return token

    monkeypatch.setattr(wt.Watchdog, "arm", slow_arm)
    got: list[BaseException | str] = []

    def in_a_thread() -> None:  # not the main thread: the watchdog, not SIGALRM, times it
        try:
            got.append(str(wt.call_with_walltime(sum, 0.001, "early", [1, 2])))
        except BaseException as e:
            got.append(e)

    t = threading.Thread(target=in_a_thread)
    t.start()
    t.join(10)
    assert len(got) == 1 and isinstance(got[0], AppTimeout), got


EARLY_ALARM_PROBE = """
import signal, time
from parsl.app import walltime as wt
from parsl.app.errors import AppTimeout

real_setitimer = signal.setitimer

def slow_setitimer(which, seconds, interval=0.0):
    old = real_setitimer(which, seconds, interval)
    if seconds:
        time.sleep(0.05)  # the alarm rings here, before the call is under way
    return old

wt.signal.setitimer = slow_setitimer
assert wt._alarm_free()
try:
    wt.call_with_walltime(sum, 0.001, "early", [1, 2])
    print("no timeout")
except AppTimeout:
    print("AppTimeout")
"""


def test_an_alarm_that_fires_while_it_is_being_set_is_still_an_app_timeout(tmp_path):
    """The same race on the SIGALRM path, in the main thread of a fresh process (as in a
    worker process, where SIGALRM is free)."""
    import subprocess
    import sys

    probe = tmp_path / "probe.py"
    probe.write_text(EARLY_ALARM_PROBE)
    p = subprocess.run([sys.executable, str(probe)], capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "AppTimeout", (p.returncode, p.stdout, p.stderr[-2000:])
