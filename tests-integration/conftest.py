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
    monkeypatch.chdir(tmp_path)
    yield
    import parsl
    from parsl.dataflow import loader

    k = loader.current_or_none()
    if k is not None:
        k.cleanup()
    parsl.clear()
