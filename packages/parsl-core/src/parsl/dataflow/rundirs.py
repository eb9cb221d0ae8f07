"""0.5.0's ``parsl.dataflow.rundirs``: ``make_rundir(config=None, path=None)`` makes the next
numbered run directory (``runinfo/000``, ``001``, ...) and returns its absolute path; the base is
``path``, else the config's ``globals.runDir``, else ``./runinfo``."""
from __future__ import annotations

from typing import Any, Mapping

from .rundir import make_rundir as _next_rundir


def make_rundir(config: Mapping[str, Any] | None = None, path: str | None = None) -> str:
    base = path or ((config or {}).get("globals") or {}).get("runDir") or "runinfo"
    return _next_rundir(base)


__all__ = ["make_rundir"]
