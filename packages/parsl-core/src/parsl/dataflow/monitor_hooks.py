"""What the kernel tells a monitor about a task, when monitoring is on (see
:mod:`parsl.interfaces.monitoring`) beyond what the hot path writes into the feed inline
(the task's row in ``submit_app``, its state changes in :meth:`TaskRecord.on` through
``record.log``, which is the feed): the task graph's edges, and where and when each try ran.
Executors that do not time their runs get each try wrapped in
:class:`~parsl.interfaces.MonitoredCall` by the kernel's ``_send``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..interfaces import MonitoredRun, RunInfo, TaskFeed
from ..interfaces.task_feed import NO_EXIT, pack_edge, pack_run

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .taskrecord import TaskRecord


def record_edges(feed: TaskFeed, task_id: int, parents: list[Any]) -> None:
    """Record that ``task_id`` waits for the tasks behind the futures ``parents``."""
    for t in _ids(parents):
        feed.edges.append(pack_edge(task_id, t))


def _ids(parents: list[Any]) -> tuple[int, ...]:
    return tuple(t for t in (getattr(f, "tid", None) for f in parents) if isinstance(t, int))


def try_ended(feed: TaskFeed, record: TaskRecord, fut: Future[Any], result: Any, exc: BaseException | None) -> Any:
    """Record where and when the try that ``fut`` ran took place; return the bare result."""
    started = getattr(fut, "parsl_started", None)
    if started is not None:  # an executor that times its runs (on a thread of this process)
        code = NO_EXIT
        if record.bash:
            code = 0 if exc is None else getattr(exc, "exitcode", NO_EXIT)
            code = code if isinstance(code, int) else NO_EXIT
        here = feed.here
        feed.runs.append(pack_run(record.id, record.fail_count, here[0], here[1], feed.codes[fut.parsl_thread], started, fut.parsl_ended, code))  # type: ignore[attr-defined]
        return result
    if type(result) is MonitoredRun:
        _ran(feed, record, result[1])
        return result[0]
    info = getattr(exc, "parsl_run_info", None) if exc is not None else None
    if isinstance(info, RunInfo):
        _ran(feed, record, info)
    return result


def _ran(feed: TaskFeed, record: TaskRecord, info: RunInfo) -> None:
    feed.run(record.id, record.fail_count, info[0], info[1], info[5], info[2], info[3], info[4])
