"""One worker: a process forked by the worker pool that runs tasks one after another.

::

    pool ──send_bytes(pickle([task, ...]))──▶ worker_loop
                                                 for each task, in order:
                                                    func = cache[fid] or cloudpickle.loads(fn)
                                                    run func(*args, **kwargs) (walltime: SIGALRM)
    pool ◀──send_bytes(pickle([result, ...]))────┘  (flushed at the end, and every few ms)

A task is ``(tid, fid, fn_bytes, arg_bytes, resources)``; a result is ``(tid, kind, payload)``
with ``kind`` :data:`OK` (the pickled return value) or :data:`FAILED` (a pickled
``RemoteExceptionWrapper``). The worker runs its batch in order, so when it dies the pool
knows the first task without a result was the one running and the rest never started.
The worker dies with its pool (``PR_SET_PDEATHSIG``) and exits on end-of-file.
"""
from __future__ import annotations

import ctypes
import os
import pickle
import signal
import sys
import time
from multiprocessing.connection import Connection
from typing import Any, Callable

OK = 0
FAILED = 1
WORKER_LOST = 2
MANAGER_LOST = 3
CANCELLED = 4

_FLUSH_AFTER = 0.005


class _Walltime(BaseException):
    """Raised inside the task by SIGALRM (a BaseException, so ``except Exception`` in the
    task cannot swallow it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _Walltime()


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except Exception:
            pass


def _dump(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        import cloudpickle

        return cloudpickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _failure(exc: BaseException) -> bytes:
    from parsl.app.errors import RemoteExceptionWrapper

    wrapped = RemoteExceptionWrapper(type(exc), exc, exc.__traceback__)
    try:
        return _dump(wrapped)
    except Exception:  # an exception that cannot travel: send its description instead
        from parsl.app.errors import AppException

        plain = AppException(f"{type(exc).__module__}.{type(exc).__qualname__}: {exc}")
        return _dump(RemoteExceptionWrapper(AppException, plain, exc.__traceback__))


def run_one(task: tuple[Any, ...], cache: dict[int, Callable[..., Any]]) -> tuple[int, int, bytes]:
    tid, fid, fn_bytes, arg_bytes, res = task
    try:
        func = cache.get(fid)
        if func is None:
            func = pickle.loads(fn_bytes)
            cache[fid] = func
        args, kwargs = pickle.loads(arg_bytes)
        walltime = res[2] if res else None
        if walltime:
            signal.setitimer(signal.ITIMER_REAL, walltime)
            try:
                value = func(*args, **kwargs)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        else:
            value = func(*args, **kwargs)
        try:
            return (tid, OK, _dump(value))
        except Exception as e:
            raise TypeError(f"the task's result of type {type(value).__name__} cannot be pickled: {e}") from e
    except _Walltime:
        from parsl.app.errors import AppTimeout

        try:
            raise AppTimeout(f"task exceeded its walltime of {res[2]} s", -1)
        except AppTimeout as e:
            return (tid, FAILED, _failure(e))
    except BaseException as e:  # the task's own failure (SystemExit too) travels back as data
        return (tid, FAILED, _failure(e))


def worker_loop(conn: Connection, worker_id: int) -> None:
    """Run batches from ``conn`` until end-of-file or a ``None`` batch; never returns."""
    die_with_parent()
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ["PARSL_WORKER_RANK"] = str(worker_id)
    cache: dict[int, Callable[..., Any]] = {}
    send, recv, clock = conn.send_bytes, conn.recv_bytes, time.monotonic
    code = 0
    try:
        while True:
            try:
                data = recv()
            except (EOFError, OSError):
                break
            batch = pickle.loads(data)
            if batch is None:
                break
            out = []
            last = clock()
            for task in batch:
                out.append(run_one(task, cache))
                if clock() - last > _FLUSH_AFTER:
                    send(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
                    out = []
                    last = clock()
            if out:
                send(pickle.dumps(out, protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:
            pass
        os._exit(code)
