"""LeanFuture behaves as a concurrent.futures.Future, including with wait / as_completed."""
from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import pytest

from parsl.dataflow.lean_future import LeanFuture


def test_result_and_callbacks():
    f = LeanFuture()
    seen = []
    f.add_done_callback(lambda x: seen.append(x.result()))
    assert not f.done()
    f.set_result(3)
    assert f.done() and f.result() == 3 and seen == [3]
    f.add_done_callback(lambda x: seen.append("late"))
    assert seen == [3, "late"]


def test_exception():
    f = LeanFuture()
    f.set_exception(KeyError("k"))
    assert isinstance(f.exception(), KeyError)
    with pytest.raises(KeyError):
        f.result()


def test_double_completion_is_refused():
    f = LeanFuture()
    f.set_result(1)
    with pytest.raises(cf.InvalidStateError):
        f.set_result(2)
    with pytest.raises(cf.InvalidStateError):
        f.set_exception(ValueError())


def test_timeout():
    f = LeanFuture()
    t0 = time.monotonic()
    with pytest.raises(cf.TimeoutError):
        f.result(timeout=0.05)
    assert time.monotonic() - t0 >= 0.04


def test_cancel_semantics():
    f = LeanFuture()
    assert f.cancel() and f.cancelled()
    assert not f.set_running_or_notify_cancel()
    with pytest.raises(cf.CancelledError):
        f.result()
    g = LeanFuture()
    assert g.set_running_or_notify_cancel() and g.running()
    assert not g.cancel()


def test_waiter_blocked_before_completion_wakes():
    f = LeanFuture()
    threading.Timer(0.05, f.set_result, args=("ok",)).start()
    assert f.result(timeout=5) == "ok"


def test_cf_wait_and_as_completed_work():
    fs = [LeanFuture() for _ in range(5)]
    for i, f in enumerate(fs[:2]):
        f.set_result(i)

    def finish_rest():
        time.sleep(0.05)
        for i, f in enumerate(fs[2:], 2):
            f.set_result(i)

    threading.Thread(target=finish_rest).start()
    done, not_done = cf.wait(fs, timeout=5)
    assert len(done) == 5 and not not_done
    more = [LeanFuture() for _ in range(3)]
    threading.Timer(0.02, lambda: [m.set_result(1) for m in more]).start()
    assert sum(f.result() for f in cf.as_completed(more, timeout=5)) == 3
    first = [LeanFuture(), LeanFuture()]
    threading.Timer(0.02, first[1].set_exception, args=(ValueError(),)).start()
    done, _ = cf.wait(first, timeout=5, return_when=cf.FIRST_EXCEPTION)
    assert done == {first[1]}


def test_concurrent_completion_and_waiting_never_loses_a_wakeup():
    for _ in range(300):
        f = LeanFuture()
        t = threading.Thread(target=f.set_result, args=(1,))
        t.start()
        assert f.result(timeout=5) == 1
        t.join()


def test_callback_errors_are_logged_not_raised(caplog):
    f = LeanFuture()
    f.add_done_callback(lambda _: 1 / 0)
    f.set_result(1)
    assert "exception calling callback" in caplog.text
