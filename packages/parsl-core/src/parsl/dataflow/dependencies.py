"""The dependencies of a task that ended badly. Which futures are dependencies, and how they are
replaced by their results, is up to :mod:`parsl.dataflow.dependency_resolvers`."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any


def failed_parents(deps: list[Future[Any]]) -> list[tuple[Future[Any], BaseException]]:
    """The dependencies that ended in an exception (or were cancelled), with the exception."""
    out: list[tuple[Future[Any], BaseException]] = []
    for d in deps:
        if d.cancelled():
            from concurrent.futures import CancelledError

            out.append((d, CancelledError(f"dependency {d!r} was cancelled")))
            continue
        exc = d.exception()
        if exc is not None:
            out.append((d, exc))
    return out
