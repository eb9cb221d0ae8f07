"""Which futures in an app call are its dependencies, and how they are replaced by results.

::

    app(a, b=fut, inputs=[f1, f2])
         │
         ▼  gather_call(resolver, args, kwargs) ─▶ [fut, f1, f2]   (the DFK waits on these)
         │
         ▼  all done: unwrap_call(resolver, args, kwargs) ─▶ (a, b=result, inputs=[r1, r2])

Two resolvers are provided, with the upstream names:

* :data:`SHALLOW_DEPENDENCY_RESOLVER` (the default, as in Parsl 0.5.0 and upstream Parsl): a
  future passed directly as a positional or keyword argument is a dependency, and so is each
  item of ``inputs=``. A future nested in another container (a list passed positionally, a
  dict value) is handed to the app as it is, still a future.
* :data:`DEEP_DEPENDENCY_RESOLVER`: futures anywhere inside lists, tuples, sets, frozensets
  and dict values (recursively) are dependencies too, and the app receives the containers
  rebuilt with the results.

A resolver is chosen with ``Config(dependency_resolver=...)`` or
``DataFlowKernel(dependency_resolver=...)``. Any ``concurrent.futures.Future`` counts, not only
Parsl's. A custom :class:`DependencyResolver` gives the two traversal functions.
"""
from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["DependencyResolver", "SHALLOW_DEPENDENCY_RESOLVER", "DEEP_DEPENDENCY_RESOLVER", "gather_call", "unwrap_call"]

_ATOMS = frozenset({int, float, str, bytes, bool, type(None), complex})
_CONTAINERS = (list, tuple, set, frozenset, dict)


@dataclass(frozen=True)
class DependencyResolver:
    """How the kernel finds and unwraps the futures of one argument value.

    Args:
        traverse_to_gather: ``value -> list of futures`` that the task must wait for.
        traverse_to_unwrap: ``value -> value`` with those futures replaced by their results
            (called once every gathered future is done).
    """

    traverse_to_gather: Callable[[Any], list[Future[Any]]]
    traverse_to_unwrap: Callable[[Any], Any]


# -- shallow -----------------------------------------------------------------------------------


def _shallow_gather(value: Any) -> list[Future[Any]]:
    return [value] if isinstance(value, Future) else []


def _shallow_unwrap(value: Any) -> Any:
    return value.result() if isinstance(value, Future) else value


SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(_shallow_gather, _shallow_unwrap)


# -- deep --------------------------------------------------------------------------------------


def _deep_scan(value: Any, found: list[Future[Any]]) -> None:
    if isinstance(value, Future):
        found.append(value)
        return
    if isinstance(value, _CONTAINERS):
        for item in value.values() if isinstance(value, dict) else value:
            if type(item) not in _ATOMS:
                _deep_scan(item, found)


def _deep_gather(value: Any) -> list[Future[Any]]:
    found: list[Future[Any]] = []
    if type(value) not in _ATOMS:
        _deep_scan(value, found)
    return found


def _deep_unwrap(value: Any) -> Any:
    if isinstance(value, Future):
        return value.result()
    t = type(value)
    if t in _ATOMS:
        return value
    if isinstance(value, dict):
        if t is dict:
            return {k: _deep_unwrap(v) for k, v in value.items()}
        copy = value.copy()  # a dict subclass (OrderedDict, defaultdict...) keeps its type
        for k, v in value.items():
            copy[k] = _deep_unwrap(v)
        return copy
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_deep_unwrap(v) for v in value]
        if t in (list, tuple, set, frozenset):
            return t(items)
        if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
            return t(*items)
        try:
            return t(items)
        except TypeError:
            return items
    return value


DEEP_DEPENDENCY_RESOLVER = DependencyResolver(_deep_gather, _deep_unwrap)


# -- one call's arguments ----------------------------------------------------------------------


def normalise_inputs(kwargs: dict[str, Any]) -> None:
    """Make ``kwargs['inputs']`` a list or tuple in place: any other iterable (a dict view, a
    generator, a set...) is consumed once, now, at call time."""
    inputs = kwargs["inputs"]
    if isinstance(inputs, (list, tuple)) or inputs is None or isinstance(inputs, (str, bytes, Future)):
        return
    try:
        kwargs["inputs"] = list(inputs)
    except TypeError:
        pass  # not iterable (a single File, say): handed to the app as given


def gather_call(resolver: DependencyResolver, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Future[Any]]:
    """Every dependency of one call: those of each argument and of each item of ``inputs=``."""
    found: list[Future[Any]] = []
    if resolver is SHALLOW_DEPENDENCY_RESOLVER:
        for a in args:
            if isinstance(a, Future):
                found.append(a)
        for v in kwargs.values():
            if isinstance(v, Future):
                found.append(v)
        inputs = kwargs.get("inputs")
        if inputs and isinstance(inputs, (list, tuple)):
            for i in inputs:
                if isinstance(i, Future):
                    found.append(i)
        return found
    gather = resolver.traverse_to_gather
    for a in args:
        found.extend(gather(a))
    for k, v in kwargs.items():
        if k != "inputs" or not isinstance(v, (list, tuple)):
            found.extend(gather(v))
        else:
            for i in v:
                found.extend(gather(i))
    return found


def _unwrap_inputs(unwrap: Callable[[Any], Any], inputs: Any) -> Any:
    if isinstance(inputs, (list, tuple)):
        items = [unwrap(i) for i in inputs]
        return tuple(items) if isinstance(inputs, tuple) else items
    return unwrap(inputs)


def unwrap_call(resolver: DependencyResolver, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` and ``kwargs`` with the dependencies :func:`gather_call` found replaced by their
    results (all of them must be done)."""
    if resolver is SHALLOW_DEPENDENCY_RESOLVER:
        unwrap: Callable[[Any], Any] = _shallow_unwrap
        new_args = tuple([a.result() if isinstance(a, Future) else a for a in args])
    else:
        unwrap = resolver.traverse_to_unwrap
        new_args = tuple([unwrap(a) for a in args])
    new_kwargs = {k: unwrap(v) if k != "inputs" else _unwrap_inputs(unwrap, v) for k, v in kwargs.items()}
    return new_args, new_kwargs
