"""cleanup() and interpreter exit return promptly when a task can never finish (it waits for
a future nothing will ever set): after ``straggler_grace`` seconds without progress such tasks
fail with UnfinishableTask and their dependants with DependencyError. Running tasks are always
waited for, and tasks whose futures were dropped by the script still run."""
from __future__ import annotations

import concurrent.futures
import gc
import subprocess
import sys
import textwrap
import threading

import pytest

import parsl
from parsl import join_app, python_app
from parsl.dataflow.error import UnfinishableTask
from parsl.dataflow.errors import DependencyError


@python_app
def add(a, b):
    return a + b


def test_a_task_waiting_for_a_never_set_future_fails_at_cleanup() -> None:
    dfk = parsl.load()
    dfk.straggler_grace = 0.3
    never: concurrent.futures.Future[int] = concurrent.futures.Future()
    stuck = add(never, 1)
    dependant = add(stuck, 1)
    fine = add(1, 1)
    dfk.cleanup()  # returns (the test's timeout would catch a hang)
    assert fine.result() == 2
    with pytest.raises(UnfinishableTask) as ei:
        stuck.result(timeout=0)
    assert repr(never) in str(ei.value) and ei.value.task_id == stuck.tid
    with pytest.raises(DependencyError):
        dependant.result(timeout=0)


def test_a_join_app_returning_a_never_set_future_fails_at_cleanup() -> None:
    never: concurrent.futures.Future[int] = concurrent.futures.Future()

    @join_app
    def waits():
        return never

    dfk = parsl.load()
    dfk.straggler_grace = 0.3
    f = waits()
    dfk.cleanup()
    with pytest.raises(UnfinishableTask):
        f.result(timeout=0)


def test_running_tasks_and_late_futures_are_waited_for() -> None:
    """The grace counts only while nothing runs: a slow task, and a plain future set after
    a while by another thread, both complete normally."""
    release = threading.Event()
    later: concurrent.futures.Future[int] = concurrent.futures.Future()

    @python_app
    def slow():
        release.wait(10)
        return 5

    dfk = parsl.load()
    dfk.straggler_grace = 0.3
    s = slow()
    waiting = add(later, 1)
    threading.Timer(1.0, release.set).start()  # runs longer than the grace
    threading.Timer(1.1, later.set_result, (1,)).start()  # set just after: within the grace again
    dfk.cleanup()
    assert s.result(timeout=0) == 5
    assert waiting.result(timeout=0) == 2


def test_tasks_whose_app_and_futures_were_dropped_still_run(tmp_path) -> None:
    out = tmp_path / "ran"

    def make():
        @python_app
        def touch(i, path):
            with open(path, "a") as f:
                f.write(f"{i}\n")

        for i in range(20):
            touch(i, str(out))

    dfk = parsl.load()
    make()
    gc.collect()
    dfk.cleanup()
    assert sorted(int(x) for x in out.read_text().split()) == list(range(20))


def test_the_interpreter_exits_when_a_task_can_never_finish(tmp_path) -> None:
    script = textwrap.dedent(
        """
        import concurrent.futures, parsl
        from parsl import python_app

        @python_app
        def add(a, b):
            return a + b

        dfk = parsl.load()
        dfk.straggler_grace = 0.5
        never = concurrent.futures.Future()
        f = add(never, 1)
        g = add(2, 3)
        print(g.result(), flush=True)
        # no cleanup: the interpreter exits with f still waiting
        """
    )
    p = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "5"
    log = next(tmp_path.glob("runinfo/*/parsl.log")).read_text()
    assert "can never finish" in log
