"""Execution providers: how executors obtain blocks of resources.

Each class lives at its 0.5.0 import path (``libsubmit.providers.slurm.slurm.Slurm``...) and
is registered in the ``parsl.providers`` entry-point group.
"""
from __future__ import annotations

from typing import Any

__all__ = ["Cobalt", "Condor", "GridEngine", "Local", "Slurm", "Torque"]

_WHERE = {
    "Local": "libsubmit.providers.local.local",
    "Slurm": "libsubmit.providers.slurm.slurm",
    "Torque": "libsubmit.providers.torque.torque",
    "Cobalt": "libsubmit.providers.cobalt.cobalt",
    "Condor": "libsubmit.providers.condor.condor",
    "GridEngine": "libsubmit.providers.gridengine.gridengine",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
