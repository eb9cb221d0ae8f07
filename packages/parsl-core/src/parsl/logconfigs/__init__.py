"""Log configurations for ``Config(initialize_logging=...)`` (upstream's ``parsl.logconfigs``).

::

    DataFlowKernel start ── log_config.initialize_logging(log_dir=<run dir>, log_name="parsl")
                             ──▶ handlers attached, returns detach()
    DataFlowKernel cleanup ── detach()

``FileLogging`` writes ``<run dir>/parsl.log``, ``JSONLogging`` writes one JSON object per
line to ``<run dir>/parsl.jsonlog``, ``NoopLogging`` writes nothing. ``initialize_logging=True``
is the kernel's compact INFO log in ``parsl.log``; ``False`` is ``NoopLogging``. Write your
own by subclassing :class:`LogConfig`.
"""
from __future__ import annotations

from typing import Any

__all__ = ["FileLogging", "JSONLogging", "LogConfig", "NoopLogging"]

# upstream's submodules: parsl.logconfigs.base / .file / .json / .noop
_WHERE = {"LogConfig": "base", "FileLogging": "file", "JSONLogging": "json", "NoopLogging": "noop"}


def __getattr__(name: str) -> Any:
    sub = _WHERE.get(name)
    if sub is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{sub}"), name)
