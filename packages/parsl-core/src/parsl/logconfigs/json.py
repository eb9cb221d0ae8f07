"""``JSONLogging``: one JSON object per log record in ``<run dir>/parsl.jsonlog``."""
from __future__ import annotations

import json
import logging
import pathlib
from typing import Callable

from .base import LogConfig, attach

__all__ = ["JSONLogging"]


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
        return attach(handler, self.level, "parsl")

    def __repr__(self) -> str:
        return f"JSONLogging(level={logging.getLevelName(self.level)})"
