"""What runs on an IPython Parallel engine: unpickle one task, run it, return its result.

Kept tiny and importable on its own, so an engine loads only this and the task's code.
A task's exception comes back as data (a :class:`~parsl.app.errors.RemoteExceptionWrapper`),
which the kernel turns back into the original exception with the remote traceback as its
``__cause__``.
"""
from __future__ import annotations

import os
import pickle
import socket
from typing import Any


def run_task(payload: bytes) -> Any:
    """Run ``func(*args, **kwargs)`` from a cloudpickled ``(func, args, kwargs)``."""
    try:
        func, args, kwargs = pickle.loads(payload)
        return func(*args, **kwargs)
    except BaseException as e:  # the task's failure travels as data
        from parsl.app.errors import RemoteExceptionWrapper

        return RemoteExceptionWrapper(type(e), e, e.__traceback__)


def identity() -> tuple[str, int, str]:
    """``(hostname, pid, block id)`` of this engine (the block id is set by the launch command)."""
    return socket.gethostname(), os.getpid(), os.environ.get("PARSL_IPP_BLOCK", "")
