"""0.5.0 path of the scaling strategy, which lives in ``parsl-executors`` (``parsl_executors.scaling``)."""
from typing import Any

from .._lazy import plugin_attr

_ATTRS = frozenset({"Strategy"})


def __getattr__(name: str) -> Any:
    return plugin_attr(__name__, name, "parsl_executors.scaling", _ATTRS, "parsl-executors")
