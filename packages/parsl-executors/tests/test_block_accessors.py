"""The accessors htex, ipp and swift_t share (``scaling.accessors.BlockAccessors``): ``policy``
is the one each was built with, ``scaling_enabled`` follows each one's own provider attribute
(htex: ``provider``; ipp, swift_t: ``execution_provider``), ``blocks`` reads its block table."""
from __future__ import annotations

import os
import sys
from typing import Any

import pytest

from parsl.interfaces import BlockShape, ParslExecutor

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import ProcessBlocks

from parsl_executors.scaling import BlockScalable


class FixedBlocks(ProcessBlocks):
    """A provider that says its blocks cannot be scaled."""

    @property
    def scaling_enabled(self) -> bool:
        return False


def _make(kind: str, provider: ProcessBlocks | None) -> Any:
    shape = BlockShape(tasks_per_node=2, min_blocks=0, init_blocks=1, max_blocks=3)
    if kind == "htex":
        from parsl_executors.htex import HighThroughputExecutor

        return HighThroughputExecutor(provider=provider, shape=shape, max_block_failures=4)
    if kind == "ipp":
        from parsl_executors.ipp import IPyParallelExecutor

        return IPyParallelExecutor(provider, shape=shape, max_block_failures=4)
    from parsl_executors.swift_t import TurbineExecutor

    return TurbineExecutor(execution_provider=provider, shape=shape, max_block_failures=4)


@pytest.mark.parametrize("kind", ["htex", "ipp", "swift_t"])
def test_policy_scaling_enabled_and_blocks_of_each_executor(kind: str, tmp_path: os.PathLike[str]) -> None:
    ex = _make(kind, ProcessBlocks(str(tmp_path)))
    assert isinstance(ex, ParslExecutor) and isinstance(ex, BlockScalable)
    assert ex.policy is ex._policy and (ex.policy.max_blocks, ex.policy.max_block_failures) == (3, 4)
    assert ex.scaling_enabled is True
    assert ex.blocks == {}
    ex._blocks.add("0", "job-7")
    assert ex.blocks == {"0": "job-7"}
    assert _make(kind, FixedBlocks(str(tmp_path))).scaling_enabled is False
    assert _make(kind, None).scaling_enabled is False
