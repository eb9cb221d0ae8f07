"""Errors of data staging."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ParslError


def redact(url: str) -> str:
    """``url`` with any password in it replaced by ``***`` (for messages and reprs)."""
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


class StagingError(ParslError):
    """Moving a file failed. ``url`` is the file's URL (any password hidden), ``direction``
    ``'in'`` or ``'out'``, ``reason`` what the transfer reported."""

    def __init__(self, url: str, direction: str, reason: str) -> None:
        self.url = redact(url)
        self.direction = direction
        self.reason = reason
        super().__init__(f"staging {direction} {self.url} failed: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.url, self.direction, self.reason))
