"""Run Parsl workers inside Docker, Podman or Singularity/Apptainer containers.

The engines are plugins of the ``parsl.containers`` entry-point group; executors reach them
through :class:`parsl.interfaces.ContainerEngine` (``container_from_spec({"type": "docker",
"image": ...})``). Importing this package imports no engine module.
"""
from __future__ import annotations

from importlib import metadata as _metadata
from typing import Any

__all__ = ["Apptainer", "Docker", "Podman", "Singularity"]

__version__ = _metadata.version("parsl-containers")

_WHERE = {"Docker": "daemon", "Podman": "daemon", "Singularity": "singularity", "Apptainer": "singularity"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
