"""Launchers at today's upstream import path: ``from parsl.launchers import SrunLauncher``
imports the class from ``libsubmit.launchers.classes`` when asked (``pip install libsubmit``)."""
from typing import Any

from .._lazy import Target, table_attr

_NAMES = (
    "Launcher",
    "SimpleLauncher",
    "SingleNodeLauncher",
    "SrunLauncher",
    "SrunMPILauncher",
    "AprunLauncher",
    "GnuParallelLauncher",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "JsrunLauncher",
    "WrappedLauncher",
)
_TABLE: dict[str, Target | str] = {n: Target("libsubmit.launchers.classes", n, "libsubmit") for n in _NAMES}

__all__ = sorted(_NAMES)


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
