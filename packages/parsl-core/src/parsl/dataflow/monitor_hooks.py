"""What the kernel tells a monitor about a task, when monitoring is on (see
:mod:`parsl.interfaces.monitoring`) beyond what the hot path writes into the feed inline
(the task's row in ``submit_app``, each launch in ``_send``, the end of each try and the
other state changes in :meth:`TaskRecord.on` through ``record.log``, which is the feed): the
task graph's edges, and where and when a try ran when that is not on its future.
Executors that do not time their runs get each try wrapped in
:class:`~parsl.interfaces.MonitoredCall` by the kernel's ``_send``.
"""
from __future__ import annotations

import os
import socket
from typing import TYPE_CHECKING, Any

from ..interfaces import MonitoredRun, RunInfo, TaskFeed
from ..interfaces.task_feed import pack_edge

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .taskrecord import TaskRecord


def record_edges(feed: TaskFeed, task_id: int, parents: list[Any]) -> None:
    """Record that ``task_id`` waits for the tasks behind the futures ``parents``."""
    for t in _ids(parents):
        feed.edges.append(pack_edge(task_id, t))


def _ids(parents: list[Any]) -> tuple[int, ...]:
    return tuple(t for t in (getattr(f, "tid", None) for f in parents) if isinstance(t, int))


def try_ended(record: TaskRecord, fut: Future[Any], result: Any, exc: BaseException | None) -> Any:
    """Note on ``record`` where and when the try that ``fut`` ran took place (its row is
    written when the task moves on); return the bare result."""
    started = getattr(fut, "parsl_started", None)
    if started is not None:  # a bash app on a thread of this process, which timed it
        code = None
        if record.bash:
            code = 0 if exc is None else getattr(exc, "exitcode", None)
            code = code if isinstance(code, int) else None
        record.run = RunInfo(socket.gethostname(), os.getpid(), started, fut.parsl_ended, code, fut.parsl_thread)  # type: ignore[attr-defined]
        return result
    if type(result) is MonitoredRun:
        record.run = result[1]
        return result[0]
    info = getattr(exc, "parsl_run_info", None) if exc is not None else None
    if isinstance(info, RunInfo):
        record.run = info
    return result
