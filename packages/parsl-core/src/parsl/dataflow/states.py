"""The task life-cycle as a small, pure state machine (no threads, no I/O).

::

                    memo_hit
        ┌──────────────────────────────▶ memo_done
        │          dep_fail
        ├──────────────────────────────▶ dep_fail
        │  fail (launch error, abort)
        ├──────────────────────────────▶ failed ◀──────────┐
     pending ──launch──▶ launched ──start──▶ running ──fail─┤
                           ▲  │                  │         │
                           │  └──────fail────────┼─────────┘
                           └──retry──────────────┤
                              (also from launched)
                         launched/running ──succeed──▶ exec_done
                         launched/running ──join────▶ joining ──succeed/fail──▶ exec_done/failed

:func:`next_state` is the only place the life-cycle is defined; the kernel calls it for every
change, so an impossible change raises :class:`~parsl.dataflow.error.InvalidTransition`
instead of corrupting a task.
"""
from __future__ import annotations

import enum

from .error import InvalidTransition


class States(enum.Enum):
    """The states of a task. The final ones are exec_done, failed, dep_fail and memo_done."""

    pending = "pending"
    launched = "launched"
    running = "running"
    joining = "joining"
    exec_done = "exec_done"
    failed = "failed"
    dep_fail = "dep_fail"
    memo_done = "memo_done"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES = frozenset({States.exec_done, States.failed, States.dep_fail, States.memo_done})


class Event(enum.Enum):
    """What can happen to a task."""

    launch = "launch"  # dependencies met, handed to an executor
    start = "start"  # the executor reports it running
    succeed = "succeed"
    fail = "fail"
    retry = "retry"  # failed with retries left: handed to an executor again
    join = "join"  # a join app returned futures to wait for
    dep_fail = "dep_fail"
    memo_hit = "memo_hit"


_S, _E = States, Event
TRANSITIONS: dict[tuple[States, Event], States] = {
    (_S.pending, _E.launch): _S.launched,
    (_S.pending, _E.dep_fail): _S.dep_fail,
    (_S.pending, _E.memo_hit): _S.memo_done,
    (_S.pending, _E.fail): _S.failed,
    (_S.launched, _E.start): _S.running,
    (_S.launched, _E.succeed): _S.exec_done,
    (_S.launched, _E.fail): _S.failed,
    (_S.launched, _E.retry): _S.launched,
    (_S.launched, _E.join): _S.joining,
    (_S.running, _E.succeed): _S.exec_done,
    (_S.running, _E.fail): _S.failed,
    (_S.running, _E.retry): _S.launched,
    (_S.running, _E.join): _S.joining,
    (_S.joining, _E.succeed): _S.exec_done,
    (_S.joining, _E.fail): _S.failed,
}


def next_state(state: States, event: Event) -> States:
    """The state a task in ``state`` moves to on ``event``."""
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise InvalidTransition(f"a task in state {state.value!r} cannot take event {event.value!r}") from None
