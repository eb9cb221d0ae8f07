"""Parsl data staging beyond local files: Globus, HTTP/HTTPS and FTP.

The staging providers register in the ``parsl.staging`` entry-point group under their URL
schemes; parsl-core finds them when an app's ``inputs=`` or ``outputs=`` hold such a File.
Importing this package imports none of them (nor globus-sdk).
"""
from __future__ import annotations

from typing import Any

_LAZY = {
    "HTTPStaging": "parsl_data.http",
    "FTPStaging": "parsl_data.ftp",
    "GlobusStaging": "parsl_data.globus",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'parsl_data' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
