"""Lazy attributes for import paths whose classes live in plugin distributions.

``from parsl.executors.ipp import IPyParallelExecutor`` imports ``parsl_executors.ipp`` only
when asked, and, when that distribution is absent, raises an ImportError that names the
``pip install`` line. :func:`table_attr` does the same for a module's whole table of names
(``parsl.providers.SlurmProvider`` → ``libsubmit``...), and names upstream Parsl documents
but this project does not provide give :class:`NotProvided` saying so.
"""
from __future__ import annotations

import importlib
from typing import Any, Mapping, NamedTuple

from .errors import PluginDependencyMissing


class PluginNotInstalled(ImportError):
    """An import path points into a plugin distribution that is not installed."""


class NotProvided(ImportError):
    """A name of upstream Parsl's documented API that this project deliberately does not
    provide (the root README lists them, with the reason)."""


class Target(NamedTuple):
    """Where a lazily resolved name lives: ``module.attr`` of distribution ``dist[extra]``."""

    module: str
    attr: str
    dist: str = "parsl-core"
    extra: str | None = None


def _import(where: str, target: str, dist: str, extra: str | None) -> Any:
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        pip = f"pip install '{dist}[{extra}]'" if extra else f"pip install {dist}"
        root = target.split(".")[0]
        if missing.split(".")[0] == root:
            try:
                importlib.import_module(root)
            except ModuleNotFoundError:
                raise PluginNotInstalled(
                    f"{where} is provided by the {dist} distribution, which is not installed; install it with: {pip}",
                    name=target,
                ) from None
            upgrade = f"pip install -U '{dist}[{extra}]'" if extra else f"pip install -U '{dist}'"
            raise PluginNotInstalled(
                f"{where} is provided by {target} of the {dist} distribution, which is installed ({_version(dist)}) "
                f"but does not have that module; upgrade it with: {upgrade}",
                name=target,
            ) from None
        raise PluginDependencyMissing(where, missing.split(".")[0], dist, extra) from None


def plugin_attr(module: str, name: str, target: str, attrs: frozenset[str], dist: str, extra: str | None = None) -> Any:
    if name not in attrs:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    return getattr(_import(f"{module}.{name}", target, dist, extra), name)


def table_attr(module: str, name: str, table: Mapping[str, Target | str]) -> Any:
    """``module.name`` from ``table``: a :class:`Target` is imported (lazily, with the install
    hint when its distribution is missing); a string is the reason the name is not provided."""
    target = table.get(name)
    if target is None:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    if isinstance(target, str):
        raise NotProvided(f"{module}.{name} is part of upstream Parsl that this project does not provide: {target}", name=module)
    return getattr(_import(f"{module}.{name}", target.module, target.dist, target.extra), target.attr)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return f"version {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return "a source tree"
