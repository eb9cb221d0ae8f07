"""The task life-cycle state machine, without threads."""
from __future__ import annotations

import itertools

import pytest

from parsl.dataflow.error import InvalidTransition
from parsl.dataflow.states import FINAL_STATES, TRANSITIONS, Event, States, next_state


@pytest.mark.parametrize(
    "path, final",
    [
        ([Event.launch, Event.succeed], States.exec_done),
        ([Event.launch, Event.start, Event.succeed], States.exec_done),
        ([Event.launch, Event.fail], States.failed),
        ([Event.launch, Event.start, Event.retry, Event.start, Event.succeed], States.exec_done),
        ([Event.launch, Event.retry, Event.retry, Event.fail], States.failed),
        ([Event.dep_fail], States.dep_fail),
        ([Event.memo_hit], States.memo_done),
        ([Event.fail], States.failed),
        ([Event.launch, Event.join, Event.succeed], States.exec_done),
        ([Event.launch, Event.start, Event.join, Event.fail], States.failed),
    ],
)
def test_paths(path, final):
    s = States.pending
    for e in path:
        s = next_state(s, e)
    assert s is final and s.final


def test_final_states_accept_no_event():
    for s, e in itertools.product(FINAL_STATES, Event):
        with pytest.raises(InvalidTransition, match=s.value):
            next_state(s, e)


def test_impossible_transitions_are_refused():
    with pytest.raises(InvalidTransition):
        next_state(States.pending, Event.succeed)
    with pytest.raises(InvalidTransition):
        next_state(States.joining, Event.retry)
    with pytest.raises(InvalidTransition):
        next_state(States.launched, Event.memo_hit)


def test_every_state_is_reachable_and_non_final_states_can_end():
    reachable = {States.pending}
    frontier = [States.pending]
    while frontier:
        s = frontier.pop()
        for (src, _), dst in TRANSITIONS.items():
            if src is s and dst not in reachable:
                reachable.add(dst)
                frontier.append(dst)
    assert reachable == set(States)
    for s in set(States) - FINAL_STATES:
        assert any(src is s and dst.final for (src, _), dst in TRANSITIONS.items()), s
