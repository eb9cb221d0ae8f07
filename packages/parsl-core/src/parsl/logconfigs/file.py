"""``FileLogging``: the run's log as text in ``<run dir>/parsl.log``."""
from __future__ import annotations

import logging
import pathlib
from typing import Callable

from .base import LogConfig, attach

__all__ = ["FileLogging"]


class FileLogging(LogConfig):
    """Log the ``parsl`` logger (and ``concurrent.futures``, whose callback errors would be
    lost otherwise) to ``<log_dir>/<log_name>.log``."""

    def __init__(self, *, format_string: str | None = None, level: int = logging.DEBUG) -> None:
        from ..log_utils import DEFAULT_FORMAT

        self.format_string = format_string or DEFAULT_FORMAT
        self.level = level

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        log_dir = pathlib.Path(log_dir)
        log_dir.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(log_dir / f"{log_name}.log")
        handler.setFormatter(logging.Formatter(self.format_string))
        return attach(handler, self.level, "parsl", "concurrent.futures")

    def __repr__(self) -> str:
        return f"FileLogging(level={logging.getLevelName(self.level)})"
