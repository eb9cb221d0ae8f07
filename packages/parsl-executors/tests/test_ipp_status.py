"""0.5.0's ``executor.status()``: the provider's state of each of the executor's blocks."""
from __future__ import annotations

from parsl.interfaces import BlockShape, JobState


def test_status_lists_the_state_of_each_block(make_ipp) -> None:
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=2, min_blocks=0, max_blocks=2), flow_control=False)
    states = ex.status()
    assert len(states) == 2 and all(isinstance(s, JobState) for s in states)
    assert all(s in (JobState.PENDING, JobState.RUNNING) for s in states)
    ex.shutdown()
    assert ex.status() == []  # no blocks left
