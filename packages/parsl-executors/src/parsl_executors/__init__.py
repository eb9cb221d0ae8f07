"""Parsl executors beyond threads: IPython Parallel pilot jobs, high-throughput and MPI executors, and block scaling.

Names resolve lazily, so ``import parsl_executors`` imports no optional dependency.
"""
import importlib
from typing import Any

_LAZY = {
    "IPyParallelExecutor": "parsl_executors.ipp.executor",
    "Controller": "parsl_executors.ipp.controller",
    "EngineLost": "parsl_executors.errors",
    "HighThroughputExecutor": "parsl_executors.htex.executor",
    "ManagerLost": "parsl_executors.htex.errors",
    "WorkerLost": "parsl_executors.errors",
    "TurbineExecutor": "parsl_executors.swift_t",
    "Strategy": "parsl_executors.scaling",
    "FlowControl": "parsl_executors.scaling",
    "FlowNoControl": "parsl_executors.scaling",
    "Timer": "parsl_executors.scaling",
    "ScalingPolicy": "parsl_executors.scaling",
    "BlockScalable": "parsl_executors.scaling",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source of truth: the distribution's metadata
        from importlib import metadata

        return metadata.version("parsl-executors")
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(target), name)
