"""The monitoring interface: what a workflow tells an observer about itself.

::

    kernel threads ── task / launch / try / state ──▶ TaskFeed    (hot path: packed rows; a
                      / failed                            │         short task is one row)
    Monitor (its own thread) ◀── drain() every so often ──┘ ──▶ batches ──▶ its store
    executor ── block_event(executor, block, event) ──▶ Monitor          (rare: a method call)
    kernel ── close() ──────────────────────────────▶ Monitor          (drain the rest; idempotent)

Off by default, and then free: the kernel holds ``None`` and tests it once per transition.
``Config(monitoring=True)`` loads the ``parsl.monitoring`` plugin named ``sqlite`` (from the
``parsl-monitoring`` distribution); a :class:`Monitor` instance is used as given.

Why a feed rather than a monitor method per event: a workflow of no-op tasks makes about
25 µs of kernel work per task on one core, and monitoring may cost at most a tenth of it. The
feed (:mod:`parsl.interfaces.task_feed`) packs each event into a few bytes that the garbage
collector never looks at; the monitor's thread unpacks them in batches, off the hot path.

Where and when a try ran is noted on the worker: executors that run tasks in the script's own
process note it themselves (``times_runs``, see :class:`~parsl.interfaces.ParslExecutor`); for
the others the kernel sends each try through :class:`MonitoredCall`, which brings the host,
pid and times back with the result (or on the exception, as its ``parsl_run_info`` attribute).
"""
from __future__ import annotations

import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, NamedTuple

from .task_feed import TaskFeed


class RunInfo(NamedTuple):
    """Where and when one try of a task ran, as seen by the worker (a tuple: cheap to make on
    every task and to send back with its result)."""

    host: str
    pid: int
    started: float  # time.time() on the worker
    ended: float
    exit_code: int | None = None  # for bash apps: the command's exit code
    thread: str = ""  # the worker thread's name, when the worker is a thread of a process


class Monitor(ABC):
    """An observer of one workflow run.

    The kernel writes its tasks' events into :attr:`feed` (a :class:`TaskFeed`) and the monitor
    drains it on its own schedule; executors call :meth:`block_event`. Nothing here may block
    the kernel or raise into it."""

    def __init__(self) -> None:
        self.feed = TaskFeed()

    @abstractmethod
    def start(self, run_id: str, run_dir: str) -> None:
        """Called once, when the kernel has made its run directory; start draining the feed."""

    def block_event(self, executor: str, block_id: str, event: str, detail: str = "") -> None:
        """A block or worker of ``executor`` changed: ``submitted``, ``running``, ``failed``,
        ``released``, ``worker_lost``..."""

    def progress(self) -> tuple[int, int]:
        """``(finished, submitted)`` task counts so far, for progress displays."""
        return (0, 0)

    def progress_display(self) -> Callable[[], None] | None:
        """Start showing progress while the kernel waits for tasks (when a terminal or a
        notebook is attached); return the function that stops it, or None."""
        return None

    def close(self) -> None:
        """Drain the feed one last time, flush and release everything; idempotent."""


def report_block(monitor: Monitor | None, executor: str, block_id: str, event: str, detail: str = "") -> None:
    """Tell ``monitor`` (the ``monitor`` of an executor's :class:`ExecutorContext`, None when
    monitoring is off) about a block event; never raises into the executor."""
    if monitor is None:
        return
    try:
        monitor.block_event(executor, str(block_id), event, detail)
    except Exception:  # an observer must not break the executor it observes
        pass


_HOST: str | None = None
_PID: int | None = None
_MAIN = threading.main_thread()
_time = time.time
_current_thread = threading.current_thread
_new_tuple = tuple.__new__


def _host() -> str:
    global _HOST
    if _HOST is None:
        _HOST = socket.gethostname()
    return _HOST


def _pid() -> int:
    global _PID
    if _PID is None:
        _PID = os.getpid()
    return _PID


def _forget_pid() -> None:
    global _PID
    _PID = None


os.register_at_fork(after_in_child=_forget_pid)


class MonitoredRun(NamedTuple):
    """What :class:`MonitoredCall` returns on success: the value and where it was made."""

    value: Any
    info: RunInfo


class MonitoredCall:
    """``func`` run on a worker, noting the host, pid, thread and times of the run (picklable
    when ``func`` is). The success path runs per task, so it builds its tuples directly."""

    __slots__ = ("bash", "func")

    def __init__(self, func: Callable[..., Any], bash: bool = False) -> None:
        self.func = func
        self.bash = bash  # a bash app: success means exit code 0

    def __call__(self, *args: Any, **kwargs: Any) -> MonitoredRun:
        started = _time()
        try:
            value = self.func(*args, **kwargs)
        except BaseException as e:
            code = getattr(e, "exitcode", None)
            try:
                e.parsl_run_info = _run_info(started, code if isinstance(code, int) else None)  # type: ignore[attr-defined]
            except Exception:  # an exception type that refuses new attributes
                pass
            raise
        t = _current_thread()
        info = _new_tuple(RunInfo, (_HOST or _host(), _PID or _pid(), started, _time(), 0 if self.bash else None, "" if t is _MAIN else t.name))
        return _new_tuple(MonitoredRun, (value, info))  # type: ignore[no-any-return]

    def __getstate__(self) -> tuple[Callable[..., Any], bool]:
        return (self.func, self.bash)

    def __setstate__(self, state: tuple[Callable[..., Any], bool]) -> None:
        self.func, self.bash = state

    def __repr__(self) -> str:
        return f"MonitoredCall({self.func!r})"


def _run_info(started: float, exit_code: int | None) -> RunInfo:
    t = _current_thread()
    return RunInfo(_host(), _pid(), started, _time(), exit_code, "" if t is _MAIN else t.name)

