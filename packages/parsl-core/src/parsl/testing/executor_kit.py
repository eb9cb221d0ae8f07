"""Conformance tests every executor must pass. Subclass and provide ``make_executor``::

    class TestMyExecutor(ExecutorConformance):
        def make_executor(self, tmp_path):
            return MyExecutor(...)

A subclass may only turn a standard test off with ``pytest.mark.xfail(reason=...)``; the
``test_no_silent_override`` guard fails if a standard test is overridden otherwise.
"""
from __future__ import annotations

import concurrent.futures as cf
import os
from pathlib import Path
from typing import Any

import pytest

from ..data_provider.files import File
from ..data_provider.transfer import InTask, TransferStaging
from ..interfaces import ExecutorContext, ParslExecutor, Staging


def _double(x: int) -> int:
    return 2 * x


def _boom(msg: str) -> None:
    raise ValueError(msg)


def _echo_keywords(**kwargs: Any) -> dict[str, Any]:
    return kwargs


def _pid() -> int:
    return os.getpid()


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


class _CopyStaging(TransferStaging):
    """``kitcopy:///abs/path`` files: copied from that path (the worker must see it)."""

    schemes = ("kitcopy",)

    def fetch(self, file: File, local_path: str) -> None:
        import shutil

        shutil.copy(file.path, local_path)


class ExecutorConformance:
    """Standard behaviour of a :class:`~parsl.interfaces.ParslExecutor`."""

    #: seconds to wait for one result
    timeout: float = 60.0

    def make_executor(self, tmp_path: Path) -> ParslExecutor:
        raise NotImplementedError

    @pytest.fixture
    def executor(self, tmp_path: Path) -> Any:
        ex = self.make_executor(tmp_path)
        ex.start(ExecutorContext(run_id="conformance", run_dir=str(tmp_path)))
        try:
            yield ex
        finally:
            ex.shutdown()

    def test_is_parsl_executor(self, executor: ParslExecutor) -> None:
        assert isinstance(executor, ParslExecutor)
        assert isinstance(executor.label, str) and executor.label

    def test_submit_returns_future_with_result(self, executor: ParslExecutor) -> None:
        fut = executor.submit(_double, 21)
        assert isinstance(fut, cf.Future)
        assert fut.result(timeout=self.timeout) == 42

    def test_keyword_arguments(self, executor: ParslExecutor) -> None:
        assert executor.submit(_double, x=5).result(timeout=self.timeout) == 10

    def test_keywords_named_like_submits_own_parameters(self, executor: ParslExecutor) -> None:
        kwargs = {"func": 1, "fn": 2, "args": 3, "kwargs": 4, "self": 5}
        assert executor.submit(_echo_keywords, **kwargs).result(timeout=self.timeout) == kwargs

    def test_exception_propagates(self, executor: ParslExecutor) -> None:
        fut = executor.submit(_boom, "bad input")
        exc = fut.exception(timeout=self.timeout)
        # remote executors may wrap the exception; the kernel unwraps RemoteExceptionWrapper
        from ..app.errors import RemoteExceptionWrapper

        if isinstance(exc, RemoteExceptionWrapper):
            exc = exc.get_exception()
        assert isinstance(exc, ValueError) and "bad input" in str(exc)

    def test_many_tasks(self, executor: ParslExecutor) -> None:
        futs = [executor.submit(_double, i) for i in range(50)]
        assert [f.result(timeout=self.timeout) for f in futs] == [2 * i for i in range(50)]

    def test_shutdown_is_idempotent(self, tmp_path: Path) -> None:
        ex = self.make_executor(tmp_path)
        ex.start(ExecutorContext(run_id="conformance", run_dir=str(tmp_path)))
        assert ex.submit(_double, 1).result(timeout=self.timeout) == 2
        ex.shutdown()
        ex.shutdown()

    def test_staging_runs_inside_a_task(self, executor: ParslExecutor, tmp_path: Path) -> None:
        """What an executor with ``stage_on_workers`` gets: a task function wrapped by a
        staging provider, which fetches the input on the worker before the task runs."""
        assert executor.storage_access is None or all(isinstance(p, Staging) for p in executor.storage_access)
        assert isinstance(executor.stage_on_workers, bool)
        src, dest = tmp_path / "src.txt", tmp_path / "staged" / "copy.txt"
        src.write_text("staged on the worker\n")
        task = InTask(_CopyStaging(), "in", File(f"kitcopy://{src}"), str(dest), _read)
        assert executor.submit(task, str(dest)).result(timeout=self.timeout) == "staged on the worker\n"

    def test_scaling_flag_is_bool(self, executor: ParslExecutor) -> None:
        assert isinstance(executor.scaling_enabled, bool)

    def test_no_silent_override(self) -> None:
        for name in dir(ExecutorConformance):
            if not name.startswith("test_"):
                continue
            mine = getattr(type(self), name)
            if mine is getattr(ExecutorConformance, name):
                continue
            marks = [m.name for m in getattr(mine, "pytestmark", [])]
            assert "xfail" in marks, f"{type(self).__name__}.{name} overrides a standard test without xfail(reason=...)"
