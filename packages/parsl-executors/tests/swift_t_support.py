"""Helpers for the Turbine executor's tests: a started executor whose every process (the
block's launcher and each rank) is checked gone after shutdown."""
from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import wait_gone


def require_mpi() -> None:
    if shutil.which("mpiexec") is None:
        pytest.skip("Open MPI is not installed (run tests-integration/services/mpi/start.sh as root)")
    pytest.importorskip("mpi4py", reason="mpi4py is not installed: pip install 'parsl-executors[mpi]'")
    pytest.importorskip("libsubmit", reason="libsubmit (the local provider) is not installed")


def wait_for(cond: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def block_pids(ex: Any) -> list[int]:
    """The pid of each block's launcher (the local provider's job id) and of every rank."""
    pids = [int(j) for j in ex.blocks.values() if j.isdigit()]
    return pids + [pid for _host, pid in ex.ranks().values() if pid]


def assert_all_gone(pids: list[int]) -> None:
    assert wait_gone(pids, timeout=20) == [], "processes of the executor's blocks were left running"
