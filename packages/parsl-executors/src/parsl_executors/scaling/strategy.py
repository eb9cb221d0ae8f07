"""The scaling strategy: reads each executor's load and blocks, applies :func:`decide`.

::

    FlowControl ──callback──▶ Strategy.strategize()
                                 for each executor:
                                    active = executor.outstanding
                                    held   = executor.held_blocks()      (provider status)
                                    usable = executor.usable_blocks(held) (live workers only)
                                    decide(policy, active, held, idle_for, usable)
                                        ├─▶ executor.scale_out(n)
                                        └─▶ executor.release_idle(n)

The strategy knows executors only through :class:`BlockScalable`; it never sees a provider.
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from typing import Any, Callable, Sequence

from .decision import Decision, ScalingPolicy, decide

logger = logging.getLogger(__name__)


class BlockScalable(ABC):
    """What the strategy needs from an executor that runs its workers in blocks."""

    label: str

    @property
    def scaling_lock(self) -> threading.Lock:
        """Held for one read-decide-apply step, so two strategies never scale one executor at once."""
        lock = self.__dict__.get("_scaling_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_scaling_lock", threading.Lock())
        return lock

    @property
    @abstractmethod
    def policy(self) -> ScalingPolicy:
        """The block bounds and parallelism."""

    @property
    @abstractmethod
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""

    @abstractmethod
    def held_blocks(self) -> int:
        """Blocks submitted and not yet in a terminal state (refreshed from the provider)."""

    def usable_blocks(self, held: int) -> float:
        """The capacity of the ``held`` blocks in blocks, counting live workers only (an
        executor that can tell overrides this; by default every held block is whole)."""
        return float(held)

    @abstractmethod
    def scale_out(self, blocks: int = 1) -> list[str]:
        """Add blocks; return their ids."""

    @abstractmethod
    def scale_in(self, blocks: int = 1) -> list[str]:
        """Release blocks; return their ids."""

    def release_idle(self, blocks: int = 1) -> list[str]:
        """Release up to ``blocks`` blocks because the executor is idle (the strategy's
        scale-in; an executor may keep blocks that are too new to judge)."""
        return self.scale_in(blocks)


class Strategy:
    """FlowControl Strategy: one scaling pass over ``executors`` per :meth:`strategize`.

    Args:
        executors: the executors to scale, or (0.5.0 style) a DataFlowKernel, whose
            block-scaled executors are taken.
        clock: a monotonic clock (injected by tests).
    """

    def __init__(self, executors: Sequence[BlockScalable] | Any, clock: Callable[[], float] = time.monotonic) -> None:
        if not isinstance(executors, (list, tuple)):
            kernel_executors = getattr(executors, "executors", None)
            if not isinstance(kernel_executors, dict):
                raise TypeError(f"Strategy takes a list of executors or a DataFlowKernel, got {type(executors).__name__}")
            executors = [ex for ex in kernel_executors.values() if isinstance(ex, BlockScalable)]
        self.executors = list(executors)
        self.clock = clock
        self._idle_since: dict[int, float] = {}
        self._lock = threading.Lock()
        #: the last decision per executor label (for logs and tests)
        self.last: dict[str, Decision] = {}

    def strategize(self, kind: str | None = None) -> None:
        """Scale every executor once."""
        with self._lock:
            for ex in self.executors:
                try:
                    self._one(ex)
                except Exception:
                    logger.exception("scaling executor %s failed", ex.label)

    def _one(self, ex: BlockScalable) -> None:
        with ex.scaling_lock:
            self._step(ex)

    def _step(self, ex: BlockScalable) -> None:
        now = self.clock()
        active = ex.outstanding
        key = id(ex)
        if active > 0:
            self._idle_since.pop(key, None)
            idle_for = None
        else:
            idle_for = now - self._idle_since.setdefault(key, now)
        held = ex.held_blocks()
        usable = ex.usable_blocks(held)
        d = decide(ex.policy, active, held, idle_for, usable)
        self.last[ex.label] = d
        if d.scale_out:
            logger.info(
                "executor %s: %d active tasks, %d blocks held (%.2f usable), target %d: adding %d",
                ex.label, active, held, usable, d.target, d.scale_out,
            )
            ex.scale_out(d.scale_out)
        elif d.scale_in:
            logger.info("executor %s: idle for %.1f s with %d blocks: releasing %d", ex.label, idle_for or 0.0, held, d.scale_in)
            ex.release_idle(d.scale_in)
