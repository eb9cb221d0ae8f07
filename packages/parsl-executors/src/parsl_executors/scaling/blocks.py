"""The blocks one executor holds: block ids, provider job ids, their last known states, and
whether a worker of theirs has connected.

::

    scale_out ──submit(provider, n, command)──▶ provider.submit(command(block id)) x n
                                                ├─ accepted ──▶ add(block_id, job_id) ──▶ monitor: submitted
                                                └─ raised ────▶ refused(block_id, why) ──▶ monitor: failed,
                                                                on_refused(ScalingFailed), raised
    IO thread ──connected(block_id)───────────▶ first worker in ──▶ monitor: running
              ──worker_lost(block_id)─────────▶ lost += 1      ──▶ monitor: worker_lost
              ──ended(block_id, why)──────────▶ dropped        ──▶ monitor: ended / failed
    Strategy  ──refresh(provider, failures)───▶ provider.status(job ids) ──▶ ended blocks dropped
                                                and returned ──▶ monitor: ended / failed (and to
                                                BlockFailures, with the stderr tail of those that
                                                ended before a worker connected)
    scale_in  ──take_newest(n, where)─────────▶ the n blocks that lost most workers, newest
                                                first, removed (the caller cancels them) ──▶ released
    shutdown  ──cancel_all(provider)──────────▶ every block, removed and cancelled ──▶ monitor: released

Thread-safe: the strategy thread, IO threads and the user's thread may all call it. With a
``monitor`` (the executor's ``ExecutorContext.monitor``), every change is reported to it as a
block event. A block that ends ``failed`` never had a worker connect; one that ends ``ended``
had (the detail names the provider's state or the executor's reason).
"""
from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from parsl.executors.errors import ScalingFailed
from parsl.interfaces import ExecutionProvider, JobState, Monitor, report_block

from .failures import BlockFailures

logger = logging.getLogger(__name__)


@dataclass
class HeldBlock:
    """One block: its id, the provider's job id, when it was submitted and its last state."""

    block_id: str
    job_id: str
    submitted: float = field(default_factory=time.monotonic)
    state: JobState = JobState.PENDING
    #: monotonic time the first worker of this block connected (None: none yet)
    connected_at: float | None = None
    #: its workers that were lost (died; not released by the executor)
    lost: int = 0
    #: the end of the block's stderr, read when it ended before a worker connected
    stderr_tail: str = ""

    @property
    def connected(self) -> bool:
        """Whether a worker of this block has connected."""
        return self.connected_at is not None

    @property
    def end_event(self) -> str:
        """The block event of its end: ``failed`` if no worker of it ever connected."""
        return "ended" if self.connected else "failed"

    def _order(self) -> tuple[int, int]:
        return (self.lost, int(self.block_id) if self.block_id.isdigit() else -1)


class BlockTable:
    def __init__(self, label: str, monitor: Monitor | None = None) -> None:
        self.label = label
        self.monitor = monitor
        self._lock = threading.Lock()
        self._blocks: dict[str, HeldBlock] = {}
        self._ids = itertools.count()

    def __len__(self) -> int:
        return len(self._blocks)

    def _report(self, block_id: str, event: str, detail: str = "") -> None:
        report_block(self.monitor, self.label, block_id, event, detail)

    def submit(
        self, provider: ExecutionProvider, n: int, command: Callable[[str], str], size: int, *, env: Mapping[str, str] | None = None,
        detail: str = "", failures: BlockFailures | None = None, on_refused: Callable[[ScalingFailed], None] | None = None,
    ) -> list[str]:
        """Start ``n`` blocks of ``size`` workers (``blocksize``), block ``b`` running
        ``command(b)`` (with ``env`` in its environment); return their block ids. When the
        provider refuses one, it is reported to the monitor and ``failures``, ``on_refused``
        gets the :class:`ScalingFailed` (its cause set), and that error is raised."""
        new: list[str] = []
        for _ in range(n):
            bid = str(next(self._ids))
            try:
                if env is None:
                    job_id = provider.submit(command(bid), size, job_name=f"parsl.{self.label}.block-{bid}")
                else:
                    job_id = provider.submit(command(bid), size, job_name=f"parsl.{self.label}.block-{bid}", env=env)
            except Exception as e:
                reason = f"{type(e).__name__}: {e}"
                err = ScalingFailed(self.label, f"the provider could not start block {bid}: {reason}")
                err.__cause__ = e
                self.refused(bid, reason, failures)
                if on_refused is not None:
                    on_refused(err)
                raise err from e
            self.add(bid, job_id, detail)
            new.append(bid)
        return new

    def add(self, block_id: str, job_id: str, detail: str = "") -> HeldBlock:
        """A block the provider accepted as ``job_id`` (``detail``: more for the monitor)."""
        block = HeldBlock(block_id, job_id)
        with self._lock:
            self._blocks[block_id] = block
        logger.info("executor %s: block %s submitted as job %s", self.label, block_id, job_id)
        self._report(block_id, "submitted", f"job {job_id}" + (f", {detail}" if detail else ""))
        return block

    def refused(self, block_id: str, reason: str, failures: BlockFailures | None = None) -> None:
        """The provider refused to start block ``block_id`` (its ``submit`` raised)."""
        self._report(block_id, "failed", reason)
        if failures is not None:
            failures.refused(block_id, reason)

    def get(self, block_id: str) -> HeldBlock | None:
        return self._blocks.get(block_id)

    def held(self) -> list[HeldBlock]:
        with self._lock:
            return list(self._blocks.values())

    def jobs(self) -> dict[str, str]:
        """Block id → provider job id."""
        with self._lock:
            return {b.block_id: b.job_id for b in self._blocks.values()}

    def connected(self, block_id: str | None) -> HeldBlock | None:
        """A worker of block ``block_id`` connected; return the block if it is its first."""
        with self._lock:
            b = self._blocks.get(block_id or "")
            if b is None or b.connected_at is not None:
                return None
            b.connected_at = time.monotonic()
        self._report(b.block_id, "running")
        return b

    def worker_lost(self, block_id: str | None, detail: str = "") -> None:
        """A worker of block ``block_id`` died: counted in :meth:`lost_workers` while the
        block is held, and reported even when the block's end was seen first."""
        if block_id is None:
            return
        with self._lock:
            b = self._blocks.get(block_id)
            if b is not None:
                b.lost += 1
        self._report(block_id, "worker_lost", detail)

    def lost_workers(self, per_block: int) -> int:
        """Workers lost by the held blocks, at most ``per_block`` counted per block."""
        with self._lock:
            return sum(min(b.lost, per_block) for b in self._blocks.values())

    def ended(self, block_id: str, reason: str) -> HeldBlock | None:
        """Block ``block_id`` can run no more tasks (the executor saw it go): drop it and
        return it, or None when it is no longer held."""
        with self._lock:
            b = self._blocks.pop(block_id, None)
        if b is not None:
            self._report(block_id, b.end_event, reason)
        return b

    def refresh(self, provider: ExecutionProvider, failures: BlockFailures | None = None) -> list[HeldBlock]:
        """Ask the provider for every block's state; drop and return the blocks that ended,
        each reported to ``failures`` (the executor's cap on failed block starts)."""
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
            self._report(b.block_id, b.end_event, b.state.value)
            if failures is not None:
                b.stderr_tail = "" if b.connected else provider.stderr_tail(b.job_id)
                failures.ended(b.block_id, b.job_id, b.state, b.connected, b.stderr_tail)
        return ended

    def take_newest(self, n: int, where: Callable[[HeldBlock], bool] | None = None) -> list[HeldBlock]:
        """Remove and return up to ``n`` blocks (of those ``where`` accepts): the ones that lost
        most workers first, then the newest."""
        with self._lock:
            candidates = [b for b in self._blocks.values() if where is None or where(b)]
            victims = sorted(candidates, key=HeldBlock._order, reverse=True)[:n]
            for b in victims:
                del self._blocks[b.block_id]
        for b in victims:
            self._report(b.block_id, "released")
        return victims

    def take_all(self) -> list[HeldBlock]:
        with self._lock:
            blocks, self._blocks = list(self._blocks.values()), {}
        for b in blocks:
            self._report(b.block_id, "released", "executor shut down")
        return blocks

    def cancel_all(self, provider: ExecutionProvider | None) -> list[HeldBlock]:
        """At shutdown: remove every block and have ``provider`` cancel their jobs (a
        failure is logged, not raised); return the blocks."""
        blocks = self.take_all()
        if blocks and provider is not None:
            try:
                provider.cancel([b.job_id for b in blocks])
            except Exception:
                logger.exception("executor %s: cancelling blocks failed", self.label)
        return blocks
