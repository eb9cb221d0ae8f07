"""Executors. The thread pool lives here; the others come from plugin distributions and are
imported only when asked for."""
import importlib
from typing import Any

_LAZY = {
    "ThreadPoolExecutor": "parsl.executors.threads",
    "ParslExecutor": "parsl.executors.base",
    "IPyParallelExecutor": "parsl.executors.ipp",
    "TurbineExecutor": "parsl.executors.swift_t",
}

__all__ = ["ParslExecutor", "ThreadPoolExecutor"]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(target), name)
