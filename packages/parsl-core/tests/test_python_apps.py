"""Python apps on the thread executor: dependencies, errors, retries, lazy failure, walltime,
join apps and site routing."""
from __future__ import annotations

import concurrent.futures as cf
import threading
import time

import pytest

import parsl
from parsl import App, DataFlowKernel, ThreadPoolExecutor, join_app, python_app
from parsl.app.errors import AppTimeout, DependencyError
from parsl.dataflow.error import KernelClosed
from parsl.dataflow.futures import AppFuture
from parsl.errors import ConfigurationError, NoDataFlowKernelError, WorkflowAborted


def test_result_and_app_future_type(dfk):
    @App("python", dfk)
    def double(x):
        return 2 * x

    f = double(21)
    assert isinstance(f, AppFuture) and isinstance(f, cf.Future)
    assert f.result() == 42 and f.tid is not None


def test_dependencies_positional_keyword_inputs_and_nested_with_the_deep_resolver():
    """Deep resolution is an opt-in (the default is shallow: tests/test_dependency_resolvers.py)."""
    from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(4)], dependency_resolver=DEEP_DEPENDENCY_RESOLVER)

    @App("python", dfk)
    def val(x):
        return x

    @App("python", dfk)
    def combine(a, b=0, inputs=(), nested=None):
        return a + b + sum(inputs) + sum(nested["xs"]) + sum(nested["pair"])

    r = combine(val(1), b=val(2), inputs=[val(3), val(4)], nested={"xs": [val(5), 6], "pair": (val(7), val(8))})
    assert r.result() == 36
    dfk.cleanup()


def test_plain_concurrent_futures_are_dependencies_too(dfk):
    @App("python", dfk)
    def inc(x):
        return x + 1

    gate: cf.Future = cf.Future()
    f = inc(gate)
    time.sleep(0.05)
    assert not f.done()
    gate.set_result(41)
    assert f.result(timeout=10) == 42


def test_dependency_error_lists_failed_parents(dfk):
    @App("python", dfk)
    def bad(x):
        return 6 / x

    @App("python", dfk)
    def good():
        return 1

    @App("python", dfk)
    def add(*xs):
        return sum(xs)

    b1, b2 = bad(0), bad(0)
    f = add(b1, good(), b2)
    with pytest.raises(DependencyError) as ei:
        f.result()
    err = ei.value
    assert sorted(err.dependent_tasks) == sorted([b1.tid, b2.tid])
    assert all(isinstance(e, ZeroDivisionError) for e in err.dependent_exceptions)
    assert str(b1.tid) in str(err) and "ZeroDivisionError" in str(err)
    # the failure propagates down a long chain without recursion trouble
    g = f
    for _ in range(3000):
        g = add(g)
    with pytest.raises(DependencyError):
        g.result(timeout=30)


def test_retries_rerun_until_success(tmp_path):
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], retries=2)
    attempts = []

    @App("python", dfk)
    def flaky():
        attempts.append(1)
        if len(attempts) < 3:
            raise RuntimeError("transient")
        return "ok"

    assert flaky().result() == "ok" and len(attempts) == 3

    calls = []

    @App("python", dfk)
    def always_bad():
        calls.append(1)
        raise RuntimeError("permanent")

    with pytest.raises(RuntimeError, match="permanent"):
        always_bad().result()
    assert len(calls) == 3  # first try + 2 retries
    dfk.cleanup()


def test_lazy_fail_false_stops_the_workflow():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], lazy_fail=False)

    @App("python", dfk)
    def bad():
        raise ValueError("first failure")

    @App("python", dfk)
    def wait_on(x):
        return x

    gate: cf.Future = cf.Future()
    pending = wait_on(gate)
    f = bad()
    with pytest.raises(ValueError):
        f.result()
    # the pending task is failed with a clear error naming the first failure
    with pytest.raises(WorkflowAborted, match="first failure") as ei:
        pending.result(timeout=10)
    assert ei.value.task_id == f.tid
    # and the next app call stops the script
    with pytest.raises(WorkflowAborted):
        wait_on(1)
    dfk.cleanup()


def test_lazy_errors_config_key_also_works():
    dfk = DataFlowKernel(config={"sites": [{"site": "t", "execution": {"executor": "threads"}}], "globals": {"lazyErrors": False}})
    assert dfk.lazy_fail is False
    dfk.cleanup()


def test_python_walltime():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])

    @App("python", dfk, walltime=0.3)
    def spin():
        t = time.time()
        while time.time() - t < 30:
            pass
        return "finished"

    @App("python", dfk, walltime=5)
    def quick():
        return "fast"

    t0 = time.monotonic()
    with pytest.raises(AppTimeout) as ei:
        spin().result(timeout=20)
    assert time.monotonic() - t0 < 10
    assert "walltime" in str(ei.value)
    assert quick().result() == "fast"
    dfk.cleanup()


def test_walltime_does_not_leak_into_later_work():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(1)])

    @App("python", dfk, walltime=0.2)
    def short():
        return 1

    @App("python", dfk, walltime=None)
    def sleeper():
        time.sleep(0.5)
        return 2

    assert [short().result() for _ in range(20)] == [1] * 20
    assert sleeper().result() == 2  # no stray timeout from the earlier calls
    dfk.cleanup()


def test_join_app_single_and_list():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(2)])):

        @python_app
        def inc(x):
            return x + 1

        @join_app
        def twice(x):
            return inc(inc(x))

        @join_app
        def fan(n):
            return [inc(i) for i in range(n)]

        assert twice(1).result() == 3
        assert fan(4).result() == [1, 2, 3, 4]

        @join_app
        def not_futures():
            return 5

        with pytest.raises(TypeError, match="must return a future"):
            not_futures().result()


def test_sites_route_apps_and_unknown_sites_fail_at_decoration():
    a = ThreadPoolExecutor(1, thread_name_prefix="siteA", label="A")
    b = ThreadPoolExecutor(1, thread_name_prefix="siteB", label="B")
    dfk = DataFlowKernel(executors=[a, b])

    @App("python", dfk, sites=["B"])
    def where():
        return threading.current_thread().name

    assert all(where().result().startswith("siteB") for _ in range(5))

    names = {App("python", dfk)(lambda: threading.current_thread().name)().result()[:5] for _ in range(40)}
    assert names == {"siteA", "siteB"}  # 'all' spreads over every site

    with pytest.raises(ConfigurationError, match=r"unknown site.*'C'.*configured sites: 'A', 'B'"):
        App("python", dfk, sites=["C"])(lambda: 1)
    dfk.cleanup()


def test_modern_app_with_unknown_executor_fails_at_call():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(1, label="only")])):

        @python_app(executors=["gpu"])
        def f():
            return 1

        with pytest.raises(ConfigurationError, match="configured sites: 'only'"):
            f()


def test_app_without_kernel_says_what_to_do():
    @python_app
    def f():
        return 1

    with pytest.raises(NoDataFlowKernelError, match=r"parsl.load"):
        f()


def test_app_bound_to_cleaned_up_kernel_uses_the_newest_live_one():
    old = DataFlowKernel(executors=[ThreadPoolExecutor(1)])

    @App("python", old)
    def f(x):
        return x * 3

    assert f(1).result() == 3
    old.cleanup()
    new = DataFlowKernel(executors=[ThreadPoolExecutor(1)])
    fut = f(2)
    assert fut.result() == 6
    assert new.task_count == 1
    new.cleanup()
    with pytest.raises(NoDataFlowKernelError):
        f(3)


def test_submit_after_cleanup_is_refused(dfk):
    @App("python", dfk)
    def f():
        return 1

    dfk.cleanup()
    with pytest.raises((KernelClosed, NoDataFlowKernelError)):
        parsl.DataFlowKernel.submit_app(dfk, f, (), {})


def test_cleanup_waits_for_outstanding_tasks_and_is_idempotent():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])

    @App("python", dfk)
    def slow(x):
        time.sleep(0.2)
        return x

    futs = [slow(i) for i in range(4)]
    dfk.cleanup()
    assert [f.result(timeout=0) for f in futs] == [0, 1, 2, 3]
    dfk.cleanup()
    assert dfk.closed


def test_cleanup_without_wait_fails_pending_tasks_clearly():
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(1)])

    @App("python", dfk)
    def f(x):
        return x

    gate: cf.Future = cf.Future()
    pending = f(gate)
    dfk.cleanup(wait=False)
    with pytest.raises(KernelClosed, match="cleaned up before this task could run"):
        pending.result(timeout=5)


def test_legacy_dfk_submit_entry_point(dfk):
    fut = dfk.submit(lambda a, b=1: a + b, 2, b=3)
    assert fut.result() == 5


def test_many_tasks_all_complete(dfk):
    @App("python", dfk)
    def sq(x):
        return x * x

    futs = [sq(i) for i in range(5000)]
    assert sum(f.result() for f in futs) == sum(i * i for i in range(5000))


def test_app_second_argument_must_be_the_kernel():
    with pytest.raises(TypeError, match="DataFlowKernel"):
        App("python", ThreadPoolExecutor(1))(lambda: 1)


def test_executor_object_reused_by_a_second_kernel():
    workers = ThreadPoolExecutor(max_workers=2)
    for expected in (1, 2):
        dfk = DataFlowKernel(executors=[workers])

        @App("python", dfk)
        def value(x):
            return x

        assert value(expected).result(timeout=10) == expected
        dfk.cleanup()


def test_app_parameters_may_share_names_with_the_kernels_own(dfk):
    """An app's own keywords named like the walltime wrapper's parameters reach the app."""
    @App("python", dfk, walltime=30)
    def f(func=None, walltime=None, name=None):
        return (func, walltime, name)

    assert f(func=1, walltime=2, name=3).result() == (1, 2, 3)
