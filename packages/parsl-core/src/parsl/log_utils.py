"""Logging helpers (``parsl.set_stream_logger`` / ``parsl.set_file_logger``).

By default Parsl logs nothing to the console; a DataFlowKernel writes a compact INFO log to
``<run_dir>/parsl.log``. Per-task lines are DEBUG and off unless asked for.

Both helpers return the handler they attached. It is also callable: calling it detaches it
again (today's upstream returns such a callable; 0.5.0 scripts ignore the return value).
"""
from __future__ import annotations

import logging
from typing import IO, Any

DEFAULT_FORMAT = "%(asctime)s %(name)s:%(lineno)d [%(levelname)s] %(message)s"
COMPACT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _Detachable:
    """Mixin for a handler that knows the loggers it was attached to."""

    _attached: list[logging.Logger]

    def __call__(self) -> None:
        """Detach this handler from the loggers it was added to, and close it."""
        handler: Any = self
        for lg in self._attached:
            lg.removeHandler(handler)
        self._attached = []
        handler.close()


class StreamLogHandler(_Detachable, logging.StreamHandler):  # type: ignore[type-arg]
    """What :func:`set_stream_logger` returns: a StreamHandler; call it to detach it."""


class FileLogHandler(_Detachable, logging.FileHandler):
    """What :func:`set_file_logger` returns: a FileHandler; call it to detach it."""


def _attach(handler: StreamLogHandler | FileLogHandler, name: str, level: int, format_string: str | None) -> None:
    logger = logging.getLogger(name)
    logger.setLevel(level)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(format_string or DEFAULT_FORMAT))
    logger.addHandler(handler)
    handler._attached = [logger]
    if name == "parsl":
        # errors raised inside future callbacks are logged there and would be lost otherwise
        futures_logger = logging.getLogger("concurrent.futures")
        futures_logger.addHandler(handler)
        handler._attached.append(futures_logger)


def set_stream_logger(
    name: str = "parsl", level: int = logging.DEBUG, format_string: str | None = None, stream: IO[str] | None = None
) -> StreamLogHandler:
    """Add a stream log handler.

    Args:
        name (string) : Set the logger name.
        level (logging.LEVEL) : Set to logging.DEBUG by default.
        format_string (string) : Set to None by default.
        stream : where to write (``sys.stdout``, ``sys.stderr``...); default stderr.

    Returns: the handler; calling it detaches it.
    """
    handler = StreamLogHandler(stream)
    _attach(handler, name, level, format_string)
    return handler


def set_file_logger(filename: str, name: str = "parsl", level: int = logging.DEBUG, format_string: str | None = None) -> FileLogHandler:
    """Add a file log handler.

    Args:
        filename (string): Name of the file to write logs to
        name (string): Logger name
        level (logging.LEVEL): Set the logging level.
        format_string (string): Set the format string

    Returns: the handler; calling it detaches it.
    """
    handler = FileLogHandler(filename)
    _attach(handler, name, level, format_string)
    return handler
