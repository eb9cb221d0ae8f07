"""Upstream's ``parsl.executors.high_throughput.executor``: the class lives in
``parsl_executors.htex`` (``pip install 'parsl-executors[htex]'``)."""
from typing import Any

from ..._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {
    "HighThroughputExecutor": Target("parsl_executors.htex", "HighThroughputExecutor", "parsl-executors", "htex"),
}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
