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
    "UnfinishableTask",
    "WorkflowAborted",
]


class UnfinishableTask(KernelClosed):
    """The kernel was cleaned up while a task still waited for a future that nothing in the
    kernel would ever complete (a plain ``concurrent.futures.Future`` never set, say).
    ``waiting_for`` holds the repr of that future."""

    def __init__(self, task_id: int, func_name: str, waiting_for: str, waited: float) -> None:
        self.task_id = task_id
        self.func_name = func_name
        self.waiting_for = waiting_for
        self.waited = waited
        super().__init__(
            f"task {task_id} ({func_name}) can never finish: the DataFlowKernel was cleaned up while it still waited for "
            f"{waiting_for}, which was not completed within {waited:g} s after all other work had ended"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.task_id, self.func_name, self.waiting_for, self.waited))
