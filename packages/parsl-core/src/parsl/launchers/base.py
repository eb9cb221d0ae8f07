"""Upstream's ``parsl.launchers.base``: the launcher base class (in ``libsubmit``)."""
from typing import Any

from .._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {"Launcher": Target("libsubmit.launchers.classes", "Launcher", "libsubmit")}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
