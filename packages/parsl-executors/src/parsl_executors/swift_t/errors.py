"""Errors of the Turbine executor (worker loss itself is :class:`parsl_executors.errors.WorkerLost`)."""
from __future__ import annotations

from typing import Any

from parsl.executors.errors import ExecutorError

from ..errors import WorkerLost


class RankZeroLost(WorkerLost):
    """Rank 0 of a block (the rank that hands tasks to the others) died or its connection
    dropped: every task the block held fails with this error (the kernel retries them when
    ``retries`` allows) and the block is cancelled."""

    def __init__(self, block: str | None, host: str | None, pid: int | None = None, detail: str = "") -> None:
        self.detail = detail
        super().__init__(0, host, pid, None, block)

    def __str__(self) -> str:
        return (
            f"rank 0 (pid {self.pid}) of block {self.block or '-'} on host {self.host or 'unknown'} is gone, so every task "
            "of that block is lost" + (f": {self.detail}" if self.detail else "")
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.block, self.host, self.pid, self.detail))


class BlockFailed(ExecutorError):
    """A block ended or reported a fatal problem before any of its ranks could run tasks, and
    no other block is there to run the waiting tasks."""

    def __init__(self, label: str, block: str, reason: str) -> None:
        self.label = label
        self.block = block
        self.reason = reason
        super().__init__(label, block, reason)

    def __str__(self) -> str:
        return f"executor {self.label!r}: block {self.block} could not run tasks: {self.reason}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.label, self.block, self.reason))
