"""Cleanup waits for the outstanding tasks, but not forever for tasks that can never finish.

::

    cleanup() ──▶ wait_bounded(kernel)          (interpreter exit: the same, for at most
                                                 Config.exit_wait seconds)
                  loop: outstanding tasks?  none ──▶ return
                        some launched/running, or the set changed ──▶ keep waiting (unbounded:
                            a running task is real work)
                        nothing ran or changed for ``straggler_grace`` s ──▶
                            tasks blocked on a foreign future (neither a task of this kernel
                            nor a DataFuture) fail with UnfinishableTask; their dependants
                            then fail with DependencyError, which ends the wait

A *foreign* future is one nothing in the kernel will complete: a plain
``concurrent.futures.Future`` the script never sets, or one returned by a join app and
never set. The kernel's ``_finish`` wakes the wait when the last task ends.
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .dependencies import describe
from .error import UnfinishableTask
from .states import Event, States

if TYPE_CHECKING:
    from .dflow import DataFlowKernel
    from .taskrecord import TaskRecord

logger = logging.getLogger("parsl.dataflow")

#: default seconds of no progress before blocked tasks are failed at cleanup
STRAGGLER_GRACE = 10.0
_POLL = 1.0
_REPORT_EVERY = 30.0
_WAITING = (States.pending, States.joining)


def _owned(fut: Future[Any], dfk: DataFlowKernel) -> bool:
    from ..app.futures import DataFuture
    from .futures import AppFuture

    if isinstance(fut, DataFuture):
        return True  # completed by the task that makes the file, or by a staging thread
    record = fut.task_record if isinstance(fut, AppFuture) else None
    return record is not None and record.dfk is dfk


def foreign_wait(record: TaskRecord, dfk: DataFlowKernel) -> Future[Any] | None:
    """The first unfinished future ``record`` waits for that no task of ``dfk`` completes."""
    if record.state not in _WAITING:
        return None
    for fut in record.depends or ():
        if not fut.done() and not _owned(fut, dfk):
            return fut
    return None


def wait_bounded(dfk: DataFlowKernel, timeout: float | None = None) -> int:
    """Wait for every task of ``dfk`` (at most ``timeout`` seconds); fail the ones blocked on
    foreign futures once nothing else has happened for ``dfk.straggler_grace`` seconds.
    Return how many tasks are still outstanding (0 unless the timeout ended the wait)."""
    dfk._closing = True
    start = last_report = quiet_since = time.monotonic()
    deadline = None if timeout is None else start + timeout
    last_ids: frozenset[int] = frozenset()
    while True:
        dfk._idle.clear()
        records = list(dfk._tasks.values())
        if not records:
            return 0
        now = time.monotonic()
        if deadline is not None and now >= deadline:
            return len(records)
        ids = frozenset(r.id for r in records)
        if ids != last_ids or any(r.state not in _WAITING for r in records):
            quiet_since, last_ids = now, ids
        elif now - quiet_since >= dfk.straggler_grace:
            if dfk._fail_stragglers(now - quiet_since):
                quiet_since = now
                continue
        if now - last_report >= _REPORT_EVERY:
            logger.info("cleanup: waiting for %d outstanding tasks (%.0f s so far)", len(records), now - start)
            last_report = now
        pause = min(_POLL, dfk.straggler_grace)
        dfk._idle.wait(pause if deadline is None else max(0.0, min(pause, deadline - now)))


def claim_stragglers(dfk: DataFlowKernel, waited: float) -> list[tuple[TaskRecord, UnfinishableTask]]:
    """Mark failed every task of ``dfk`` blocked on a foreign future (under the kernel's
    dependency lock, so a late completion no longer launches it); return them with their
    errors for the kernel to finish."""
    victims: list[tuple[TaskRecord, UnfinishableTask]] = []
    with dfk._dep_lock:
        for r in list(dfk._tasks.values()):
            fut = foreign_wait(r, dfk)
            if fut is None or r.state.final:
                continue
            r.pending = -1
            r.on(Event.fail)
            waiting_for = describe(fut, dfk)
            logger.warning("task %d (%s) can never finish: it waits for %s; failing it", r.id, r.func_name, waiting_for)
            victims.append((r, UnfinishableTask(r.id, r.func_name, waiting_for, waited)))
    return victims
