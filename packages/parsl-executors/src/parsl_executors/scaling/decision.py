"""The block-scaling decision, as pure functions (no clock, no threads, no I/O).

::

    active tasks ─┐
    blocks held ──┼──▶ decide(policy, ...) ──▶ Decision(scale_out=n) | Decision(scale_in=n) | nothing
    idle since ───┘

With ``active`` tasks, ``taskBlocks`` slots per block and parallelism ``p`` (§3.6.4 of the
0.5.0 guide)::

    target = minBlocks                                                   if active == 0
           = clamp(ceil(active * p / taskBlocks), max(minBlocks, 1), maxBlocks)   otherwise

``p = 0`` stacks every task on one block; ``p = 1`` gives every task its own slot. Blocks
are added as soon as the target is above the blocks held. They are released only when the
executor has had no active task for ``max_idletime`` seconds, and then down to ``minBlocks``:
a busy block is never cancelled under a running task.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from parsl.errors import ConfigurationError
from parsl.interfaces import BlockShape


@dataclass(frozen=True)
class ScalingPolicy:
    """The bounds and knobs of one executor's blocks.

    Args:
        min_blocks / init_blocks / max_blocks: the 0.5.0 ``minBlocks`` / ``initBlocks`` /
            ``maxBlocks``.
        tasks_per_block: slots per block (``taskBlocks``); a bash expression evaluated on the
            node counts as 1 here, since its value is unknown to the client.
        parallelism: ``p`` in [0, 1].
        max_idletime: seconds without any active task before blocks are released.
    """

    min_blocks: int = 0
    init_blocks: int = 1
    max_blocks: int = 10
    tasks_per_block: int = 1
    parallelism: float = 1.0
    max_idletime: float = 2.0

    def __post_init__(self) -> None:
        for name in ("min_blocks", "init_blocks", "max_blocks"):
            v = getattr(self, name)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ConfigurationError(f"must be a non-negative integer, got {v!r}", name)
        if self.min_blocks > self.max_blocks:
            raise ConfigurationError(f"min_blocks ({self.min_blocks}) is above max_blocks ({self.max_blocks})", "min_blocks")
        if self.init_blocks > self.max_blocks:
            raise ConfigurationError(f"init_blocks ({self.init_blocks}) is above max_blocks ({self.max_blocks})", "init_blocks")
        if not isinstance(self.tasks_per_block, int) or self.tasks_per_block < 1:
            raise ConfigurationError(f"must be a positive integer, got {self.tasks_per_block!r}", "tasks_per_block")
        if not 0.0 <= float(self.parallelism) <= 1.0:
            raise ConfigurationError(f"must be between 0 and 1, got {self.parallelism!r}", "parallelism")
        if self.max_idletime < 0:
            raise ConfigurationError(f"cannot be negative, got {self.max_idletime!r}", "max_idletime")

    @classmethod
    def from_shape(cls, shape: BlockShape, max_idletime: float = 2.0) -> ScalingPolicy:
        tpn = shape.tasks_per_node
        slots = tpn if isinstance(tpn, int) else (int(tpn) if str(tpn).strip().isdigit() else 1)
        return cls(
            min_blocks=shape.min_blocks,
            init_blocks=shape.init_blocks,
            max_blocks=shape.max_blocks,
            tasks_per_block=max(1, slots),
            parallelism=shape.parallelism,
            max_idletime=max_idletime,
        )


@dataclass(frozen=True)
class Decision:
    """What to do now: add ``scale_out`` blocks or release ``scale_in`` blocks (never both)."""

    scale_out: int = 0
    scale_in: int = 0
    target: int = 0

    @property
    def nothing(self) -> bool:
        return self.scale_out == 0 and self.scale_in == 0


def target_blocks(active: int, policy: ScalingPolicy) -> int:
    """How many blocks ``active`` tasks call for under ``policy``."""
    if active <= 0:
        return policy.min_blocks
    wanted = math.ceil(active * float(policy.parallelism) / policy.tasks_per_block)
    floor = max(policy.min_blocks, 1)
    return max(floor, min(wanted, policy.max_blocks)) if floor <= policy.max_blocks else policy.max_blocks


def decide(policy: ScalingPolicy, active: int, held: int, idle_for: float | None, usable: float | None = None) -> Decision:
    """The scaling step for one executor.

    Args:
        active: tasks submitted and not finished.
        held: blocks submitted and not in a terminal state (pending or running).
        idle_for: seconds since the executor last had an active task (``None`` while busy).
        usable: the capacity of the held blocks, in blocks, counting only workers still
            alive (a block that lost 3 of its 4 workers counts 0.25); default ``held``.
            Lost capacity is replaced, within ``max_blocks`` held.
    """
    target = target_blocks(active, policy)
    have = held if usable is None else usable
    if target > have:
        add = min(math.ceil(target - have - 1e-9), policy.max_blocks - held)
        if add > 0:
            return Decision(scale_out=add, target=target)
    if active <= 0 and held > policy.min_blocks and idle_for is not None and idle_for >= policy.max_idletime:
        return Decision(scale_in=held - policy.min_blocks, target=policy.min_blocks)
    return Decision(target=target)
