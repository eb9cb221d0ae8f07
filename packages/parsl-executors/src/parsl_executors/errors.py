"""Errors raised by the executors of ``parsl_executors``."""
from __future__ import annotations

from typing import Any

from parsl.executors.errors import ExecutorError


class EngineLost(ExecutorError):
    """The engine running a task died before the task finished (the task may be retried).

    Attributes: ``engine_id``, ``host``, ``pid`` and ``block`` of the engine (``None`` when
    unknown) and ``detail``, the controller's own message.
    """

    def __init__(self, engine_id: int | None, host: str | None, pid: int | None = None, block: str | None = None, detail: str = "") -> None:
        self.engine_id = engine_id
        self.host = host
        self.pid = pid
        self.block = block
        self.detail = detail
        #: the engine's ipyparallel uuid, when known
        self.uuid: str | None = None
        super().__init__(engine_id, host, pid, block, detail)

    def __str__(self) -> str:
        where = f"engine {self.engine_id} on host {self.host or 'unknown'}"
        if self.pid is not None:
            where += f" (pid {self.pid}"
            where += f", block {self.block})" if self.block else ")"
        return f"{where} died while running the task" + (f": {self.detail}" if self.detail else "")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.engine_id, self.host, self.pid, self.block, self.detail))


class WorkerLost(ExecutorError):
    """The worker process running the task died (killed, crashed, out of memory) before the
    task finished. The kernel retries the task when ``retries`` allows.

    Attributes: ``worker_id`` (an MPI rank for the Turbine executor), ``host``, ``pid``,
    ``exitcode`` (negative: the signal) and ``block``; ``None`` when unknown.
    """

    def __init__(self, worker_id: int | None, host: str | None, pid: int | None = None, exitcode: int | None = None, block: str | None = None) -> None:
        self.worker_id = worker_id
        self.host = host
        self.pid = pid
        self.exitcode = exitcode
        self.block = block
        super().__init__(worker_id, host, pid, exitcode, block)

    def __str__(self) -> str:
        how = ""
        if self.exitcode is not None:
            how = f" (killed by signal {-self.exitcode})" if self.exitcode < 0 else f" (exit code {self.exitcode})"
        return f"worker {self.worker_id} (pid {self.pid}) on host {self.host or 'unknown'}, block {self.block or '-'}, died while running the task{how}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.worker_id, self.host, self.pid, self.exitcode, self.block))
