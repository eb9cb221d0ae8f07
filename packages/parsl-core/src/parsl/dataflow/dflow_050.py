"""The DataFlowKernel methods of the 0.5.0 developer guide, kept for scripts that call them.

The kernel of this version runs tasks through its own state machine; these are adaptors with
the documented signatures and results:

* ``rundir``: the run directory (``run_dir``).
* ``sanitize_and_wrap(task_id, args, kwargs)``: ``(args, kwargs, dep_failures)`` with each
  future passed directly, by keyword or in ``inputs=`` replaced by its result, and the
  exceptions of the failed ones listed (0.5.0's shallow rule; nested futures are left as is).
* ``launch_task(task_id, executable, *args, **kwargs)``: submit ``executable`` to an executor
  the task may run on (any executor for an unknown task id); returns the executor's future.
* ``handle_update(task_id, future, memo_cbk=False)``: 0.5.0's done-callback. The kernel
  already handles every execution future it launched, so for a task it knows this only checks
  the arguments; an id it never issued raises KeyError.
"""
from __future__ import annotations

import random
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from ..interfaces import ParslExecutor
    from .taskrecord import TaskRecord


class DFK050Methods:
    if TYPE_CHECKING:
        run_dir: str
        executors: dict[str, ParslExecutor]
        _tasks: dict[int, TaskRecord]
        _site_cache: dict[tuple[str, ...], list[ParslExecutor]]

        @property
        def task_count(self) -> int: ...

    @property
    def rundir(self) -> str:
        """The run directory (0.5.0's name for ``run_dir``)."""
        return self.run_dir

    @staticmethod
    def sanitize_and_wrap(task_id: Any, args: Any, kwargs: dict[str, Any]) -> tuple[list[Any], dict[str, Any], list[BaseException]]:
        """Replace the futures passed directly, by keyword and in ``inputs=`` by their results
        (call only when they are done); return ``(args, kwargs, dep_failures)``."""
        failures: list[BaseException] = []

        def value(v: Any) -> Any:
            if not isinstance(v, Future):
                return v
            exc = v.exception()
            if exc is not None:
                failures.append(exc)
                return v
            return v.result()

        new_args = [value(a) for a in args]
        new_kwargs = {k: value(v) for k, v in kwargs.items()}
        if "inputs" in new_kwargs and isinstance(new_kwargs["inputs"], (list, tuple)):
            new_kwargs["inputs"] = [value(i) for i in new_kwargs["inputs"]]
        return new_args, new_kwargs, failures

    def launch_task(self, task_id: Any, executable: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        """Submit ``executable(*args, **kwargs)`` to an executor the task may run on; return
        the future that tracks its execution."""
        record = self._tasks.get(task_id) if isinstance(task_id, int) else None
        sites = record.sites if record is not None else None
        choices = self._site_cache[sites] if sites is not None and sites in self._site_cache else list(self.executors.values())
        return random.choice(choices).submit(executable, *args, **kwargs)

    def handle_update(self, task_id: Any, future: Future[Any], memo_cbk: bool = False) -> None:
        """0.5.0's done-callback of a task's execution future (see the module docstring)."""
        if not isinstance(task_id, int) or not 0 <= task_id < self.task_count:
            raise KeyError(task_id)
        if not isinstance(future, Future):
            raise TypeError(f"handle_update takes the task's future, not {type(future).__name__}")
