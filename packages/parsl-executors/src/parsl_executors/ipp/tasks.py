"""The tasks an IPython Parallel executor has in flight, from ``submit`` to their future.

::

    user ────── submit(func, a, kw) ─▶ cloudpickle ─▶ view.apply_async(run_task) ─▶ AsyncResult
                                         (task id → future, task id → its current AsyncResult)
    IO thread ─ AsyncResult done ────▶ value, or the task's own exception ─▶ future
                                       engine error ─▶ EngineLost, its engine named by Engines;
                                       an engine the executor released itself: sent again, once
    IO thread ─ engine unregistered ─▶ the task running on it fails with EngineLost at once
    strategy ── fail_waiting(err) ───▶ every task still waiting aborted, its future fails with err
    shutdown ── close() ─────────────▶ no more sends (results of tasks out still come in)
             ── fail_all(err) ───────▶ every future left fails with err

Thread-safe: the user's thread, ipyparallel's IO thread and the strategy thread all call it;
each future is settled exactly once (whoever takes its id out of the table settles it).
"""
from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import Future
from functools import partial
from typing import Any, Callable, Mapping

import cloudpickle

from parsl.app.errors import RemoteExceptionWrapper
from parsl.executors.errors import ExecutorShutdown

from ..errors import EngineLost
from .engines import Engines, engine_lost
from .worker import run_task

logger = logging.getLogger(__name__)


class Tasks:
    """The tasks of executor ``label`` in flight on a load-balanced view (set by :meth:`connect`)."""

    def __init__(self, label: str, engines: Engines) -> None:
        self.label = label
        self._engines = engines
        self._lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._ars: dict[int, Any] = {}  # task id -> ipyparallel AsyncResult of the current attempt
        self._ids = itertools.count()
        self._error_types: tuple[type, ...] = ()
        self.view: Any = None
        self.closed = False

    def connect(self, view: Any, engine_errors: tuple[type, ...]) -> None:
        """Send tasks through ``view``; ``engine_errors`` are ipyparallel's engine-loss errors."""
        self.view = view
        self._error_types = engine_errors

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""
        return len(self._pending)

    def submit(self, func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Future[Any]:
        payload = cloudpickle.dumps((func, args, kwargs))
        fut: Future[Any] = Future()
        tid = next(self._ids)
        with self._lock:
            self._pending[tid] = fut
        try:
            self._send(tid, fut, payload, 0)
        except BaseException:
            self._settle(tid)
            raise
        return fut

    def _settle(self, tid: int) -> bool:
        """Take task ``tid`` out of the table; True if this caller is the one to settle it."""
        with self._lock:
            self._ars.pop(tid, None)
            return self._pending.pop(tid, None) is not None

    def _send(self, tid: int, fut: Future[Any], payload: bytes, resends: int) -> None:
        view = self.view
        if view is None:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        ar = view.apply_async(run_task, payload)
        with self._lock:
            if tid in self._pending:
                self._ars[tid] = ar
        ar.add_done_callback(partial(self._done, tid, fut, payload, resends))

    def _done(self, tid: int, fut: Future[Any], payload: bytes, resends: int, ar: Any) -> None:
        try:
            exc = ar.exception()
            if exc is None:
                result = ar.result()
        except BaseException as e:  # a result that cannot be read
            exc = e
        if exc is None:
            if self._settle(tid):
                if isinstance(result, RemoteExceptionWrapper):
                    # the task's own exception, its remote traceback chained as __cause__
                    fut.set_exception(result.get_exception())
                else:
                    fut.set_result(result)
            return
        err = self._translate(exc, ar)
        # an engine this executor released itself (scale_in) is not the task's fault: send
        # the task again, once, instead of failing it
        if isinstance(err, EngineLost) and self._engines.released(err.uuid) and resends < 1 and not self.closed:
            with self._lock:
                still_pending = tid in self._pending
            if still_pending:
                try:
                    self._send(tid, fut, payload, resends + 1)
                    logger.info("executor %s: task %d resent: its engine %s was released by scale-in", self.label, tid, err.engine_id)
                    return
                except Exception:
                    pass
        if self._settle(tid):
            fut.set_exception(err)

    def _translate(self, exc: BaseException, ar: Any) -> BaseException:
        if isinstance(exc, self._error_types) or getattr(exc, "ename", "") == "EngineError":
            return engine_lost(exc, getattr(ar, "metadata", None) or {}, self._engines.known())
        return exc

    def engine_event(self, event: Mapping[str, Any]) -> None:
        """An engine unregistered (it died or was stopped): fail its running task now."""
        if self.closed or event.get("event") != "unregister" or "id" not in event:
            return  # engines stopped by shutdown: their tasks fail with ExecutorShutdown
        eid = int(event["id"])
        with self._lock:
            victims = [(tid, self._pending.get(tid)) for tid, ar in self._ars.items() if (getattr(ar, "metadata", None) or {}).get("engine_id") == eid]
        if not victims:
            return
        info = self._engines.find(eid)
        if info is not None and self._engines.released(info.uuid):
            return  # released by scale-in: the task is resent when its reply comes
        for tid, fut in victims:
            if fut is not None and self._settle(tid):
                lost = EngineLost(eid, info.host if info else None, info.pid if info else None, info.block if info else None, "the engine stopped answering heartbeats and was unregistered")
                lost.uuid = info.uuid if info else event.get("uuid")
                fut.set_exception(lost)

    def fail_waiting(self, err: BaseException) -> None:
        """No engine can run the tasks still waiting: abort them and fail them with ``err``."""
        with self._lock:
            waiting = [(tid, fut, self._ars.get(tid)) for tid, fut in self._pending.items()]
        if not waiting:
            return
        logger.error("executor %s: no block could be started and no engine is connected; failing %d waiting tasks: %s", self.label, len(waiting), err)
        for tid, fut, ar in waiting:
            if ar is not None:
                try:
                    ar.abort()
                except Exception:
                    pass
            if self._settle(tid):
                fut.set_exception(err)

    def close(self) -> None:
        """Send nothing more (tasks already out may still bring their results)."""
        self.closed = True
        self.view = None

    def fail_all(self, err: BaseException) -> None:
        """Fail every task left with ``err``."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._ars.clear()
        for fut in pending.values():
            if not fut.done():
                fut.set_exception(err)
