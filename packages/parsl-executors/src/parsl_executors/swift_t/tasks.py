"""Running one task from its message, on a worker rank or in :func:`runner`.

A task message is ``{"task_id": <id>, "buffer": <cloudpickled (func, args, kwargs)>}``; the
reply is ``{"task_id": <id>, "result": <pickled result>}`` or ``{"task_id": <id>,
"exception": <pickled RemoteExceptionWrapper>}`` (§6.5.7 of the 0.5.0 guide). An MPI app's
message also carries ``"mpi": (num_ranks, num_nodes, nodes, launcher, options)``.
"""
from __future__ import annotations

import os
import pickle
import queue
import signal
import subprocess
import sys
import tempfile
from typing import Any

from .mpi_apps import MpiSpec, app_environment, python_command


class MpiAppFailed(RuntimeError):
    """A python MPI app's job ended without results (a rank crashed or the launch failed)."""


def _wrap(e: BaseException) -> Any:
    from parsl.app.errors import RemoteExceptionWrapper

    return RemoteExceptionWrapper(type(e), e, e.__traceback__)


def run_buffer(buffer: bytes, mpi: tuple[Any, ...] | None = None, work_dir: str | None = None) -> tuple[str, bytes]:
    """Run one task; return ``("result", pickled value)`` or ``("exception", pickled wrapper)``."""
    try:
        func, args, kwargs = pickle.loads(buffer)
        value = func(*args, **kwargs) if mpi is None else _run_mpi(func, args, kwargs, buffer, mpi, work_dir)
        try:
            return "result", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:
            raise TypeError(f"the task's result ({type(value).__name__}) cannot be pickled: {e}") from e
    except BaseException as e:  # the task's failure travels as data
        return "exception", pickle.dumps(_wrap(e), protocol=pickle.HIGHEST_PROTOCOL)


def _run_mpi(func: Any, args: Any, kwargs: Any, buffer: bytes, mpi: tuple[Any, ...], work_dir: str | None) -> Any:
    from parsl.app.bash import BashCall

    ranks, nodes_wanted, nodes, launcher, options = mpi
    spec = MpiSpec(ranks, nodes_wanted)
    env = app_environment(os.environ, launcher, spec, nodes, options)
    if isinstance(func, BashCall):
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
        try:
            return func(*args, **kwargs)
        finally:
            os.environ.clear()
            os.environ.update(saved)
    # a python app: its own MPI job, every rank runs the function under mpi4py
    where = work_dir or tempfile.gettempdir()
    os.makedirs(where, exist_ok=True)
    fd, infile = tempfile.mkstemp(prefix="mpi-app-", suffix=".in", dir=where)
    outfile = infile[: -len(".in")] + ".out"
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(buffer)
        cmd = python_command(env["PARSL_MPI_PREFIX"], sys.executable, infile, outfile)
        proc = subprocess.Popen(
            cmd, shell=True, executable="/bin/bash", env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
        )
        _apps.add(proc)
        try:
            _out, err = proc.communicate()
        finally:
            _apps.discard(proc)
        try:
            with open(outfile, "rb") as f:
                per_rank = pickle.load(f)
        except FileNotFoundError:
            tail = err.decode(errors="replace")[-2000:].strip()
            raise MpiAppFailed(f"the MPI job of {ranks} ranks exited with code {proc.returncode} without results: {tail}") from None
    finally:
        for p in (infile, outfile):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass
    for kind, value in per_rank:
        if kind == "exception":
            value.reraise()
    return [value for _kind, value in per_rank]


# python MPI apps running now (each leads its own process group)
_apps: set[subprocess.Popen[bytes]] = set()


def kill_apps() -> None:
    """Kill every command a task of this rank started and is still running (bash apps and
    python MPI apps), so a cancelled block leaves none behind."""
    from parsl.app.bash import kill_running

    kill_running()
    for proc in list(_apps):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reply(task_id: Any, kind: str, data: bytes) -> dict[str, Any]:
    return {"task_id": task_id, kind: data}


def runner(incoming_q: queue.Queue[Any], outgoing_q: queue.Queue[Any]) -> None:
    """This is a function that mocks the Swift-T side.

    It listens on ``incoming_q`` for ``{"task_id", "buffer"}`` messages, runs each and posts
    ``{"task_id", "result"}`` or ``{"task_id", "exception"}`` on ``outgoing_q``. ``None`` on
    ``incoming_q`` stops it; on exiting it posts ``None`` on ``outgoing_q``.
    """
    try:
        while True:
            msg = incoming_q.get()
            if msg is None:
                break
            kind, data = run_buffer(msg["buffer"])
            outgoing_q.put(reply(msg["task_id"], kind, data))
    finally:
        outgoing_q.put(None)
