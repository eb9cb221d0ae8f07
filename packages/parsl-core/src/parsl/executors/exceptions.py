"""Executor exceptions, at their documented 0.5.0 import path ``parsl.executors.exceptions``."""
from __future__ import annotations

from ..errors import ParslError


class ExecutorException(ParslError):
    """Base class for all exceptions.

    Only to be invoked when only a more specific error is not available.
    """


class TaskExecException(ExecutorException):
    """Task execution raised an error in the remote process."""
