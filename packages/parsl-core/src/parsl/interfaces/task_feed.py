"""The task feed: what the kernel records about its tasks for a monitor, on the hot path.

::

    kernel threads ── hold(task) at submit ────▶ unpublished {task_id: task}   (no row yet)
                   ── edge ────────────────────▶ packed rows ──▶ deques
                   ── launch (once published) ─▶   (one per try handed to an executor)
                   ── end of a try ────────────▶   a FULL row if the task was still unpublished
                                                   (task + launch + try in one), else a try row
                   ── state() / failed() ──────▶   (changes outside a try; failures as tuples)
    monitor thread ── drain() ──▶ publishes what is still unpublished (task row, and its
                                  launch row if it has one), then takes every deque:
                                  Batch(names, state_names, tasks, ..., full, failures, here)

**Whoever gets there first writes the task's row.** A task is *held* at submission: its
record goes into :attr:`TaskFeed.unpublished`, with its submission and launch times as
attributes. Whoever first pops it from there (``dict.pop`` is atomic) writes its row: the end
of its first try, which then writes one FULL row for all three (the usual fate of a short task,
which ends within one drain interval), or a drain of the monitor's once the task has been held
for ``hold_for`` seconds (one drain interval), which writes its task row and, if it was
launched by then, its launch row, so that a live view sees tasks waiting and in flight.
A no-op task is then one row instead of three: rows are what monitoring costs the workflow's
core (measured: each row cost about 1-2 µs in a 100,000-task run, several times what the
packing itself costs in a loop).

Launches of a published task are written by the kernel as they happen. A launch that races
with the drain publishing the same task can be written twice, identically; the store keeps
one (``launch`` is unique on ``(task_id, try)``). No launch is lost: the kernel sets
``launched`` before it looks whether the task is published, and the drain pops the task
before it reads ``launched``.

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

import math
import os
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Hashable, Iterator
from itertools import repeat, starmap
from typing import Any, NamedTuple, Protocol

MESSAGE_LIMIT = 2000
_now = time.time

#: a task row: ``(task_id, app-name code, time.time() when submitted)``
TASK = struct.Struct("<qid")
#: a graph edge: ``(task_id, the id of a task it waits for)``
EDGE = struct.Struct("<qq")
#: a try handed to an executor: ``(task_id, try, executor-label code, time.time())``
LAUNCH = struct.Struct("<qiid")
#: a try that ended: ``(task_id, try, executor-label code, host code, pid, thread-name code,
#: started, ended, exit code, outcome state code, time.time())``. The outcome is the state the
#: task moved to (``exec_done``, ``failed``, ``joining``, or ``launched`` for a retry). Without
#: run information (the executor refused the try, or the run was lost) the host code is
#: ``NO_HOST``; the exit code is ``NO_EXIT`` when there is none.
TRY = struct.Struct("<qiiiiiddqBd")
TRY_OUTCOME_AT = 52  # the offset of the outcome's state code in a TRY row
#: a TRY row made short for the common case, a python app run by a thread of this process:
#: ``(task_id, try, executor-label code, thread-name code, started, ended, outcome state
#: code)``; its host and pid are ``TaskFeed.here``, it has no exit code, and the task moved
#: on when the run ended
LOCAL_TRY = struct.Struct("<qiiiddB")
LOCAL_OUTCOME_AT = 36
#: a state change outside a try: ``(task_id, failed tries so far, state code, time.time(),
#: executor-label code)``; the state code is one byte (``TaskFeed.state_codes``)
STATE = struct.Struct("<qiBdi")
STATE_CODE_AT = 12  # the offset of the state code in a STATE row
#: a task and its first try in one row, written by the end of that try when no drain had
#: published the task yet: ``(task_id, app code, submitted, try, executor code, launched,
#: thread code, started, ended, outcome state code)``; like LOCAL_TRY, for a python app run by
#: a thread of this process (host and pid are ``TaskFeed.here``)
FULL = struct.Struct("<qidiididdB")
FULL_OUTCOME_AT = 56
NO_EXIT = -(2**63)
NO_HOST = -1

#: the packers, for the kernel's hot path: ``feed.tries.append(pack_try(...))``
pack_task, pack_edge, pack_launch, pack_try, pack_local_try, pack_state = TASK.pack, EDGE.pack, LAUNCH.pack, TRY.pack, LOCAL_TRY.pack, STATE.pack
pack_full = FULL.pack


class HeldTask(Protocol):
    """What :meth:`TaskFeed.hold` needs of a task (the kernel's task record has it): before a
    launch, set the executor, ``try_no`` and then ``launched`` (``time.time()``; unset or None
    until the first launch)."""

    id: int
    func_name: str
    submitted: float
    launched: float | None
    try_no: int

    @property
    def executor_label(self) -> str | None: ...


class Batch(NamedTuple):
    """What one :meth:`TaskFeed.drain` took: new ``(code, value)`` names and state names,
    packed rows, ``(task_id, error type, message)`` failures, and the feed's ``here``."""

    names: list[tuple[int, Any]]
    state_names: list[tuple[int, str]]
    tasks: bytes
    edges: bytes
    launches: bytes
    tries: bytes
    local_tries: bytes
    states: bytes
    failures: list[tuple[int, str, str]]
    here: tuple[int, int]
    full: bytes = b""

    def __bool__(self) -> bool:
        return any(self[:-2]) or bool(self.full)


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

    __slots__ = ("_failures", "_names", "_state_names", "codes", "edges", "full", "here", "launches", "local_tries", "state_codes", "states", "tasks", "tries", "unpublished")

    def __init__(self) -> None:
        self._names: deque[tuple[int, Any]] = deque()
        self._state_names: deque[tuple[int, Any]] = deque()
        #: packed rows (``pack_*``), appended by the kernel in the order things happened
        self.tasks: deque[bytes] = deque()
        self.edges: deque[bytes] = deque()
        self.launches: deque[bytes] = deque()
        self.tries: deque[bytes] = deque()
        self.local_tries: deque[bytes] = deque()
        self.states: deque[bytes] = deque()
        self.full: deque[bytes] = deque()
        #: held tasks whose row nobody has written yet, by id (see the module docstring)
        self.unpublished: dict[int, HeldTask] = {}
        self._failures: deque[tuple[int, str, str]] = deque()
        #: the code of each value (app names, executor labels, hosts, threads) used so far
        self.codes: dict[Any, int] = _Codes(self._names)
        #: the code of each state name (a byte, so that drain can count states without unpacking)
        self.state_codes: dict[str, int] = _Codes(self._state_names, limit=255)
        #: this process: (host code, pid), for runs on its own threads
        self.here = (self.codes[socket.gethostname()], os.getpid())

    # -- the kernel's side (any thread); its hot path packs rows itself, to spare a call --

    def task(self, task_id: int, app: str, submitted: float, parents: tuple[int, ...] = ()) -> None:
        """A task was created (state ``pending``), waiting for the tasks ``parents``."""
        self.tasks.append(pack_task(task_id, self.codes[app], submitted))
        for p in parents:
            self.edges.append(pack_edge(task_id, p))

    def hold(self, task: HeldTask) -> None:
        """A task was created (state ``pending``): its row is written by whoever publishes it
        first (its first try's end, or the next drain). The kernel inlines this."""
        self.unpublished[task.id] = task

    def publish(self, task_id: int) -> None:
        """Write the row of a held task (and its launch row, if it was launched) unless
        someone already has: the slow paths call this before any other row of the task."""
        task = self.unpublished.pop(task_id, None)
        if task is None:
            return
        codes = self.codes
        self.tasks.append(pack_task(task_id, codes[task.func_name], task.submitted))
        launched = getattr(task, "launched", None)  # unset until its first launch
        if launched is not None:
            self.launches.append(pack_launch(task_id, task.try_no, codes[task.executor_label], launched))

    def launch(self, task_id: int, try_number: int, executor: str | None, time: float) -> None:
        """Try ``try_number`` (from 0) of a task was handed to ``executor`` (state ``launched``)."""
        self.launches.append(pack_launch(task_id, try_number, self.codes[executor], time))

    def try_ended(self, task_id: int, try_number: int, executor: str | None, run: tuple[Any, ...] | None, outcome: str, time: float) -> None:
        """A try ended and the task moved to ``outcome``. ``run`` is where and when it ran, as
        the worker saw it, in the order of :class:`~parsl.interfaces.RunInfo` (``host, pid,
        started, ended, exit_code, thread``); None when nothing ran."""
        codes = self.codes
        if run is None:
            host, pid, thread, started, ended, code = NO_HOST, 0, codes[""], 0.0, 0.0, NO_EXIT
        else:
            host, pid, started, ended, exit_code, thread = codes[run[0]], run[1], run[2], run[3], run[4], codes[run[5]]
            code = NO_EXIT if exit_code is None else exit_code
        self.tries.append(pack_try(task_id, try_number, codes[executor], host, pid, thread, started, ended, code, self.state_codes[outcome], time))

    def local_try_ended(self, task: HeldTask, executor: str | None, thread: str, started: float, ended: float, outcome: str) -> None:
        """A try of a held task ran on ``thread`` of this process and ended; the task moved to
        ``outcome`` at ``ended``. One FULL row if nobody has published the task yet, else a
        LOCAL_TRY row. (The kernel's hot path packs the same rows inline.)"""
        codes, state = self.codes, self.state_codes[outcome]
        if self.unpublished.pop(task.id, None) is not None:
            self.full.append(pack_full(task.id, codes[task.func_name], task.submitted, task.try_no, codes[executor], task.launched, codes[thread], started, ended, state))
        else:
            self.local_tries.append(pack_local_try(task.id, task.try_no, codes[executor], codes[thread], started, ended, state))

    def state(self, task_id: int, tries: int, state: str, time: float, executor: str | None) -> None:
        """A task entered ``state`` after ``tries`` failed tries, outside a try."""
        self.states.append(pack_state(task_id, tries, self.state_codes[state], time, self.codes[executor]))

    def failed(self, task_id: int, error: BaseException) -> None:
        """A task ended badly with ``error`` (its message is cut to 2,000 characters)."""
        try:
            message = str(error)
        except Exception:
            message = f"<{type(error).__name__} whose str() failed>"
        self._failures.append((task_id, type(error).__name__, message[:MESSAGE_LIMIT]))

    # -- the monitor's side (one thread at a time) ----------------------------------------

    def drain(self, hold_for: float = 0.0) -> Batch:
        """Everything recorded so far, taken out of the feed, held tasks published first: all
        of them, or those held for at least ``hold_for`` seconds (the others may yet end and go
        out in one row; a monitor that drains every ``t`` seconds passes ``t``, so that a task
        shows up within two drains)."""
        publish = self.publish
        cutoff = _now() - hold_for if hold_for > 0 else math.inf
        # a snapshot (the kernel holds more meanwhile), in the order the tasks were held
        for task_id, task in list(self.unpublished.items()):
            if task.submitted > cutoff:
                break
            publish(task_id)
        queues = (self.tasks, self.edges, self.launches, self.tries, self.local_tries, self.states, self.full)
        tasks, edges, launches, tries, local_tries, states, full = (b"".join(_take(q)) for q in queues)
        failures = _take(self._failures)
        return Batch(_take(self._names), _take(self._state_names), tasks, edges, launches, tries, local_tries, states, failures, self.here, full)


def _take(q: deque[Any]) -> list[Any]:
    # popleft as many times as q holds items now, in C (items appended meanwhile stay)
    return list(starmap(q.popleft, repeat((), len(q))))


def count_codes(packed: bytes, row: struct.Struct, offset: int, codes: set[int]) -> int:
    """How many of the packed rows ``packed`` (each ``row.size`` bytes) hold a code in
    ``codes`` in their one-byte field at ``offset`` (no unpacking)."""
    column = packed[offset :: row.size]
    return sum(column.count(c) for c in codes)


def count_states(batch: Batch, codes: set[int]) -> int:
    """How many state changes in ``batch`` (STATE rows, and the outcomes of TRY rows) moved a
    task to a state whose code is in ``codes``."""
    return (
        count_codes(batch.states, STATE, STATE_CODE_AT, codes)
        + count_codes(batch.tries, TRY, TRY_OUTCOME_AT, codes)
        + count_codes(batch.local_tries, LOCAL_TRY, LOCAL_OUTCOME_AT, codes)
        + count_codes(batch.full, FULL, FULL_OUTCOME_AT, codes)
    )


def count_tasks(batch: Batch) -> int:
    """How many tasks ``batch`` made known (task rows and FULL rows)."""
    return len(batch.tasks) // TASK.size + len(batch.full) // FULL.size


def rows(batch: Batch, names: dict[int, Any], state_names: dict[int, str]) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """The rows of ``batch`` per table, codes replaced by their values. ``names`` holds the
    codes of earlier batches (``state_names`` their state codes) and is updated with this
    one's: ``task(task_id, app, submitted)``, ``dependency(task_id, parent_id)``,
    ``launch(task_id, try, executor, time)``, ``try_run(task_id, try, executor, host, pid,
    thread, started, ended, exit_code, outcome, time)`` (host, pid, thread, started and ended
    None when nothing ran), ``state_change(task_id, try, state, time, executor)``,
    ``failure(task_id, error_type, message)``."""
    names.update(batch.names)
    state_names.update(batch.state_names)
    n, sn = names.__getitem__, state_names.__getitem__
    host, pid = n(batch.here[0]), batch.here[1]
    full = list(FULL.iter_unpack(batch.full))
    yield "task", [(t, n(a), s) for t, a, s in TASK.iter_unpack(batch.tasks)] + [(r[0], n(r[1]), r[2]) for r in full]
    yield "dependency", list(EDGE.iter_unpack(batch.edges))
    yield "launch", [(t, k, n(e), w) for t, k, e, w in LAUNCH.iter_unpack(batch.launches)] + [(t, k, n(e), w) for t, _, _, k, e, w, *_ in full]
    yield "try_run", [
        (t, k, n(e), n(h), p, n(th), s, x, None if c == NO_EXIT else c, sn(o), w)
        if h != NO_HOST
        else (t, k, n(e), None, None, None, None, None, None, sn(o), w)
        for t, k, e, h, p, th, s, x, c, o, w in TRY.iter_unpack(batch.tries)
    ] + [(t, k, n(e), host, pid, n(th), s, x, None, sn(o), x) for t, k, e, th, s, x, o in LOCAL_TRY.iter_unpack(batch.local_tries)] + [
        (t, k, n(e), host, pid, n(th), s, x, None, sn(o), x) for t, _, _, k, e, _, th, s, x, o in full
    ]
    yield "state_change", [(t, k, sn(s), w, n(e)) for t, k, s, w, e in STATE.iter_unpack(batch.states)]
    yield "failure", list(batch.failures)
