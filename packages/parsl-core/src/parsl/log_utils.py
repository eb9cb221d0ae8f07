"""Logging helpers (0.5.0 ``parsl.set_stream_logger`` / ``parsl.set_file_logger``).

By default Parsl logs nothing to the console; a DataFlowKernel writes a compact INFO log to
``<run_dir>/parsl.log``. Per-task lines are DEBUG and off unless asked for.
"""
from __future__ import annotations

import logging

DEFAULT_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s] %(message)s"
COMPACT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def set_stream_logger(name: str = "parsl", level: int = logging.DEBUG, format_string: str | None = None) -> logging.Handler:
    """Add a stream log handler.

    Args:
        name (string) : Set the logger name.
        level (logging.LEVEL) : Set to logging.DEBUG by default.
        format_string (string) : Set to None by default.
    """
    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler = logging.StreamHandler()
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT))
    logger.addHandler(handler)
    return handler


def set_file_logger(filename: str, name: str = "parsl", level: int = logging.DEBUG, format_string: str | None = None) -> logging.Handler:
    """Add a file log handler.

    Args:
        filename (string): Name of the file to write logs to
        name (string): Logger name
        level (logging.LEVEL): Set the logging level.
        format_string (string): Set the format string
    """
    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler = logging.FileHandler(filename)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT))
    logger.addHandler(handler)
    return handler
