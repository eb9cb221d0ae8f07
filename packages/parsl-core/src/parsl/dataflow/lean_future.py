"""A ``concurrent.futures.Future`` that costs little until somebody waits on it.

``concurrent.futures.Future`` builds a ``threading.Condition`` in ``__init__`` (about 1.4 kB and
4 µs each). A workflow holds one future per task, most of which nobody ever blocks on, so this
subclass creates its condition only when a consumer first needs it (``result()``,
``exception()``, ``concurrent.futures.wait`` / ``as_completed``). State changes are serialised
by a small array of striped locks instead, which also guard the lazy creation, so a waiter
that arrives while the future completes either sees the final state or is woken.

It keeps the attributes ``concurrent.futures.wait`` and ``as_completed`` read (``_state``,
``_condition``, ``_waiters``), the producer methods apart from the consumer methods, and
callbacks invoked outside every lock, as ``concurrent.futures`` does.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import CancelledError, Future, InvalidStateError, TimeoutError
from typing import Any, Callable

logger = logging.getLogger(__name__)

PENDING = "PENDING"
RUNNING = "RUNNING"
CANCELLED = "CANCELLED"
CANCELLED_AND_NOTIFIED = "CANCELLED_AND_NOTIFIED"
FINISHED = "FINISHED"
_DONE_STATES = (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED)

_STRIPES = [threading.Lock() for _ in range(64)]



def _stripe(obj: object) -> threading.Lock:
    return _STRIPES[(id(obj) >> 4) & 63]


class LeanFuture(Future):  # type: ignore[type-arg]
    """Drop-in ``concurrent.futures.Future`` with a lazily built condition."""

    def __init__(self) -> None:  # deliberately no super().__init__(): it builds the condition
        self._state = PENDING
        self._result: Any = None
        self._exception: BaseException | None = None
        self._done_callbacks: list[Callable[[Any], Any]] = []

    # -- lazily built synchronisation, for consumers that block ---------------------------

    @property  # type: ignore[override]
    def _condition(self) -> threading.Condition:
        d = self.__dict__
        cond = d.get("_cond")
        if cond is None:
            with _stripe(self):
                cond = d.get("_cond")
                if cond is None:
                    cond = d["_cond"] = threading.Condition()
                    d["_waiters_list"] = []
        return cond

    @_condition.setter
    def _condition(self, value: threading.Condition) -> None:
        self.__dict__["_cond"] = value

    @property  # type: ignore[override]
    def _waiters(self) -> list[Any]:
        self._condition  # noqa: B018 - builds the list together with the condition
        return self.__dict__["_waiters_list"]

    @_waiters.setter
    def _waiters(self, value: list[Any]) -> None:
        self.__dict__["_waiters_list"] = value

    # -- consumer side --------------------------------------------------------------------

    def __repr__(self) -> str:
        state = self._state
        if state == FINISHED:
            if self._exception is not None:
                return f"<{type(self).__name__} at {id(self):#x} state=finished raised {type(self._exception).__name__}>"
            return f"<{type(self).__name__} at {id(self):#x} state=finished returned {type(self._result).__name__}>"
        return f"<{type(self).__name__} at {id(self):#x} state={state.lower()}>"

    def cancel(self) -> bool:
        with _stripe(self):
            if self._state in (RUNNING, FINISHED):
                return False
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return True
            self._state = CANCELLED
        self._wake()
        self._invoke_callbacks()
        return True

    def cancelled(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def running(self) -> bool:
        return self._state == RUNNING

    def done(self) -> bool:
        return self._state in _DONE_STATES

    def _outcome(self) -> Any:
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            raise CancelledError()
        if self._exception is not None:
            try:
                raise self._exception
            finally:
                self = None  # type: ignore[assignment]  # break the reference cycle
        return self._result

    def _wait_done(self, timeout: float | None) -> None:
        if self._state in _DONE_STATES:
            return
        cond = self._condition
        with cond:
            if self._state not in _DONE_STATES:
                cond.wait(timeout)
            if self._state not in _DONE_STATES:
                raise TimeoutError()

    def result(self, timeout: float | None = None) -> Any:
        self._wait_done(timeout)
        return self._outcome()

    def exception(self, timeout: float | None = None) -> BaseException | None:
        self._wait_done(timeout)
        if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
            raise CancelledError()
        return self._exception

    def add_done_callback(self, fn: Callable[[Any], Any]) -> None:
        with _stripe(self):
            if self._state not in _DONE_STATES:
                self._done_callbacks.append(fn)
                return
        try:
            fn(self)
        except Exception:
            logger.exception("exception calling callback for %r", self)

    # -- producer side: only for executors, the kernel and unit tests ---------------------

    def set_running_or_notify_cancel(self) -> bool:
        with _stripe(self):
            if self._state == CANCELLED:
                self._state = CANCELLED_AND_NOTIFIED
                notify = True
            elif self._state == PENDING:
                self._state = RUNNING
                return True
            else:
                raise RuntimeError(f"future in unexpected state {self._state}")
        if notify:
            cond = self.__dict__.get("_cond")
            if cond is not None:
                with cond:
                    for waiter in self._waiters:
                        waiter.add_cancelled(self)
        return False

    def set_result(self, result: Any) -> None:
        self._settle(result, None)

    def set_exception(self, exception: BaseException | None) -> None:
        self._settle(None, exception)

    def _settle(self, result: Any, exception: BaseException | None) -> None:
        with _stripe(self):
            if self._state in _DONE_STATES:
                raise InvalidStateError(f"{self._state}: {self!r}")
            self._result = result
            self._exception = exception
            self._state = FINISHED
        cond = self.__dict__.get("_cond")
        if cond is not None:
            with cond:
                for waiter in self._waiters:
                    if exception is None:
                        waiter.add_result(self)
                    else:
                        waiter.add_exception(self)
                cond.notify_all()
        self._invoke_callbacks()

    def _wake(self) -> None:
        cond = self.__dict__.get("_cond")
        if cond is not None:
            with cond:
                cond.notify_all()

    def _invoke_callbacks(self) -> None:
        callbacks = self._done_callbacks
        if not callbacks:
            return
        self._done_callbacks = []
        for fn in callbacks:
            try:
                fn(self)
            except Exception:
                logger.exception("exception calling callback for %r", self)
