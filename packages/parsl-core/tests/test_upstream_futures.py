"""Futures and errors as today's upstream documents them: lifted futures (``fut['k']``,
``fut.attr``), plain ``concurrent.futures.Future`` dependencies, DependencyError / JoinError
at ``parsl.dataflow.errors`` with ``dependent_exceptions_tids`` and ``__cause__``."""
from __future__ import annotations

import concurrent.futures
import pickle
import threading

import pytest

import parsl
from parsl import join_app, python_app
from parsl.app.futures import DataFuture
from parsl.dataflow.errors import DependencyError, JoinError


@pytest.fixture
def k():
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=4)]))
    yield dfk
    dfk.cleanup()


class Point:
    def __init__(self, x: int) -> None:
        self.x = x


@python_app
def record(**kw):
    return dict(kw)


@python_app
def point(x):
    return Point(x)


@python_app
def fail(msg):
    raise ValueError(msg)


@python_app
def add(a, b):
    return a + b


def test_getitem_and_getattr_lift_to_new_futures(k) -> None:
    fut = record(a=1, b={"c": 3})
    item = fut["b"]
    assert isinstance(item, parsl.AppFuture) and item is not fut
    assert item["c"].result() == 3
    assert point(5).x.result() == 5
    assert add(fut["a"], 10).result() == 11


def test_lifting_a_missing_key_fails_with_its_error(k) -> None:
    with pytest.raises(KeyError):
        record(a=1)["nope"].result()
    with pytest.raises(AttributeError):
        point(1).nope.result()


def test_lifting_a_failed_future_gives_a_dependency_error(k) -> None:
    with pytest.raises(DependencyError) as ei:
        fail("boom")["x"].result()
    assert isinstance(ei.value.__cause__, ValueError)


def test_private_names_are_not_lifted(k) -> None:
    fut = record(a=1)
    with pytest.raises(AttributeError):
        fut._no_such_private  # noqa: B018
    assert not hasattr(fut, "__no_such_dunder__")
    fut.result()
    assert fut.tid == fut.task_record["id"]
    assert fut.task_status() == "exec_done"
    assert fail("s").exception(timeout=10) is not None


def test_a_plain_future_is_a_dependency(k) -> None:
    plain: concurrent.futures.Future[int] = concurrent.futures.Future()
    out = add(plain, 1)
    assert not out.done()
    threading.Timer(0.05, plain.set_result, (41,)).start()
    assert out.result(timeout=10) == 42


def test_dependency_error_names_tasks_and_plain_futures(k) -> None:
    plain: concurrent.futures.Future[int] = concurrent.futures.Future()
    plain.set_exception(OSError("disk gone"))
    bad = fail("first")
    with pytest.raises(DependencyError) as ei:
        add(bad, plain).result()
    e = ei.value
    descriptions = [d for _, d in e.dependent_exceptions_tids]
    assert descriptions[0] == f"task {bad.tid}"
    assert descriptions[1] == repr(plain)
    assert [type(x) for x, _ in e.dependent_exceptions_tids] == [ValueError, OSError]
    assert e.task_id is not None and isinstance(e.__cause__, ValueError)
    assert repr(plain) in str(e)
    # the same class at the 0.5.0 path, and it survives pickling
    from parsl.app.errors import DependencyError as Old

    assert Old is DependencyError
    again = pickle.loads(pickle.dumps(e))
    assert again.dependent_exceptions_tids[0][1] == descriptions[0] and again.task_id == e.task_id


def test_dependency_error_lists_every_failed_kind_of_future_in_order(k) -> None:
    """A cancelled future, a failed task, a failed task's output file and a failed task of
    another kernel: each is reported, in argument order, under its own description."""

    def make_file(outputs=()):
        raise OSError("no space")

    def gather(*args, inputs=()):
        return args

    other = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=1)])
    try:
        mine = {f.__name__: parsl.App("python", k)(f) for f in (make_file, gather, fail.func)}
        theirs = parsl.App("python", other)(fail.func)("theirs")
        cancelled: concurrent.futures.Future[int] = concurrent.futures.Future()
        assert cancelled.cancel()
        bad = mine["fail"]("mine")
        out_file = mine["make_file"](outputs=[parsl.File("never.txt")]).outputs[0]
        theirs.exception(timeout=10)
        broken: concurrent.futures.Future[int] = concurrent.futures.Future()
        untracked = DataFuture(broken, "loose.txt")  # a file future no task of ours produces
        broken.set_exception(EOFError("gone"))
        with pytest.raises(DependencyError) as ei:
            mine["gather"](cancelled, bad, theirs, inputs=[out_file, untracked]).result(timeout=10)
    finally:
        other.cleanup()
    pairs = ei.value.dependent_exceptions_tids
    assert [d for _, d in pairs] == [
        repr(cancelled), f"task {bad.tid}", repr(theirs), f"DataFuture from task {out_file.tid}", repr(untracked)
    ]
    assert [type(e) for e, _ in pairs] == [concurrent.futures.CancelledError, ValueError, ValueError, OSError, EOFError]
    assert "was cancelled" in str(pairs[0][0])


def test_dependency_error_in_upstreams_constructor_form() -> None:
    e = DependencyError([(ValueError("x"), "task 1")], 7)
    assert e.task_id == 7 and isinstance(e.__cause__, ValueError)
    assert "task 1" in str(e) and "7" in str(e)


def test_a_join_app_whose_future_fails_raises_join_error(k) -> None:
    @join_app
    def one():
        return fail("inner")

    @join_app
    def many():
        return [add(1, 2), fail("inner2")]

    with pytest.raises(JoinError) as ei:
        one().result()
    assert isinstance(ei.value.__cause__, ValueError)
    with pytest.raises(JoinError) as ei2:
        many().result()
    assert [type(x) for x, _ in ei2.value.dependent_exceptions_tids] == [ValueError]
    assert not isinstance(ei2.value, DependencyError)


def test_data_flow_kernel_loader(k) -> None:
    from parsl.dataflow.dflow import DataFlowKernelLoader

    assert DataFlowKernelLoader.dfk() is k
    f = add(1, 1)
    DataFlowKernelLoader.wait_for_current_tasks()
    assert f.done()


def test_dfk_tasks_holds_the_unfinished_records(k) -> None:
    import threading

    gate = threading.Event()

    @python_app
    def wait_gate():
        gate.wait(10)
        return 1

    f = wait_gate()
    assert f.tid in k.tasks and k.tasks[f.tid]["func_name"] == "wait_gate"
    gate.set()
    f.result()
    k.wait_for_current_tasks()
    assert f.tid not in k.tasks
    with pytest.raises(TypeError):
        k.tasks[99] = None  # type: ignore[index]
