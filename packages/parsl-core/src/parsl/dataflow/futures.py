"""AppFutures (0.5.0 path ``parsl.dataflow.futures``)."""
from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .lean_future import LeanFuture

if TYPE_CHECKING:
    from ..app.futures import DataFuture
    from .taskrecord import TaskRecord


class AppFuture(LeanFuture):
    """An AppFuture is the future of one app call: a ``concurrent.futures.Future`` that the
    kernel resolves with the app's return value (the exit code, 0, for a bash app) or with the
    exception that ended it.

    ``outputs`` holds one :class:`~parsl.app.futures.DataFuture` per file named in the call's
    ``outputs=[...]``; ``stdout``/``stderr`` the redirection paths of a bash app; ``tid`` the
    task id; ``task_record`` the kernel's record of the task (its arguments are dropped once
    the task is done).

    As in today's upstream Parsl, ``fut[key]`` and ``fut.name`` (any public attribute the
    future itself does not have) are *lifted*: each returns a new AppFuture, of a small task
    on the kernel's internal threads, that resolves to ``fut.result()[key]`` /
    ``fut.result().name`` (and fails with a DependencyError if ``fut`` fails).
    """

    task_record: TaskRecord | None = None

    def __init__(self, parent: Future[Any] | None = None, tid: int | None = None, stdout: Any = None, stderr: Any = None) -> None:
        super().__init__()
        self.tid = tid
        self.stdout = stdout
        self.stderr = stderr
        self._outputs: list[DataFuture] | None = None
        self.parent = parent
        if parent is not None:
            self.update_parent(parent)

    @property
    def outputs(self) -> list[DataFuture]:
        out = self._outputs
        if out is None:
            out = self._outputs = []
        return out

    @outputs.setter
    def outputs(self, value: list[DataFuture]) -> None:
        self._outputs = value

    def update_parent(self, fut: Future[Any]) -> None:
        """Add a callback to the parent to update the state."""
        self.parent = fut
        fut.add_done_callback(self.parent_callback)

    def parent_callback(self, executor_fu: Future[Any]) -> None:
        """Callback from executor future to update the parent."""
        exc = executor_fu.exception()
        if exc is not None:
            self.set_exception(exc)
        else:
            self.set_result(executor_fu.result())

    def task_status(self) -> str:
        """The state of the task behind this future: ``pending``, ``launched``, ``running``,
        ``joining``, ``exec_done``, ``failed``, ``dep_fail`` or ``memo_done``."""
        record = self.task_record
        if record is None:
            return "unknown"
        return str(record.state.value)

    def __getitem__(self, key: Any) -> AppFuture:
        return self._lift("getitem", key)

    def __getattr__(self, name: str) -> AppFuture:
        # only called for attributes the future does not have; private and dunder names are
        # never lifted (copy, pickle and the interpreter's protocols probe those)
        if name.startswith("_") or self.task_record is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return self._lift("getattr", name)

    def _lift(self, op: str, operand: Any) -> AppFuture:
        record = self.task_record
        if record is None or record.dfk is None:
            raise TypeError(f"only futures returned by apps can be lifted (fut[...] / fut.attr); {self!r} has no kernel")
        return record.dfk._lift(self, op, operand)  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        base = super().__repr__()
        return base[:-1] + f" tid={self.tid}>"
