"""Executors. The thread pool lives here; the others come from plugin distributions and are
imported only when asked for (``parsl.executors.HighThroughputExecutor`` needs
``pip install 'parsl-executors[htex]'``)."""
from typing import Any

from .._lazy import Target, table_attr

_NEEDS_SERVICE = "it needs a scheduler service that is not packaged with this project"

_TABLE: dict[str, Target | str] = {
    "ThreadPoolExecutor": Target("parsl.executors.threads", "ThreadPoolExecutor"),
    "ParslExecutor": Target("parsl.executors.base", "ParslExecutor"),
    "IPyParallelExecutor": Target("parsl_executors.ipp", "IPyParallelExecutor", "parsl-executors", "ipp"),
    "HighThroughputExecutor": Target("parsl_executors.htex", "HighThroughputExecutor", "parsl-executors", "htex"),
    "TurbineExecutor": Target("parsl_executors.swift_t", "TurbineExecutor", "parsl-executors", "mpi"),
    "WorkQueueExecutor": f"Work Queue: {_NEEDS_SERVICE} (CCTools)",
    "FluxExecutor": f"Flux: {_NEEDS_SERVICE}",
    "MPIExecutor": "run MPI apps with TurbineExecutor (parsl-executors[mpi]) instead",
    "GlobusComputeExecutor": "Globus Compute is a cloud service this project does not reach",
    "ExtremeScaleExecutor": "retired upstream",
    "LowLatencyExecutor": "retired upstream",
}

__all__ = ["ParslExecutor", "ThreadPoolExecutor"]


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
