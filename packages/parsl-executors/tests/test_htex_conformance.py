"""parsl-core's executor conformance kit, run against the HighThroughputExecutor (a real
interchange, a real worker pool with forked workers in a process block)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from parsl.interfaces import BlockShape, ParslExecutor
from parsl.testing.executor_kit import ExecutorConformance

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import ProcessBlocks


class TestHighThroughputConformance(ExecutorConformance):
    timeout = 60.0

    def make_executor(self, tmp_path: Path) -> ParslExecutor:
        pytest.importorskip("zmq")
        from parsl_executors.htex import HighThroughputExecutor

        return HighThroughputExecutor(label="htex_conformance", provider=ProcessBlocks(str(tmp_path)), max_workers_per_node=2,
                                      shape=BlockShape(init_blocks=1, min_blocks=0, max_blocks=1))
