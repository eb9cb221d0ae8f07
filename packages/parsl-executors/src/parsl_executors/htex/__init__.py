"""The high-throughput executor: a pilot-job executor for many short tasks over many nodes.

Names resolve lazily, so importing this package imports neither pyzmq nor the executor.
"""
import importlib
from typing import Any

_LAZY = {
    "HighThroughputExecutor": "parsl_executors.htex.executor",
    "WorkerLost": "parsl_executors.htex.errors",
    "ManagerLost": "parsl_executors.htex.errors",
    "InterchangeLost": "parsl_executors.htex.errors",
    "BlocksNeverConnected": "parsl_executors.htex.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(target), name)
