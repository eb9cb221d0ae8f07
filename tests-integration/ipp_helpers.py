"""Shared helpers for the IPyParallel end-to-end tests: skips, process accounting."""
from __future__ import annotations

import copy
import os
import time
from typing import Any

import pytest


def require_ipp_stack() -> None:
    pytest.importorskip("ipyparallel", reason="needs parsl-executors[ipp] (ipyparallel)")
    pytest.importorskip("libsubmit.providers.local.local", reason="needs libsubmit (the Local provider)")
    pytest.importorskip("parsl_executors.ipp", reason="needs parsl-executors")


def descendants() -> set[int]:
    """Pids of every live process this test process started, directly or not."""
    import psutil

    return {p.pid for p in psutil.Process().children(recursive=True) if _alive(p.pid)}


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: set[int] | list[int], timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    left = [p for p in pids if _alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if _alive(p)]
    return left


def wait_until(cond: Any, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


def ipp_site(name: str = "Local_IPP", **block: Any) -> dict[str, Any]:
    base = {"nodes": 1, "taskBlocks": 1, "initBlocks": 1, "minBlocks": 0, "maxBlocks": 1, "walltime": "00:10:00"}
    base.update(block)
    return {"site": name, "auth": {"channel": None}, "execution": {"executor": "ipp", "provider": "local", "block": base}}


def config(*sites: dict[str, Any], **globals_: Any) -> dict[str, Any]:
    return {"sites": [copy.deepcopy(s) for s in sites], "globals": {"lazyErrors": True, **globals_}}


def pids_of_engines(ex: Any) -> dict[int, int]:
    return dict(ex.engine_pids())


__all__ = ["config", "descendants", "ipp_site", "os", "pids_of_engines", "require_ipp_stack", "wait_gone", "wait_until"]

