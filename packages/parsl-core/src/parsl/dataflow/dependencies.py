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


def describe(fut: Future[Any], dfk: object) -> str:
    """How errors name a future: ``task 3`` for a task of ``dfk``, ``DataFuture from task 3``,
    or the repr of any other future (upstream's wording)."""
    from .futures import AppFuture

    record = fut.task_record if isinstance(fut, AppFuture) else None
    if record is not None and record.dfk is dfk:
        return f"task {record.id}"
    from ..app.futures import DataFuture

    if isinstance(fut, DataFuture) and fut.tid is not None:
        return f"DataFuture from task {fut.tid}"
    return repr(fut)
