"""The process-wide "current" DataFlowKernel behind ``parsl.load``, ``parsl.dfk`` and
``parsl.clear``, and the one that apps without an explicit kernel use.

A kernel built directly (the 0.5.0 way, ``DataFlowKernel(config=...)``) also becomes current,
so an app decorated for a kernel that has since been cleaned up runs on the newest live one
(the 0.5.0 tutorial's checkpoint-restart cell relies on this).
"""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, NoDataFlowKernelError

if TYPE_CHECKING:
    from ..config import Config
    from .dflow import DataFlowKernel

_lock = threading.Lock()
_current: DataFlowKernel | None = None
_loaded: DataFlowKernel | None = None


def _became_live(dfk: DataFlowKernel) -> None:
    global _current
    with _lock:
        _current = dfk


def _closed(dfk: DataFlowKernel) -> None:
    global _current, _loaded
    with _lock:
        if _current is dfk:
            _current = None
        if _loaded is dfk:
            _loaded = None


def load(config: Config | dict[str, Any] | None = None) -> DataFlowKernel:
    """Start a DataFlowKernel from ``config`` and make it current. Returns the kernel, which is
    also a context manager: ``with parsl.load(config): ...`` cleans up on exit."""
    from .dflow import DataFlowKernel

    global _loaded
    with _lock:
        if _loaded is not None and not _loaded.closed:
            raise ConfigurationError(
                "a DataFlowKernel is already loaded; call parsl.dfk().cleanup() and parsl.clear() before loading another"
            )
    dfk = DataFlowKernel(config=config)
    with _lock:
        _loaded = dfk
    return dfk


def dfk() -> DataFlowKernel:
    """The currently loaded DataFlowKernel."""
    return current_dfk()


def current_dfk() -> DataFlowKernel:
    k = _current
    if k is None or k.closed:
        raise NoDataFlowKernelError("no DataFlowKernel is loaded: call parsl.load(config) (or build a DataFlowKernel) first")
    return k


def current_or_none() -> DataFlowKernel | None:
    k = _current
    return None if k is None or k.closed else k


def clear() -> None:
    """Forget the loaded DataFlowKernel (it is not cleaned up; call ``cleanup()`` for that)."""
    global _loaded, _current
    with _lock:
        if _current is _loaded:
            _current = None
        _loaded = None


def wait_for_current_tasks() -> None:
    """Block until every task of the current kernel has finished."""
    current_dfk().wait_for_current_tasks()


class DataFlowKernelLoader:
    """Which DataFlowKernel is active (upstream's class-method API, also at
    ``parsl.dataflow.dflow.DataFlowKernelLoader``; the same functions as ``parsl.load``,
    ``parsl.dfk``, ``parsl.clear`` and ``parsl.wait_for_current_tasks``)."""

    @classmethod
    def clear(cls) -> None:
        """Forget the loaded kernel so that another can be loaded (it is not cleaned up)."""
        clear()

    @classmethod
    def load(cls, config: Config | dict[str, Any] | None = None) -> DataFlowKernel:
        """Load a kernel from ``config`` and make it the active one."""
        return load(config)

    @classmethod
    def wait_for_current_tasks(cls) -> None:
        """Wait for every task of the active kernel to finish."""
        wait_for_current_tasks()

    @classmethod
    def dfk(cls) -> DataFlowKernel:
        """The active kernel (NoDataFlowKernelError if none is loaded)."""
        return dfk()
