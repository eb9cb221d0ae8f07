"""Execution providers at today's upstream import path: ``from parsl.providers import
SlurmProvider`` imports the class from ``libsubmit`` when asked (``pip install libsubmit``;
the clouds need its extras)."""
from typing import Any

from .._lazy import Target, table_attr

_L = "libsubmit"
_UP = "libsubmit.providers.upstream_names"

_TABLE: dict[str, Target | str] = {
    "LocalProvider": Target(_UP, "LocalProvider", _L),
    "SlurmProvider": Target(_UP, "SlurmProvider", _L),
    "TorqueProvider": Target(_UP, "TorqueProvider", _L),
    "CobaltProvider": Target(_UP, "CobaltProvider", _L),
    "CondorProvider": Target(_UP, "CondorProvider", _L),
    "GridEngineProvider": Target(_UP, "GridEngineProvider", _L),
    "AWSProvider": Target("libsubmit.providers.aws.aws", "AWSProvider", _L, "aws"),
    "GoogleCloudProvider": Target("libsubmit.providers.googlecloud.googlecloud", "GoogleCloudProvider", _L, "google"),
    "AzureProvider": Target("libsubmit.providers.azure.azure", "AzureProvider", _L, "azure"),
    "JetstreamProvider": Target("libsubmit.providers.jetstream.jetstream", "JetstreamProvider", _L, "openstack"),
    "ExecutionProvider": Target("parsl.interfaces", "ExecutionProvider"),
    "LSFProvider": "LSF is not supported (no LSF scheduler to test against here)",
    "PBSProProvider": "PBS Pro is not supported; TorqueProvider covers qsub-compatible PBS sites",
    "KubernetesProvider": "Kubernetes is not supported (no cluster to test against here)",
    "AdHocProvider": "ad-hoc SSH node pools are not supported; use an SSH channel with a scheduler provider",
}

__all__ = sorted(k for k, v in _TABLE.items() if isinstance(v, Target))


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
