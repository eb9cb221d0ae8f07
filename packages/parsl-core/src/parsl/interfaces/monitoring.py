"""The monitoring interface: what a workflow tells an observer about itself.

::

    kernel ── task_submitted(id, app, deps) ─────────▶ Monitor   (hot path: record only,
           ── task_state(id, state, try, executor) ──▶            never block, never raise)
           ── task_ran(id, try, RunInfo) ────────────▶            (where and when it ran)
           ── task_failed(id, exception) ────────────▶            (why it ended badly)
    executor ─ block_event(executor, block, event) ──▶            (blocks and workers)
    kernel ── close() ───────────────────────────────▶            (flush; idempotent)

Off by default, and then free: the kernel holds ``None`` and tests it once per transition.
``Config(monitoring=True)`` loads the ``parsl.monitoring`` plugin named ``sqlite`` (from the
``parsl-monitoring`` distribution); a :class:`Monitor` instance is used as given.

When a monitor is on, the kernel runs each task through :class:`MonitoredCall`, which notes the
host, pid and start and end times on the worker and brings them back with the result (or on
the exception, as its ``parsl_run_info`` attribute), whatever executor ran it.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple


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
    """An observer of one workflow run. Every method is called from the kernel's hot path
    or an executor's threads: implementations record and return; they never block or raise."""

    def start(self, run_id: str, run_dir: str) -> None:
        """Called once, when the kernel has made its run directory."""

    @abstractmethod
    def task_submitted(self, task_id: int, app_name: str, depends_on: Sequence[int]) -> None:
        """A task was created (state ``pending``); ``depends_on`` are its parents' ids."""

    @abstractmethod
    def task_state(self, task_id: int, state: str, try_number: int, executor: str | None) -> None:
        """A task entered ``state`` (a :class:`parsl.dataflow.states.States` value)."""

    def task_failed(self, task_id: int, error: BaseException) -> None:
        """A task ended with ``error`` (after its last try, or because a parent failed)."""

    def task_ran(self, task_id: int, try_number: int, info: RunInfo) -> None:
        """One try of a task ran on a worker (reported when the kernel learns its outcome)."""

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
        """Flush and release everything; idempotent."""


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
