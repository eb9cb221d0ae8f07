"""Errors of the DataFlowKernel, at their documented 0.5.0 import path ``parsl.dataflow.error``."""
from ..app.errors import DependencyError  # one class, at both of 0.5.0's paths
from ..errors import ConfigurationError, ParslError, WorkflowAborted


class DataFlowExceptions(ParslError):
    """Base class for all exceptions.

    Only to be invoked when only a more specific error is not available.
    """


class DuplicateTaskError(DataFlowExceptions):
    """Raised by the DataFlowKernel when it finds that a job with the same task-id has been
    launched before."""


class MissingFutError(DataFlowExceptions):
    """Raised when a particular future is not found within the dataflowkernel's datastructures.

    Deprecated.
    """


class InvalidTransition(DataFlowExceptions, RuntimeError):
    """A task was asked to move between two states that the life-cycle does not connect."""


class KernelClosed(DataFlowExceptions, RuntimeError):
    """An app was submitted to a DataFlowKernel that has been cleaned up."""


__all__ = [
    "ConfigurationError",
    "DataFlowExceptions",
    "DependencyError",
    "DuplicateTaskError",
    "InvalidTransition",
    "KernelClosed",
    "MissingFutError",
    "WorkflowAborted",
]
