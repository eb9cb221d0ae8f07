"""Seeing a Parsl workflow: a monitoring store (SQLite), live progress, HTML reports with the
task graph and a timeline, ``parsl status`` / ``top`` / ``report`` / ``web`` / ``run``.

Turn it on with ``Config(monitoring=True)`` (or ``globals.monitoring: true`` in a 0.5.0 dict
config); each run then writes ``<run dir>/monitoring.db``. Names resolve lazily.
"""
from typing import Any

_LAZY = {
    "SqliteMonitor": "parsl_monitoring.store",
    "open_store": "parsl_monitoring.store",
    "newest_run": "parsl_monitoring.store",
    "summarize": "parsl_monitoring.query",
    "write_report": "parsl_monitoring.report",
    "serve_in_thread": "parsl_monitoring.web",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name == "__version__":  # lazily too: the writer process imports this package, and fast
        from importlib import metadata

        return metadata.version("parsl-monitoring")
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(target), name)
