"""Execution providers, channels and launchers for Parsl: batch schedulers, clouds, SSH.

Importing ``libsubmit`` is cheap: providers and channels are imported when first used, and
paramiko only when an SSH channel is built.
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "Local": "libsubmit.providers.local.local",
    "Slurm": "libsubmit.providers.slurm.slurm",
    "Torque": "libsubmit.providers.torque.torque",
    "Cobalt": "libsubmit.providers.cobalt.cobalt",
    "Condor": "libsubmit.providers.condor.condor",
    "GridEngine": "libsubmit.providers.gridengine.gridengine",
    "LocalProvider": "libsubmit.providers.upstream_names",
    "SlurmProvider": "libsubmit.providers.upstream_names",
    "TorqueProvider": "libsubmit.providers.upstream_names",
    "CobaltProvider": "libsubmit.providers.upstream_names",
    "CondorProvider": "libsubmit.providers.upstream_names",
    "GridEngineProvider": "libsubmit.providers.upstream_names",
    "EC2Provider": "libsubmit.providers.aws.aws",
    "AWSProvider": "libsubmit.providers.aws.aws",
    "GoogleCloudProvider": "libsubmit.providers.googlecloud.googlecloud",
    "AzureProvider": "libsubmit.providers.azure.azure",
    "JetstreamProvider": "libsubmit.providers.jetstream.jetstream",
    "LocalChannel": "libsubmit.channels.local.local",
    "SshChannel": "libsubmit.channels.ssh.ssh",
    "SshILChannel": "libsubmit.channels.ssh_il.ssh_il",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # one source of truth: the distribution's metadata
        from importlib import metadata

        return metadata.version("libsubmit")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
