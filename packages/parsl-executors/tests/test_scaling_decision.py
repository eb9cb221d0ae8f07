"""The scaling decision is a pure function: table tests."""
from __future__ import annotations

import pytest

from parsl.errors import ConfigurationError
from parsl.interfaces import BlockShape
from parsl_executors.scaling import Decision, ScalingPolicy, decide, target_blocks


def P(lo: int = 0, hi: int = 10, tpb: int = 1, p: float = 1.0, idle: float = 2.0, init: int = 0) -> ScalingPolicy:
    return ScalingPolicy(min_blocks=lo, init_blocks=init, max_blocks=hi, tasks_per_block=tpb, parallelism=p, max_idletime=idle)


@pytest.mark.parametrize(
    ("policy", "active", "expected"),
    [
        # no tasks -> minBlocks
        (P(lo=0), 0, 0),
        (P(lo=2), 0, 2),
        # p = 1: one task per slot, capped at maxBlocks
        (P(hi=4, tpb=1, p=1), 10, 4),
        (P(hi=10, tpb=1, p=1), 10, 10),
        (P(hi=10, tpb=4, p=1), 10, 3),
        (P(hi=10, tpb=4, p=1), 4, 1),
        (P(hi=10, tpb=4, p=1), 5, 2),
        # p = 0: everything on one block (or minBlocks if higher)
        (P(hi=10, p=0), 1000, 1),
        (P(lo=3, hi=10, p=0), 1000, 3),
        # p = 0.1 (the tutorial): 10 tasks, 1 slot per block -> 1 block
        (P(hi=10, p=0.1), 10, 1),
        (P(hi=10, p=0.1), 11, 2),
        # p = 0.5 with 4 slots (§3.6.4): 8 tasks fit one block, the 9th overflows
        (P(lo=1, hi=2, tpb=4, p=0.5), 8, 1),
        (P(lo=1, hi=2, tpb=4, p=0.5), 9, 2),
        (P(lo=1, hi=2, tpb=4, p=0.5), 100, 2),
        # never below max(minBlocks, 1) while tasks are active
        (P(lo=0, hi=10, tpb=100, p=0.01), 1, 1),
        # maxBlocks = 0 means no blocks at all
        (P(lo=0, hi=0), 5, 0),
    ],
)
def test_target_blocks(policy: ScalingPolicy, active: int, expected: int) -> None:
    assert target_blocks(active, policy) == expected


@pytest.mark.parametrize(
    ("policy", "active", "held", "idle_for", "expected"),
    [
        # grow to the target
        (P(hi=4), 10, 0, None, Decision(scale_out=4, target=4)),
        (P(hi=4), 10, 3, None, Decision(scale_out=1, target=4)),
        # at the target: nothing
        (P(hi=4), 10, 4, None, Decision(target=4)),
        # fewer tasks than blocks, still busy: keep them (no block is cancelled under a task)
        (P(hi=4), 1, 4, None, Decision(target=1)),
        # idle but not for long enough: keep
        (P(hi=4, idle=5), 0, 4, 1.0, Decision(target=0)),
        # idle long enough: release down to minBlocks
        (P(hi=4, idle=5), 0, 4, 5.0, Decision(scale_in=4, target=0)),
        (P(lo=1, hi=4, idle=5), 0, 4, 6.0, Decision(scale_in=3, target=1)),
        # at minBlocks already: nothing
        (P(lo=1, hi=4, idle=0), 0, 1, 9.0, Decision(target=1)),
        # minBlocks is kept even with no tasks (a lost block is replaced)
        (P(lo=2, hi=4), 0, 1, 9.0, Decision(scale_out=1, target=2)),
    ],
)
def test_decide(policy: ScalingPolicy, active: int, held: int, idle_for: float | None, expected: Decision) -> None:
    assert decide(policy, active, held, idle_for) == expected


def test_policy_from_shape() -> None:
    shape = BlockShape(tasks_per_node=4, init_blocks=1, min_blocks=0, max_blocks=2, parallelism=0.5)
    pol = ScalingPolicy.from_shape(shape, max_idletime=3)
    assert (pol.min_blocks, pol.init_blocks, pol.max_blocks, pol.tasks_per_block, pol.parallelism, pol.max_idletime) == (0, 1, 2, 4, 0.5, 3)
    # a bash expression counts as one slot on the client
    assert ScalingPolicy.from_shape(BlockShape(tasks_per_node="$(($CORES / 2))")).tasks_per_block == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"min_blocks": 3, "max_blocks": 2}, "min_blocks"),
        ({"init_blocks": 3, "max_blocks": 2}, "init_blocks"),
        ({"parallelism": 1.5}, "parallelism"),
        ({"tasks_per_block": 0}, "tasks_per_block"),
        ({"min_blocks": -1}, "min_blocks"),
    ],
)
def test_policy_validation(kwargs: dict, field: str) -> None:
    with pytest.raises(ConfigurationError) as ei:
        ScalingPolicy(**kwargs)
    assert field in str(ei.value)


def test_lost_workers_are_replaced_within_max_blocks() -> None:
    """A block that lost 3 of its 4 workers counts as a quarter: the lost capacity is
    replaced, but never beyond max_blocks held."""
    p = ScalingPolicy(min_blocks=0, init_blocks=1, max_blocks=2, tasks_per_block=4, parallelism=1)
    assert decide(p, active=4, held=1, idle_for=None).nothing  # whole: enough
    assert decide(p, active=4, held=1, idle_for=None, usable=0.25).scale_out == 1
    assert decide(p, active=8, held=2, idle_for=None, usable=1.25).nothing  # at max_blocks
    p1 = ScalingPolicy(min_blocks=0, init_blocks=1, max_blocks=1, tasks_per_block=2, parallelism=1)
    assert decide(p1, active=2, held=1, idle_for=None, usable=0.5).nothing


def test_policy_defaults_are_the_050_block_defaults() -> None:
    p = ScalingPolicy()
    assert (p.min_blocks, p.init_blocks, p.max_blocks, p.tasks_per_block, p.parallelism) == (0, 1, 10, 1, 1.0)
    # ours: 2 s idle before blocks go, 3 blocks in a row may fail to start (also from a shape)
    assert (p.max_idletime, p.max_block_failures) == (2.0, 3)
    assert ScalingPolicy.from_shape(BlockShape()).max_block_failures == 3
    assert ScalingPolicy(max_block_failures=1).max_block_failures == 1  # the smallest cap


def test_policies_and_decisions_are_immutable() -> None:
    """Shared between the strategy thread and executors: nobody may change one in place."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        ScalingPolicy().max_blocks = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Decision().scale_out = 3  # type: ignore[misc]


def test_nothing_to_do_means_no_block_either_way() -> None:
    assert Decision().nothing and Decision(target=3).nothing
    assert not Decision(scale_out=1).nothing and not Decision(scale_in=1).nothing
    assert (Decision().scale_out, Decision().scale_in, Decision().target) == (0, 0, 0)


def test_one_active_task_keeps_its_blocks_even_after_a_long_idle_spell() -> None:
    # a stale idle timer must not release the blocks a running task needs
    assert decide(P(lo=0, hi=4, idle=1.0), active=1, held=2, idle_for=100.0) == Decision(target=1)
