"""Errors of the high-throughput executor. Each pickles back to its own type with its
attributes (``__reduce__``), so they round-trip through any process boundary. A dead worker
is the shared :class:`parsl_executors.errors.WorkerLost` (re-exported here)."""
from __future__ import annotations

from typing import Any

from parsl.executors.errors import ExecutorError

from ..errors import WorkerLost

__all__ = ["BlocksNeverConnected", "InterchangeLost", "ManagerLost", "WorkerLost"]


class ManagerLost(ExecutorError):
    """The worker pool (manager) holding the task stopped answering heartbeats or its
    connection went away; the task's result is lost and the task may be retried."""

    def __init__(self, manager_id: str | None, host: str | None, block: str | None = None, detail: str = "") -> None:
        self.manager_id = manager_id
        self.host = host
        self.block = block
        self.detail = detail
        super().__init__(manager_id, host, block, detail)

    def __str__(self) -> str:
        return f"worker pool {self.manager_id} on host {self.host or 'unknown'} (block {self.block or '-'}) was lost" + (f": {self.detail}" if self.detail else "")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.manager_id, self.host, self.block, self.detail))


class InterchangeLost(ExecutorError):
    """The executor's interchange process ended while tasks were outstanding."""

    def __init__(self, label: str, detail: str = "") -> None:
        self.label = label
        self.detail = detail
        super().__init__(label, detail)

    def __str__(self) -> str:
        return f"the interchange of executor {self.label!r} is gone" + (f": {self.detail}" if self.detail else "")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.label, self.detail))


class BlocksNeverConnected(ExecutorError):
    """No worker pool connected: every block ended or stayed silent past the connect timeout,
    so tasks waiting for a worker are failed instead of hanging."""

    def __init__(self, label: str, detail: str) -> None:
        self.label = label
        self.detail = detail
        super().__init__(label, detail)

    def __str__(self) -> str:
        return f"executor {self.label!r}: no worker pool ever connected: {self.detail}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.label, self.detail))
