"""Lazy attributes for 0.5.0 import paths whose classes live in plugin distributions.

``from parsl.executors.ipp import IPyParallelExecutor`` imports ``parsl_executors.ipp`` only
when asked, and, when that distribution is absent, raises an ImportError that names the
``pip install`` line.
"""
from __future__ import annotations

import importlib
from typing import Any

from .errors import PluginDependencyMissing


class PluginNotInstalled(ImportError):
    """A 0.5.0 import path points into a plugin distribution that is not installed."""


def plugin_attr(module: str, name: str, target: str, attrs: frozenset[str], dist: str, extra: str | None = None) -> Any:
    if name not in attrs:
        raise AttributeError(f"module {module!r} has no attribute {name!r}")
    try:
        mod = importlib.import_module(target)
    except ModuleNotFoundError as e:
        missing = (e.name or "").split(".")[0]
        pip = f"pip install '{dist}[{extra}]'" if extra else f"pip install {dist}"
        if missing == target.split(".")[0] and e.name != missing and _importable(missing):
            # the distribution is there, but a version without this module
            raise PluginNotInstalled(
                f"{module}.{name} is provided by {target} of the {dist} distribution, which is installed "
                f"({_version(dist)}) but does not have that module; upgrade it with: pip install -U '{dist}"
                + (f"[{extra}]'" if extra else "'"),
                name=target,
            ) from None
        if missing == target.split(".")[0]:
            raise PluginNotInstalled(
                f"{module}.{name} is provided by the {dist} distribution, which is not installed; install it with: {pip}",
                name=target,
            ) from None
        raise PluginDependencyMissing(f"{module}.{name}", missing, dist, extra) from None
    return getattr(mod, name)


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return f"version {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return "a source tree"
