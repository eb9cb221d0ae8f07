"""The blocks one executor holds: block ids, provider job ids and their last known states.

::

    scale_out ──add(block_id, job_id)──▶ BlockTable
    Strategy  ──refresh(provider)──────▶ provider.status(job ids) ──▶ ended blocks dropped and returned
    scale_in  ──take_newest(n)─────────▶ the newest n blocks, removed (the caller cancels them)
    shutdown  ──take_all()─────────────▶ every block, removed

Thread-safe: the strategy thread, IO threads and the user's thread may all call it. With a
``monitor`` (the executor's ``ExecutorContext.monitor``), every change is reported to it as a
block event (``submitted``, ``ended: <state>``, ``released``).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from parsl.interfaces import ExecutionProvider, JobState, Monitor, report_block

logger = logging.getLogger(__name__)


@dataclass
class HeldBlock:
    """One block: its id, the provider's job id, when it was submitted and its last state."""

    block_id: str
    job_id: str
    submitted: float = field(default_factory=time.monotonic)
    state: JobState = JobState.PENDING
    #: set by the executor once a worker of this block has connected
    connected: bool = False


class BlockTable:
    def __init__(self, label: str, monitor: Monitor | None = None) -> None:
        self.label = label
        self.monitor = monitor
        self._lock = threading.Lock()
        self._blocks: dict[str, HeldBlock] = {}

    def __len__(self) -> int:
        return len(self._blocks)

    def add(self, block_id: str, job_id: str) -> HeldBlock:
        block = HeldBlock(block_id, job_id)
        with self._lock:
            self._blocks[block_id] = block
        report_block(self.monitor, self.label, block_id, "submitted", f"job {job_id}")
        return block

    def get(self, block_id: str) -> HeldBlock | None:
        return self._blocks.get(block_id)

    def held(self) -> list[HeldBlock]:
        with self._lock:
            return list(self._blocks.values())

    def jobs(self) -> dict[str, str]:
        """Block id → provider job id."""
        with self._lock:
            return {b.block_id: b.job_id for b in self._blocks.values()}

    def refresh(self, provider: ExecutionProvider) -> list[HeldBlock]:
        """Ask the provider for every block's state; drop and return the blocks that ended."""
        blocks = self.held()
        if not blocks:
            return []
        states = provider.status([b.job_id for b in blocks])
        ended = []
        with self._lock:
            for b, st in zip(blocks, states, strict=True):
                b.state = st
                if st.terminal and self._blocks.pop(b.block_id, None) is not None:
                    logger.info("executor %s: block %s (job %s) ended: %s", self.label, b.block_id, b.job_id, st.value)
                    ended.append(b)
        for b in ended:
            report_block(self.monitor, self.label, b.block_id, "ended", b.state.value)
        return ended

    def take_newest(self, n: int) -> list[HeldBlock]:
        with self._lock:
            victims = sorted(self._blocks.values(), key=lambda b: int(b.block_id) if b.block_id.isdigit() else 0, reverse=True)[:n]
            for b in victims:
                del self._blocks[b.block_id]
        for b in victims:
            report_block(self.monitor, self.label, b.block_id, "released")
        return victims

    def take_all(self) -> list[HeldBlock]:
        with self._lock:
            blocks, self._blocks = list(self._blocks.values()), {}
        for b in blocks:
            report_block(self.monitor, self.label, b.block_id, "released", "executor shut down")
        return blocks
