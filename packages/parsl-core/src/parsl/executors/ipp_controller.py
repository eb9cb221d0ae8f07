"""0.5.0 path of the IPython Parallel controller, which lives in ``parsl-executors[ipp]``."""
from typing import Any

from .._lazy import plugin_attr

_ATTRS = frozenset({"Controller"})


def __getattr__(name: str) -> Any:
    return plugin_attr(__name__, name, "parsl_executors.ipp_controller", _ATTRS, "parsl-executors", "ipp")
