"""Execution providers: how executors obtain blocks of resources.

Each class lives at its 0.5.0 import path (``libsubmit.providers.slurm.slurm.Slurm``...) and
is registered in the ``parsl.providers`` entry-point group. Today's upstream names and
keywords (``SlurmProvider``, ``LocalProvider``...) are in :mod:`.upstream_names`.
"""
from __future__ import annotations

from typing import Any

__all__ = [
    "AWSProvider",
    "AzureProvider",
    "Cobalt",
    "CobaltProvider",
    "Condor",
    "CondorProvider",
    "EC2Provider",
    "GoogleCloudProvider",
    "GridEngine",
    "GridEngineProvider",
    "JetstreamProvider",
    "Local",
    "LocalProvider",
    "Slurm",
    "SlurmProvider",
    "Torque",
    "TorqueProvider",
]

from .. import _LAZY

# the package's one table of lazy names, narrowed to the providers
_WHERE = {name: module for name, module in _LAZY.items() if module.startswith(__name__ + ".")}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
