"""Fixtures shared by the integration tests (each module opts in with usefixtures)."""
from __future__ import annotations

import os
import sys
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import require_ipp_stack


@pytest.fixture
def ipp_stack(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Skip unless ipyparallel and libsubmit are installed; run the test in its own directory
    and clean up whatever kernel it left loaded."""
    require_ipp_stack()
    yield from _sandbox(tmp_path, monkeypatch)


@pytest.fixture
def htex_stack(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Skip unless pyzmq and libsubmit are installed; otherwise as ``ipp_stack``."""
    pytest.importorskip("zmq", reason="needs parsl-executors[htex] (pyzmq)")
    pytest.importorskip("libsubmit.providers.local.local", reason="needs libsubmit (the Local provider)")
    yield from _sandbox(tmp_path, monkeypatch)


def _sandbox(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(tmp_path)
    yield
    import parsl
    from parsl.dataflow import loader

    k = loader.current_or_none()
    if k is not None:
        k.cleanup()
    parsl.clear()
