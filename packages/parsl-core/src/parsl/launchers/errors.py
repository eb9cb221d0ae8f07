"""Upstream's ``parsl.launchers.errors``."""
from typing import Any

from .._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {"BadLauncher": Target("libsubmit.error", "BadLauncher", "libsubmit")}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
