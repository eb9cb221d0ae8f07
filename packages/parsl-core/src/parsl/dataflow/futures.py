"""AppFutures (0.5.0 path ``parsl.dataflow.futures``)."""
from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .lean_future import LeanFuture

if TYPE_CHECKING:
    from ..app.futures import DataFuture


class AppFuture(LeanFuture):
    """An AppFuture is the future of one app call: a ``concurrent.futures.Future`` that the
    kernel resolves with the app's return value (the exit code, 0, for a bash app) or with the
    exception that ended it.

    ``outputs`` holds one :class:`~parsl.app.futures.DataFuture` per file named in the call's
    ``outputs=[...]``; ``stdout``/``stderr`` the redirection paths of a bash app; ``tid`` the
    task id.
    """

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

    def __repr__(self) -> str:
        base = super().__repr__()
        return base[:-1] + f" tid={self.tid}>"
