"""0.5.0 path of the Swift/Turbine executor, which lives in ``parsl-executors[mpi]``."""
from typing import Any

from .._lazy import plugin_attr

_ATTRS = frozenset({"TurbineExecutor", "runner"})


def __getattr__(name: str) -> Any:
    return plugin_attr(__name__, name, "parsl_executors.swift_t", _ATTRS, "parsl-executors", "mpi")
