"""Finding the futures a call depends on, and replacing them by their results.

Futures are found in positional arguments, keyword arguments (``inputs=[...]`` included) and,
recursively, inside lists, tuples, sets and dict values. Any ``concurrent.futures.Future``
counts, not only Parsl's.
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

_ATOMS = frozenset({int, float, str, bytes, bool, type(None), complex})
_CONTAINERS = (list, tuple, set, frozenset, dict)


def scan(value: Any, found: list[Future[Any]]) -> None:
    """Append every future inside ``value`` (itself, or nested in containers) to ``found``."""
    if type(value) in _ATOMS:
        return
    if isinstance(value, Future):
        found.append(value)
        return
    if isinstance(value, _CONTAINERS):
        items = value.values() if isinstance(value, dict) else value
        for item in items:
            if type(item) in _ATOMS:
                continue
            if isinstance(item, Future):
                found.append(item)
            elif isinstance(item, _CONTAINERS):
                scan(item, found)


def resolve(value: Any) -> Any:
    """``value`` with each future replaced by its result (all futures must be done)."""
    if isinstance(value, Future):
        return value.result()
    t = type(value)
    if t in _ATOMS:
        return value
    if isinstance(value, dict):
        return type(value)({k: resolve(v) for k, v in value.items()}) if t is dict else _rebuild_mapping(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [resolve(v) for v in value]
        if t in (list, tuple, set, frozenset):
            return t(items)
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # namedtuple
            return t(*items)
        try:
            return t(items)
        except TypeError:
            return items
    return value


def _rebuild_mapping(value: dict[Any, Any]) -> dict[Any, Any]:
    copy = value.copy()
    for k, v in value.items():
        copy[k] = resolve(v)
    return copy


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
