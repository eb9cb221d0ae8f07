"""Run Parsl workers inside Docker, Podman or Singularity containers"""

from importlib import metadata as _metadata

__version__ = _metadata.version("parsl-containers")
