"""The log-configuration interface (upstream's ``parsl.logconfigs.base``)."""
from __future__ import annotations

import abc
import logging
import pathlib
from typing import Callable

__all__ = ["LogConfig", "attach"]


class LogConfig(abc.ABC):
    """How a DataFlowKernel sets up logging for its run."""

    @abc.abstractmethod
    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        """Attach handlers for a run whose directory is ``log_dir``; return the function
        that detaches them again."""


def attach(handler: logging.Handler, level: int, *names: str) -> Callable[[], None]:
    """Add ``handler`` at ``level`` to the loggers ``names`` (lowering a logger's level where
    it would drop the records); return the function that removes and closes it."""
    handler.setLevel(level)
    loggers = [logging.getLogger(n) for n in names]
    for lg in loggers:
        if lg.level == logging.NOTSET or lg.level > level:
            lg.setLevel(level)
        lg.addHandler(handler)

    def detach() -> None:
        for lg in loggers:
            lg.removeHandler(handler)
        handler.close()

    return detach
