"""The small tasks behind lifted futures: ``fut[key]`` and ``fut.attr`` on an AppFuture.

::

    fut[key] ──▶ kernel._lift(fut, "getitem", key) ──▶ task getitem(fut, key)
                 (fut is its dependency; it runs on the kernel's internal threads)
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..app.app import PythonApp

if TYPE_CHECKING:
    from .dflow import DataFlowKernel


def getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def getattribute(obj: Any, name: str) -> Any:
    return getattr(obj, name)


_OPS = {"getitem": getitem, "getattr": getattribute}


class InternalApp(PythonApp):
    """A python app that runs on the kernel's internal threads."""

    internal = True


def lifting_app(op: str, dfk: DataFlowKernel) -> InternalApp:
    return InternalApp(_OPS[op], dfk, walltime=None)
