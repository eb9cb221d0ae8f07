"""The task feed: what the kernel records about its tasks for a monitor, on the hot path.

::

    kernel threads ── task() / edge() / state() / run() ──▶ packed rows ──▶ deques
                   ── failed() ─────────────────────────▶ tuples ──────▶ deque
                   (strings become small codes: the first use of one appends (code, value)
                    to ``names``, before any row that uses it)
    monitor thread ── drain() ──▶ Batch(names, tasks, edges, states, runs, failures)

Rows are ``struct``-packed ``bytes``, not tuples: bytes are not tracked by Python's garbage
collector, so recording a task adds no collector work. A workflow holding 100,000 futures
makes each collection expensive, and tuples per event made the collector, not the recording,
most of monitoring's cost. A drained batch is a few ``bytes`` objects, cheap to send to
another process; :func:`rows` unpacks them there.

``deque.append`` and ``popleft`` are atomic, so threads append without a lock and a drain
loses nothing appended meanwhile. Rows are drained before names, so every code a drained
row uses has its name in the same batch or an earlier one.
"""
from __future__ import annotations

import os
import socket
import struct
import threading
from collections import deque
from collections.abc import Hashable, Iterator
from itertools import repeat, starmap
from typing import Any, NamedTuple

MESSAGE_LIMIT = 2000

#: a task row: ``(task_id, app-name code, time.time() when submitted)``
TASK = struct.Struct("<qid")
#: a graph edge: ``(task_id, the id of a task it waits for)``
EDGE = struct.Struct("<qq")
#: a state change: ``(task_id, failed tries so far, state code, time.time(), executor-label code)``;
#: the state code is one byte (``TaskFeed.state_codes``)
STATE = struct.Struct("<qiBdi")
STATE_CODE_AT = 12  # the offset of the state code in a STATE row
#: a try: ``(task_id, try, host code, pid, thread-name code, started, ended, exit code)``, the
#: exit code ``NO_EXIT`` when there is none
RUN = struct.Struct("<qiiiiddq")
NO_EXIT = -(2**63)

#: the packers, for the kernel's hot path: ``feed.states.append(pack_state(...))``
pack_task, pack_edge, pack_state, pack_run = TASK.pack, EDGE.pack, STATE.pack, RUN.pack


class Batch(NamedTuple):
    """What one :meth:`TaskFeed.drain` took: new ``(code, value)`` names and state names,
    packed rows, and ``(task_id, error type, message)`` failures."""

    names: list[tuple[int, Any]]
    state_names: list[tuple[int, str]]
    tasks: bytes
    edges: bytes
    states: bytes
    runs: bytes
    failures: list[tuple[int, str, str]]

    def __bool__(self) -> bool:
        return bool(self.names or self.state_names or self.tasks or self.edges or self.states or self.runs or self.failures)


class _Codes(dict):  # type: ignore[type-arg]
    """value -> small int; a missing value gets the next code and is announced in ``names``."""

    def __init__(self, names: deque[tuple[int, Any]], limit: int = 2**31 - 1) -> None:
        super().__init__()
        self._names = names
        self._lock = threading.Lock()
        self._limit = limit

    def __missing__(self, value: Hashable) -> int:
        with self._lock:
            code = dict.get(self, value)
            if code is None:
                code = len(self)
                if code > self._limit:
                    raise ValueError(f"more than {self._limit + 1} distinct values to code")
                self._names.append((code, value))  # before the code is used in any row
                self[value] = code
            return code


class TaskFeed:
    """The kernel writes; one monitor thread drains. See the module docstring."""

    __slots__ = ("_failures", "_names", "_state_names", "codes", "edges", "here", "runs", "state_codes", "states", "tasks")

    def __init__(self) -> None:
        self._names: deque[tuple[int, Any]] = deque()
        self._state_names: deque[tuple[int, Any]] = deque()
        #: packed rows (``pack_*``), appended by the kernel in the order things happened
        self.tasks: deque[bytes] = deque()
        self.edges: deque[bytes] = deque()
        self.states: deque[bytes] = deque()
        self.runs: deque[bytes] = deque()
        self._failures: deque[tuple[int, str, str]] = deque()
        #: the code of each value (app names, executor labels, hosts, threads) used so far
        self.codes: dict[Any, int] = _Codes(self._names)
        #: the code of each state name (a byte, so that drain can count states without unpacking)
        self.state_codes: dict[str, int] = _Codes(self._state_names, limit=255)
        #: this process: (host code, pid), for runs on its own threads
        self.here = (self.codes[socket.gethostname()], os.getpid())

    # -- the kernel's side (any thread) ---------------------------------------------------

    def task(self, task_id: int, app: str, submitted: float, parents: tuple[int, ...] = ()) -> None:
        """A task was created (state ``pending``), waiting for the tasks ``parents``."""
        self.tasks.append(pack_task(task_id, self.codes[app], submitted))
        for p in parents:
            self.edges.append(pack_edge(task_id, p))

    def state(self, task_id: int, tries: int, state: str, time: float, executor: str | None) -> None:
        """A task entered ``state`` after ``tries`` failed tries (the kernel's hot path packs
        the row itself, to spare a call)."""
        self.states.append(pack_state(task_id, tries, self.state_codes[state], time, self.codes[executor]))

    def run(self, task_id: int, try_number: int, host: str, pid: int, thread: str, started: float, ended: float, exit_code: int | None) -> None:
        """One try of a task ran on ``host`` in process ``pid`` (on thread ``thread``, or "")."""
        codes = self.codes
        self.runs.append(pack_run(task_id, try_number, codes[host], pid, codes[thread], started, ended, NO_EXIT if exit_code is None else exit_code))

    def failed(self, task_id: int, error: BaseException) -> None:
        """A task ended badly with ``error`` (its message is cut to 2,000 characters)."""
        try:
            message = str(error)
        except Exception:
            message = f"<{type(error).__name__} whose str() failed>"
        self._failures.append((task_id, type(error).__name__, message[:MESSAGE_LIMIT]))

    # -- the monitor's side (one thread at a time) ----------------------------------------

    def drain(self) -> Batch:
        """Everything recorded so far, taken out of the feed."""
        tasks, edges, states, runs = (b"".join(_take(q)) for q in (self.tasks, self.edges, self.states, self.runs))
        failures = _take(self._failures)
        return Batch(_take(self._names), _take(self._state_names), tasks, edges, states, runs, failures)


def _take(q: deque[Any]) -> list[Any]:
    # popleft as many times as q holds items now, in C (items appended meanwhile stay)
    return list(starmap(q.popleft, repeat((), len(q))))


def count_states(states: bytes, codes: set[int]) -> int:
    """How many of the packed STATE rows ``states`` have a state code in ``codes`` (no
    unpacking: the codes are one byte at a fixed place in each row)."""
    column = states[STATE_CODE_AT :: STATE.size]
    return sum(column.count(c) for c in codes)


def rows(batch: Batch, names: dict[int, Any], state_names: dict[int, str]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The rows of ``batch`` per table, codes replaced by their values. ``names`` holds the
    codes of earlier batches (``state_names`` their state codes) and is updated with this
    one's: ``task(task_id, app,
    submitted)``, ``dependency(task_id, parent_id)``, ``transition(task_id, try, state, time,
    executor)``, ``try_run(task_id, try, host, pid, thread, started, ended, exit_code)``,
    ``failure(task_id, error_type, message)``."""
    names.update(batch.names)
    state_names.update(batch.state_names)
    n, sn = names.__getitem__, state_names.__getitem__
    yield "task", [(t, n(a), s) for t, a, s in TASK.iter_unpack(batch.tasks)]
    yield "dependency", list(EDGE.iter_unpack(batch.edges))
    yield "transition", [(t, k, sn(s), w, n(e)) for t, k, s, w, e in STATE.iter_unpack(batch.states)]
    yield "try_run", [(t, k, n(h), p, n(th), s, e, None if x == NO_EXIT else x) for t, k, h, p, th, s, e, x in RUN.iter_unpack(batch.runs)]
    yield "failure", list(batch.failures)
