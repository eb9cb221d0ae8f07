"""The DataFlowKernel's own decisions, with real threads: retries, lazy and eager failure,
cancellation, submission failures, join apps, its public properties."""
from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections import Counter

import pytest

import parsl
from parsl import DataFlowKernel, ThreadPoolExecutor, join_app, python_app
from parsl.dataflow.memoization import InMemoryMemoizer
from parsl.errors import WorkflowAborted

ATTEMPTS: Counter[str] = Counter()
_lock = threading.Lock()


@pytest.fixture(autouse=True)
def _reset() -> None:
    ATTEMPTS.clear()


def _attempt(name: str) -> int:
    with _lock:
        ATTEMPTS[name] += 1
        return ATTEMPTS[name]


@python_app
def fails_first(name: str, failures: int) -> str:
    n = _attempt(name)
    if n <= failures:
        raise RuntimeError(f"{name} attempt {n}")
    return f"{name} ok after {n}"


@pytest.mark.parametrize("retries", [0, 1, 3])
def test_each_task_gets_exactly_its_retries(retries: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parsl")
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=4)], retries=retries)):
        futs = {k: fails_first(f"t{k}", k) for k in range(retries + 3)}
        for k, f in futs.items():
            if k <= retries:
                assert f.result(timeout=30) == f"t{k} ok after {k + 1}"
            else:  # out of retries: the last attempt's error
                with pytest.raises(RuntimeError, match=f"t{k} attempt {retries + 1}$"):
                    f.result(timeout=30)
    assert ATTEMPTS == Counter({f"t{k}": min(k, retries) + 1 for k in futs})
    retry_lines = [r.getMessage() for r in caplog.records if "; retry " in r.getMessage()]
    assert len(retry_lines) == sum(min(k, retries) for k in futs)
    if retries:
        assert any(line.endswith(f"retry {retries} of {retries}") for line in retry_lines)


def test_an_aborted_workflow_retries_nothing_more() -> None:
    """lazy_errors off: once a task has failed for good, a running task that fails is not
    retried, and tasks waiting for dependencies fail with WorkflowAborted."""
    gate = threading.Event()
    started = threading.Event()

    @python_app
    def late_failure():
        _attempt("late")
        started.set()
        gate.wait(30)
        raise RuntimeError("late")

    @python_app
    def waits_for(x):
        return x

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=4)], lazy_fail=False, retries=2)
    late = late_failure()
    assert started.wait(30)
    never: cf.Future[int] = cf.Future()
    waiting = waits_for(never)
    bad = fails_first("bad", 10)
    with pytest.raises(RuntimeError, match="bad attempt 3"):  # 1 + 2 retries, then the abort
        bad.result(timeout=30)
    with pytest.raises(WorkflowAborted) as ei:
        waiting.result(timeout=30)
    assert ei.value.task_id == bad.tid
    gate.set()
    with pytest.raises(RuntimeError, match="late"):
        late.result(timeout=30)
    assert ATTEMPTS == Counter({"bad": 3, "late": 1})
    dfk.cleanup()


def test_lazy_errors_keep_independent_work_going_after_failures() -> None:
    @python_app
    def waits_for(x):
        return x + 1

    gate: cf.Future[int] = cf.Future()
    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)], lazy_fail=True):
        later = waits_for(gate)
        with pytest.raises(RuntimeError):
            fails_first("bad", 1).result(timeout=30)
        assert waits_for(1).result(timeout=30) == 2  # new work is accepted
        gate.set_result(1)
        assert later.result(timeout=30) == 2  # and waiting work still runs


def test_a_dependency_failure_does_not_abort_an_eager_workflow_twice() -> None:
    """lazy_errors off: the task that failed is the one WorkflowAborted names, not one of its
    dependants (which fail with a DependencyError)."""
    release = threading.Event()

    @python_app
    def root():
        release.wait(30)
        raise RuntimeError("root")

    @python_app
    def child(x):
        return x

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)], lazy_fail=False)
    r = root()
    dependant = child(r)
    gate: cf.Future[int] = cf.Future()
    other = child(gate)
    release.set()
    with pytest.raises(parsl.app.errors.DependencyError):
        dependant.result(timeout=30)
    with pytest.raises(WorkflowAborted) as ei:
        other.result(timeout=30)
    assert ei.value.task_id == r.tid
    dfk.cleanup()


def test_a_cancelled_task_never_runs_and_its_dependants_fail() -> None:
    ran: list[int] = []

    @python_app
    def record(x):
        ran.append(x)
        return x

    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)]) as dfk:
        gate: cf.Future[int] = cf.Future()
        victim = record(gate)
        dependant = record(victim)
        assert victim.cancel()
        gate.set_result(1)
        assert record(2).result(timeout=30) == 2
        with pytest.raises(parsl.app.errors.DependencyError):
            dependant.result(timeout=30)
        assert ran == [2]
        assert victim.tid not in dfk.tasks
        assert victim.task_record.state is parsl.dataflow.states.States.failed


def test_a_task_the_executor_refuses_fails_with_the_executors_error() -> None:
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2, label="only")])
    dfk.executors["only"].shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        fails_first("refused", 0).result(timeout=30)
    assert ATTEMPTS["refused"] == 0
    dfk.cleanup()


def test_join_apps_return_values_and_reject_what_is_not_a_future() -> None:
    @python_app
    def inc(x):
        return x + 1

    @join_app
    def none_at_all():
        return []

    @join_app
    def not_a_future():
        return 42

    @join_app
    def mixed():
        return [inc(1), 5]

    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)]):
        empty = none_at_all()
        assert empty.result(timeout=30) == []
        assert empty.task_record.state is parsl.dataflow.states.States.exec_done
        with pytest.raises(TypeError, match="must return a future or a list of futures, not int"):
            not_a_future().result(timeout=30)
        with pytest.raises(TypeError, match="not list"):
            mixed().result(timeout=30)


def test_the_kernels_public_properties() -> None:
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2, label="here")])
    gate = threading.Event()

    @python_app
    def wait():
        gate.wait(30)
        return 1

    assert repr(dfk) == f"<DataFlowKernel live run_dir={dfk.run_dir!r} executors=['here']>"
    f = wait()
    assert list(dfk.tasks) == [f.tid] and dfk.task_count == 1
    with pytest.raises(TypeError):
        dfk.tasks[99] = None  # type: ignore[index]
    gate.set()
    dfk.wait_for_current_tasks()
    assert f.done() and dict(dfk.tasks) == {}
    from parsl.data_provider.data_manager import DataManager

    dm = dfk.data_manager
    assert isinstance(dm, DataManager) and dm.dfk is dfk and dfk.data_manager is dm
    assert dfk.check_sites(["here"]) == [dfk.executors["here"]]
    with pytest.raises(parsl.errors.ConfigurationError, match=r"unknown site.*'elsewhere'.*configured sites: 'here'"):
        dfk.check_sites(["elsewhere"])
    assert parsl.dfk() is dfk
    dfk.cleanup()
    assert repr(dfk).startswith("<DataFlowKernel closed")
    with pytest.raises(parsl.errors.NoDataFlowKernelError):
        parsl.dfk()  # a cleaned-up kernel is no longer the current one


def test_a_cleaned_up_kernel_is_freed() -> None:
    """Nothing of the process (atexit, the loader) keeps a cleaned-up kernel alive."""
    import gc
    import weakref

    dfk = parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=1)]))
    assert fails_first("x", 0).result(timeout=30) == "x ok after 1"
    dfk.cleanup()
    ref = weakref.ref(dfk)
    del dfk
    gc.collect()
    assert ref() is None


def test_checkpoint_and_load_checkpoints_return_what_the_memoizer_gives() -> None:
    @python_app(cache=True)
    def square(x):
        return x * x

    first = parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=1)], checkpoint_mode="manual"))
    square(3).result(timeout=30)
    assert first.checkpoint() == f"{first.run_dir}/checkpoint"
    first.cleanup()
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=1)])) as dfk:
        loaded = dfk.load_checkpoints([first.run_dir])
        assert [e.value() for e in loaded.values()] == [9]
        assert dfk.load_checkpoints(None) == {}


def test_tasks_are_spread_over_every_configured_executor() -> None:
    @python_app
    def where():
        return threading.current_thread().name.split("_")[0]

    executors = [ThreadPoolExecutor(max_workers=2, label=x, thread_name_prefix=x) for x in ("east", "west")]
    with parsl.load(parsl.Config(executors=executors)):
        seen = Counter(where().result(timeout=30) for _ in range(60))
    assert set(seen) == {"east", "west"}


def test_the_internal_executor_label_is_reserved() -> None:
    with pytest.raises(parsl.errors.ConfigurationError, match="'_parsl_internal' is reserved"):
        DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=1, label="_parsl_internal")])


def test_exit_mode_skip_leaves_the_kernel_running() -> None:
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=1)], exit_mode="skip")) as dfk:
        pass
    assert not dfk.closed
    assert fails_first("after", 0).result(timeout=30) == "after ok after 1"
    dfk.cleanup()
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=1)])) as dfk:
        pass
    assert dfk.closed


class _BrokenMemoizer(InMemoryMemoizer):
    def __init__(self, broken: str) -> None:
        super().__init__()
        self.broken = broken

    def lookup(self, task):  # type: ignore[no-untyped-def]
        if self.broken == "lookup" and task.args == ("boom",):
            raise RuntimeError("lookup broke")
        return super().lookup(task)

    def update(self, task, result) -> None:  # type: ignore[no-untyped-def]
        if self.broken == "update":
            raise RuntimeError("update broke")
        super().update(task, result)


def test_a_memoizer_error_never_loses_a_task(caplog: pytest.LogCaptureFixture) -> None:
    """An error of the kernel's own machinery while launching fails that task (with the error);
    a result that cannot be remembered is still delivered."""
    @python_app(cache=True)
    def echo(x):
        _attempt(x)
        return x

    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)], memoizer=_BrokenMemoizer("lookup"))):
        with pytest.raises(RuntimeError, match="lookup broke"):
            echo("boom").result(timeout=30)
        assert echo("fine").result(timeout=30) == "fine"
    assert ATTEMPTS == Counter({"fine": 1})
    assert any("launching task" in r.getMessage() for r in caplog.records)
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)], memoizer=_BrokenMemoizer("update"))):
        assert echo("kept").result(timeout=30) == "kept"
        assert echo("kept").result(timeout=30) == "kept"  # not remembered: it runs again
    assert ATTEMPTS["kept"] == 2


def test_cleanup_reports_how_many_tasks_failed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parsl")
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)])):
        for k in range(4):
            fails_first(f"c{k}", k % 2).exception(timeout=30)
    assert any(r.getMessage() == "DataFlowKernel cleaned up: 4 tasks submitted, 2 failed" for r in caplog.records)


def test_a_given_run_dir_is_created_private() -> None:
    import os
    import stat

    old = os.umask(0)
    try:
        dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=1)], rundir="mine/run")
    finally:
        os.umask(old)
    assert dfk.run_dir == os.path.abspath("mine/run")
    assert stat.S_IMODE(os.stat(dfk.run_dir).st_mode) == 0o700
    dfk.cleanup()


def test_a_join_app_waiting_for_its_futures_is_joining() -> None:
    from parsl.dataflow.states import States

    gate: cf.Future[int] = cf.Future()

    @join_app
    def outer():
        return gate

    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)]) as dfk:
        f = outer()
        record = f.task_record
        try:
            for _ in range(30_000):  # until the app body has returned the future
                if record.state is States.joining or record.state.final:
                    break
                threading.Event().wait(0.001)
            assert record.state is States.joining
            assert f.tid in dfk.tasks
        finally:
            gate.set_result(5)
        assert f.result(timeout=30) == 5
        assert record.state is States.exec_done


def test_the_050_submit_entry_caches_only_when_asked_and_keys_by_the_given_hash() -> None:
    def body(x):
        _attempt("body")
        return x

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)])
    assert dfk.submit(body, 1).result(timeout=30) == 1
    assert dfk.submit(body, 1).result(timeout=30) == 1  # not cached by default
    assert ATTEMPTS["body"] == 2
    for version in ("v1", "v2", "v1"):
        assert dfk.submit(body, 1, cache=True, fn_hash=version).result(timeout=30) == 1
    assert ATTEMPTS["body"] == 4  # v1 and v2 ran; v1 again was a hit
    dfk.cleanup()


def test_a_bash_app_gets_its_stream_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from parsl import bash_app

    @bash_app
    def hello(stdout=None, stderr=None):
        return "echo hello; echo oops >&2"

    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)]):
        f = hello(stdout="out.txt", stderr="err.txt")
        assert f.result(timeout=30) == 0
        assert (f.stdout, f.stderr) == ("out.txt", "err.txt")
    assert open("out.txt").read() == "hello\n" and open("err.txt").read() == "oops\n"


def test_cleanup_by_default_waits_for_tasks_still_waiting_for_their_dependencies() -> None:
    gate = threading.Event()

    @python_app
    def slow():
        gate.wait(30)
        return 1

    @python_app
    def inc(x):
        return x + 1

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)])
    b = inc(slow())
    threading.Timer(0.2, gate.set).start()
    dfk.cleanup()
    assert b.result(timeout=30) == 2


def test_inputs_given_as_a_generator_are_taken_at_call_time() -> None:
    @python_app
    def total(dep, inputs=()):
        return sum(inputs)

    with DataFlowKernel(executors=[ThreadPoolExecutor(max_workers=2)]):
        items = [1, 2]
        gate: cf.Future[int] = cf.Future()
        f = total(gate, inputs=(x for x in items))
        items.append(100)  # after the call: not among its inputs
        gate.set_result(0)
        assert f.result(timeout=30) == 3
