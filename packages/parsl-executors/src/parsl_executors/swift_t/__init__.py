"""The Turbine (Swift/T-style) MPI executor and MPI apps (``parsl-executors[mpi]``).

0.5.0 paths: ``parsl.executors.swift_t.TurbineExecutor`` and ``parsl.executors.swift_t.runner``.
Importing this package imports neither mpi4py nor a provider; the ranks import mpi4py.
"""
from .errors import BlockFailed, RankZeroLost
from .executor import TurbineExecutor
from .launch import mpi_launcher
from .mpi_apps import MpiSpec, spec_from_kwargs
from .tasks import MpiAppFailed, runner

__all__ = ["BlockFailed", "MpiAppFailed", "MpiSpec", "RankZeroLost", "TurbineExecutor", "mpi_launcher", "runner", "spec_from_kwargs"]
