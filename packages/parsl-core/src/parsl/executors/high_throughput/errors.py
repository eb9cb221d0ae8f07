"""Upstream's ``parsl.executors.high_throughput.errors``: the high-throughput executor's errors
live in ``parsl_executors.htex`` (``pip install 'parsl-executors[htex]'``)."""
from typing import Any

from ..._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {
    name: Target("parsl_executors.htex", name, "parsl-executors", "htex") for name in ("WorkerLost", "ManagerLost")
}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
