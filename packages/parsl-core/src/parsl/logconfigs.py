"""Log configurations for ``Config(initialize_logging=...)`` (upstream's ``parsl.logconfigs``).

::

    DataFlowKernel start ── log_config.initialize_logging(log_dir=<run dir>, log_name="parsl")
                             ──▶ handlers attached, returns detach()
    DataFlowKernel cleanup ── detach()

``FileLogging`` writes ``<run dir>/parsl.log``, ``JSONLogging`` writes one JSON object per
line to ``<run dir>/parsl.jsonlog``, ``NoopLogging`` writes nothing. ``initialize_logging=True``
is the kernel's compact INFO log in ``parsl.log``; ``False`` is ``NoopLogging``. Write your
own by subclassing :class:`LogConfig`.
"""
from __future__ import annotations

import abc
import json
import logging
import pathlib
from typing import Callable

__all__ = ["FileLogging", "JSONLogging", "LogConfig", "NoopLogging"]


class LogConfig(abc.ABC):
    """How a DataFlowKernel sets up logging for its run."""

    @abc.abstractmethod
    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        """Attach handlers for a run whose directory is ``log_dir``; return the function
        that detaches them again."""


def _attach(handler: logging.Handler, level: int, *names: str) -> Callable[[], None]:
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


class FileLogging(LogConfig):
    """Log the ``parsl`` logger (and ``concurrent.futures``, whose callback errors would be
    lost otherwise) to ``<log_dir>/<log_name>.log``."""

    def __init__(self, *, format_string: str | None = None, level: int = logging.DEBUG) -> None:
        from .log_utils import DEFAULT_FORMAT

        self.format_string = format_string or DEFAULT_FORMAT
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        log_dir = pathlib.Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / f"{log_name}.log")
        handler.setFormatter(logging.Formatter(self.format_string))
        return _attach(handler, self.level, "parsl", "concurrent.futures")

    def __repr__(self) -> str:
        return f"FileLogging(level={logging.getLevelName(self.level)})"


class _JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event = {
            "created": record.created,
            "level": record.levelname,
            "name": record.name,
            "message": record.getMessage(),
            "thread": record.threadName,
            "process": record.process,
        }
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, default=repr)


class JSONLogging(LogConfig):
    """Log every record of the ``parsl`` logger as one JSON object per line to
    ``<log_dir>/<log_name>.jsonlog``."""

    def __init__(self, *, level: int = logging.DEBUG) -> None:
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        log_dir = pathlib.Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / f"{log_name}.jsonlog")
        handler.setFormatter(_JSONFormatter())
        return _attach(handler, self.level, "parsl")

    def __repr__(self) -> str:
        return f"JSONLogging(level={logging.getLevelName(self.level)})"


class NoopLogging(LogConfig):
    """Set up no logging at all (the embedding application configures it)."""

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        return lambda: None

    def __repr__(self) -> str:
        return "NoopLogging()"
