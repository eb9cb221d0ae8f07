"""Walltime for python apps: one watchdog thread for every timed call in the process.

::

    worker thread ── arm(deadline, abandon hook) ──▶ Watchdog heap ◀── watchdog thread sleeps
         │                                                              to the earliest deadline
         │◀────── async _WalltimeExpired ──────────────────────────────┤ at the deadline:
         │                                                              ├─ raise it in the worker
         │        task future ◀── AppTimeout ── abandon hook ◀──────────┘ (outside the lock)
         └─ disarm() (clears a pending async exception that lost the race)

Only calls whose app was given a walltime are timed; others pay nothing. At the deadline the
exception is raised asynchronously in the worker thread, so pure-Python code stops at once.
A call blocked inside C (``time.sleep``, a socket read) cannot be interrupted that way: it
stops when the C call returns. So that the task still fails at its deadline, an executor that
runs calls on its own threads registers an *abandon hook* for each worker thread
(:func:`set_abandon_hook`): the watchdog calls it with the :class:`AppTimeout`, and the hook
fails the task's future and lets a fresh thread take the stuck worker's place. Without a hook
(a call run elsewhere) the task fails when the blocked call returns, except in the main
thread of a process that leaves SIGALRM alone, such as a remote executor's worker: there a
timer signal interrupts the blocked call itself at the deadline.
"""
from __future__ import annotations

import ctypes
import heapq
import inspect
import itertools
import logging
import signal
import threading
import time
from typing import Any, Callable

from .errors import AppTimeout

logger = logging.getLogger(__name__)

#: called by the watchdog, under its lock, when a call on the thread outlives its walltime:
#: claims the running task (quickly, without blocking) and returns what then fails it
#: (called outside the lock with the AppTimeout), or None
AbandonHook = Callable[[], "Callable[[BaseException], None] | None"]


class _WalltimeExpired(BaseException):
    """Raised asynchronously in a thread whose call outlived its walltime (a BaseException,
    so a user's ``except Exception`` does not swallow it)."""


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)

_worker = threading.local()


def set_abandon_hook(hook: AbandonHook | None) -> None:
    """Register, for the calling worker thread, what to do when a timed call on it outlives
    its walltime. ``hook()`` runs under the watchdog's lock, before the worker can finish the
    call (its disarm waits for that lock), so the task it claims is the timed one; the
    callable it returns fails that task's future with the AppTimeout and lets the executor
    replace this thread (which stays busy until the blocked call returns)."""
    _worker.abandon = hook


def _timeout_error(name: str, walltime: float) -> AppTimeout:
    return AppTimeout(f"app {name} exceeded its walltime of {walltime} s", -1)


class _Token:
    __slots__ = ("abandon", "active", "fired", "name", "tid", "walltime")

    def __init__(self, tid: int, name: str, walltime: float, abandon: AbandonHook | None) -> None:
        self.tid = tid
        self.name = name
        self.walltime = walltime
        self.abandon = abandon
        self.active = True
        self.fired = False


class Watchdog:
    def __init__(self) -> None:
        # Worker threads take the plain lock with ``with self._lock``, whose acquire and release
        # are C calls: the asynchronous exception can reach a worker at any bytecode, and had it
        # arrived inside the Python methods of a Condition (its __enter__/__exit__), the lock
        # would stay held and every timed call of the process would hang. Only the watchdog's
        # own thread, which no timeout is ever raised in, goes through the Condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._heap: list[tuple[float, int, _Token]] = []
        self._seq = itertools.count()
        self._live = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, name: str = "app") -> _Token:
        token = _Token(threading.get_ident(), name, seconds, getattr(_worker, "abandon", None))
        deadline = time.monotonic() + seconds
        with self._lock:
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
        with self._lock:
            if token.active:
                token.active = False
                self._live -= 1
            fired = token.fired
        if fired:
            # the exception may still be pending on this thread: clear it
            _set_async_exc(token.tid, ctypes.py_object())  # type: ignore[arg-type]

    def _run(self) -> None:
        while True:
            expired, finish = self._next_expired()
            if finish is not None:
                try:
                    finish(_timeout_error(expired.name, expired.walltime))
                except Exception:
                    logger.exception("failing the task of timed-out app %s", expired.name)

    def _next_expired(self) -> tuple[_Token, Callable[[BaseException], None] | None]:
        """Wait for the earliest live deadline; raise the timeout in its thread and let its
        executor claim the task (both under the lock, so that a racing disarm() sees
        ``fired`` and clears the exception, and the claimed task is still the timed one)."""
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
                finish = None
                if token.abandon is not None:
                    try:
                        finish = token.abandon()
                    except Exception:
                        logger.exception("abandoning the task of timed-out app %s", token.name)
                return token, finish


_watchdog = Watchdog()


def _alarm_free() -> bool:
    """Whether this is the main thread of a process where nobody else uses SIGALRM (a worker
    process of a remote executor, say): then a timer signal can interrupt a blocked call."""
    return (
        getattr(_worker, "abandon", None) is None
        and threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)
    )


def _call_with_alarm(func: Callable[..., Any], walltime: float, name: str, args: Any, kwargs: Any) -> Any:
    armed = [True]

    def on_alarm(signum: int, frame: Any) -> None:
        if armed[0]:
            armed[0] = False
            raise _WalltimeExpired()

    try:
        try:
            signal.signal(signal.SIGALRM, on_alarm)
            signal.setitimer(signal.ITIMER_REAL, walltime)  # inside the try: it may fire at once
            return func(*args, **kwargs)
        finally:
            try:
                armed[0] = False
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, signal.SIG_DFL)
    except _WalltimeExpired:
        raise _timeout_error(name, walltime) from None


def call_with_walltime(func: Callable[..., Any], walltime: float, name: str, /, *args: Any, **kwargs: Any) -> Any:
    """Run ``func(*args, **kwargs)``; raise :class:`AppTimeout` if it outlives ``walltime``.

    In the main thread of a process that leaves SIGALRM alone (the worker process of a remote
    executor), a timer signal interrupts even a blocked call (``time.sleep``, most blocking
    I/O) at the deadline; elsewhere the watchdog thread does the work."""
    if _alarm_free():
        return _call_with_alarm(func, walltime, name, args, kwargs)
    token = None
    try:
        try:
            # armed inside the try: with a deadline of a few hundred µs the watchdog can fire
            # before arm() has returned, and the timeout must still become an AppTimeout
            token = _watchdog.arm(walltime, name)
            return func(*args, **kwargs)
        finally:
            if token is not None:
                _watchdog.disarm(token)
    except _WalltimeExpired:
        raise _timeout_error(name, walltime) from None


def check_walltime(value: Any, where: str = "walltime") -> float | None:
    """``value`` if it is a usable walltime (a positive number of seconds, or None for none)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
        from ..errors import ConfigurationError

        raise ConfigurationError(f"walltime must be a positive number of seconds or None, got {value!r}", where)
    return value


_VARKEYWORDS = inspect.CO_VARKEYWORDS


def walltime_parameter(func: Callable[..., Any]) -> tuple[bool, Any]:
    """Whether ``func`` takes a ``walltime`` keyword (by name or through ``**kwargs``), and the
    default of its ``walltime`` parameter (None when it has none)."""
    code = getattr(func, "__code__", None)
    if code is not None and "walltime" not in code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]:
        return bool(code.co_flags & _VARKEYWORDS), None
    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True, None
    p = params.get("walltime")
    if p is None or p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL):
        return any(q.kind is inspect.Parameter.VAR_KEYWORD for q in params.values()), None
    return True, None if p.default is inspect.Parameter.empty else p.default


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
