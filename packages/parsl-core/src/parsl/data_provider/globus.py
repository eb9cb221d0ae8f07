"""Upstream Parsl's import path of its globus staging providers; they live in parsl-data
(``parsl_data.globus``) and are imported only when asked for."""
from __future__ import annotations

from typing import Any

from .._lazy import plugin_attr

_ATTRS = frozenset({'GlobusStaging'})
__all__ = sorted(_ATTRS)


def __getattr__(name: str) -> Any:
    return plugin_attr(__name__, name, "parsl_data.globus", _ATTRS, "parsl-data", 'globus')
