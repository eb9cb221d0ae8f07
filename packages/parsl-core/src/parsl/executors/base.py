"""0.5.0 import path of the executor interface."""
from ..interfaces.executor import ExecutorContext, ParslExecutor

__all__ = ["ExecutorContext", "ParslExecutor"]
