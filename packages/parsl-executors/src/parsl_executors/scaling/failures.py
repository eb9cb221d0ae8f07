"""The cap on consecutive block failures: a block that ends before any of its workers
connected is a failed start (no container daemon, a missing image, a broken worker command).

::

    provider says block ended ──▶ BlockFailures.ended(block, state, connected, stderr tail)
                                     connected ─▶ count = 0
                                     otherwise ─▶ count += 1, WARNING with the stderr tail
                                                  count == limit ─▶ tripped = ScalingFailed(tail)
    provider.submit raised ────▶ BlockFailures.refused(block, error)   (counts the same way)
    a worker connects ─────────▶ BlockFailures.worker_connected(): count = 0, tripped = None

While tripped, the strategy adds no block for that executor and asks it to fail the tasks
waiting for a worker with the :class:`~parsl.executors.errors.ScalingFailed` (which carries
the last block's stderr tail), so nothing is resubmitted without end and no task waits forever.
"""
from __future__ import annotations

import logging
import threading

from parsl.executors.errors import ScalingFailed
from parsl.interfaces import JobState

logger = logging.getLogger(__name__)


class BlockFailures:
    """Counts consecutive failed block starts of one executor, up to ``limit``."""

    def __init__(self, label: str, limit: int) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError(f"max_block_failures must be a positive integer, got {limit!r}")
        self.label = label
        self.limit = limit
        self.count = 0
        self._tripped: ScalingFailed | None = None
        self._lock = threading.Lock()

    @property
    def tripped(self) -> ScalingFailed | None:
        """The error the waiting tasks get once ``limit`` blocks in a row failed to start."""
        return self._tripped

    def worker_connected(self) -> None:
        """A worker of some block connected: starting blocks works."""
        with self._lock:
            self.count = 0
            self._tripped = None

    def ended(self, block_id: str, job_id: str, state: JobState, connected: bool, stderr_tail: str = "") -> ScalingFailed | None:
        """Record that a block ended on its own; return the error if this one trips the cap."""
        if connected:
            self.worker_connected()
            return None
        return self._failed(f"block {block_id} (job {job_id}) ended {state.value} before any worker connected", stderr_tail, "stderr")

    def refused(self, block_id: str, reason: str) -> ScalingFailed | None:
        """Record that the provider refused to start a block (its ``submit`` raised)."""
        return self._failed(f"block {block_id} could not be submitted", reason, "error")

    def _failed(self, what: str, tail: str, source: str) -> ScalingFailed | None:
        tail = tail.strip()
        detail = f"; its {source} ends with:\n{tail}" if tail else f"; it wrote nothing to {source}"
        with self._lock:
            self.count += 1
            count = self.count
            logger.warning("executor %s: %s (%d in a row; cap %d)%s", self.label, what, count, self.limit, detail)
            if count < self.limit or self._tripped is not None:
                return None
            err = ScalingFailed(
                self.label,
                f"{count} blocks in a row failed to start (max_block_failures={self.limit}); the last: {what}{detail}",
                stderr_tail=tail,
            )
            self._tripped = err
        logger.error("executor %s: no more blocks are started; the tasks waiting for a worker fail: %s", self.label, err)
        return err
