"""Upstream's ``parsl.providers.cluster_provider``: the batch-scheduler base in ``libsubmit``."""
from typing import Any

from .._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {"ClusterProvider": Target("libsubmit.providers.cluster", "ClusterProvider", "libsubmit")}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
