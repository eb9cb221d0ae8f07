"""Walltime for python apps: one watchdog thread for every timed call in the process.

::

    worker thread ── arm(deadline) ──▶ Watchdog heap ◀── watchdog thread sleeps to the
         │                                                 earliest deadline, then raises
         │◀────── async _WalltimeExpired ─────────────────  _WalltimeExpired in the worker
         └─ disarm() (clears a pending async exception that lost the race)

The exception is delivered between bytecodes, so pure-Python code stops at once; a call
blocked inside C (``time.sleep``, a socket read) stops when that call returns. Either way
the task ends with :class:`~parsl.app.errors.AppTimeout`.
"""
from __future__ import annotations

import ctypes
import heapq
import itertools
import threading
import time
from typing import Any, Callable

from .errors import AppTimeout


class _WalltimeExpired(BaseException):
    """Raised asynchronously in a thread whose call outlived its walltime (a BaseException,
    so a user's ``except Exception`` does not swallow it)."""


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


class _Token:
    __slots__ = ("active", "fired", "tid")

    def __init__(self, tid: int) -> None:
        self.tid = tid
        self.active = True
        self.fired = False


class Watchdog:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Token]] = []
        self._seq = itertools.count()
        self._live = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> _Token:
        token = _Token(threading.get_ident())
        deadline = time.monotonic() + seconds
        with self._cond:
            heapq.heappush(self._heap, (deadline, next(self._seq), token))
            self._live += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="parsl-walltime", daemon=True)
                self._thread.start()
            if self._heap[0][2] is token:
                self._cond.notify()
            # drop dead entries when they are most of the heap
            if len(self._heap) > 1024 and self._live * 2 < len(self._heap):
                self._heap = [e for e in self._heap if e[2].active]
                heapq.heapify(self._heap)
        return token

    def disarm(self, token: _Token) -> None:
        with self._cond:
            if token.active:
                token.active = False
                self._live -= 1
            fired = token.fired
        if fired:
            # the exception may still be pending on this thread: clear it
            _set_async_exc(token.tid, ctypes.py_object())  # type: ignore[arg-type]

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and not self._heap[0][2].active:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._cond.wait()
                    continue
                deadline, _, token = self._heap[0]
                delay = deadline - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
                token.active = False
                token.fired = True
                self._live -= 1
                _set_async_exc(token.tid, ctypes.py_object(_WalltimeExpired))


_watchdog = Watchdog()


def call_with_walltime(func: Callable[..., Any], walltime: float, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)``; raise :class:`AppTimeout` if it outlives ``walltime``."""
    token = _watchdog.arm(walltime)
    try:
        try:
            return func(*args, **kwargs)
        finally:
            _watchdog.disarm(token)
    except _WalltimeExpired:
        raise AppTimeout(f"app {name} exceeded its walltime of {walltime} s", -1) from None


class TimedCall:
    """A picklable ``func`` with a walltime, as sent to an executor."""

    __slots__ = ("func", "name", "walltime")

    def __init__(self, func: Callable[..., Any], walltime: float, name: str) -> None:
        self.func = func
        self.walltime = walltime
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return call_with_walltime(self.func, self.walltime, self.name, *args, **kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (TimedCall, (self.func, self.walltime, self.name))
