"""The DataFlowKernel's errors at today's upstream import path ``parsl.dataflow.errors``.

The classes are the same objects as at their 0.5.0 paths (``parsl.dataflow.error``,
``parsl.app.errors``), so ``except`` clauses written for either path catch them.
"""
from ..app.errors import DependencyError, JoinError, PropagatedException
from ..errors import ConfigurationError
from .checkpoint_store import BadCheckpoint
from .error import DataFlowExceptions, DuplicateTaskError, InvalidTransition, KernelClosed, MissingFutError

#: upstream's spelling of the base class (0.5.0: ``DataFlowExceptions``)
DataFlowException = DataFlowExceptions

__all__ = [
    "BadCheckpoint",
    "ConfigurationError",
    "DataFlowException",
    "DataFlowExceptions",
    "DependencyError",
    "DuplicateTaskError",
    "InvalidTransition",
    "JoinError",
    "KernelClosed",
    "MissingFutError",
    "PropagatedException",
]
