"""parsl-core's executor conformance kit, run against the IPyParallelExecutor (real
controller, real engines in a process block)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from parsl.interfaces import BlockShape, ParslExecutor
from parsl.testing.executor_kit import ExecutorConformance

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import ProcessBlocks

pytestmark = pytest.mark.integration


class TestIPyParallelConformance(ExecutorConformance):
    timeout = 60.0

    def make_executor(self, tmp_path: Path) -> ParslExecutor:
        pytest.importorskip("ipyparallel")
        from parsl_executors.ipp import IPyParallelExecutor

        prov = ProcessBlocks(str(tmp_path))
        return IPyParallelExecutor(prov, engine_dir=str(tmp_path), shape=BlockShape(tasks_per_node=2, init_blocks=1, min_blocks=0, max_blocks=1))
