"""``NoopLogging``: the kernel sets up no logging (the embedding application does)."""
from __future__ import annotations

import pathlib
from typing import Callable

from .base import LogConfig

__all__ = ["NoopLogging"]


def _nothing() -> None:
    return None


class NoopLogging(LogConfig):
    """Set up no logging at all."""

    def initialize_logging(self, *, log_dir: pathlib.Path, log_name: str) -> Callable[[], None]:
        return _nothing

    def __repr__(self) -> str:
        return "NoopLogging()"
