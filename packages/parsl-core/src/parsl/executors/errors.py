"""Executor errors, at their documented 0.5.0 import path ``parsl.executors.errors``."""
from __future__ import annotations

from ..errors import ParslError


class ExecutorError(ParslError):
    """Base class for all exceptions.

    Only to be invoked when only a more specific error is not available.
    """


class ControllerErr(ExecutorError):
    """Error raise by IPP controller."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"Controller init failed: reason: {self.reason}"


class ScalingFailed(ExecutorError):
    """Scaling failed due to error in Execution provider."""

    def __init__(self, sitename: str, reason: str) -> None:
        self.sitename = sitename
        self.reason = reason
        super().__init__(sitename, reason)

    def __str__(self) -> str:
        return f"Scaling of site {self.sitename!r} failed: {self.reason}"


class ExecutorShutdown(ExecutorError, RuntimeError):
    """A task was submitted to an executor that has been shut down."""


class BadMessage(ExecutorError):
    """A message from a worker or an interchange could not be understood."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"Received a bad message: {self.reason}"
