"""Rank 0's bookkeeping, as a pure state machine (no MPI, no sockets, no clock).

::

    add_worker(rank, node) ──▶ idle workers        submit(task) ──▶ queue
                                    │                                 │
                                    └────────── assignments() ◀───────┘  first fit, in order
                                                     │
                             finished(rank, id) ◀────┴────▶ lost(rank) -> the task it held

Slots: every rank of the block stands for one slot on its node (rank 0's own slot included).
An ordinary task takes an idle worker and one slot on that worker's node. An MPI app of
``num_ranks`` ranks on ``num_nodes`` nodes takes one idle worker (which launches the app and
waits for it) and ``ranks_per_node`` slots on each of ``num_nodes`` nodes, so several MPI apps
pack into one block while their slots last. A task that does not fit lets later tasks pass,
but only ``max_passes`` times; then nothing starts until it fits (no starvation).
"""
from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Waiting:
    task_id: Any
    payload: Any
    num_ranks: int = 1
    num_nodes: int = 1
    passed: int = 0


@dataclass(frozen=True)
class Assignment:
    """Run ``task_id`` on worker ``rank``; an MPI app's ranks go to ``nodes``."""

    rank: int
    task_id: Any
    payload: Any
    nodes: tuple[str, ...] = ()


@dataclass
class _Running:
    rank: int
    usage: dict[str, int] = field(default_factory=dict)


class Scheduler:
    def __init__(self, max_passes: int | None = None) -> None:
        self.capacity: Counter[str] = Counter()
        self.used: Counter[str] = Counter()
        self.node_of: dict[int, str] = {}
        self.idle: dict[int, None] = {}  # an ordered set
        self.running: dict[Any, _Running] = {}
        self.task_on: dict[int, Any] = {}
        self.queue: deque[Waiting] = deque()
        self.lost_ranks: set[int] = set()
        self._max_passes = max_passes

    # -- ranks ------------------------------------------------------------------------------

    def add_slot(self, node: str) -> None:
        """A rank that does not run tasks (rank 0) lends its slot to MPI apps."""
        self.capacity[node] += 1

    def add_worker(self, rank: int, node: str) -> None:
        if rank in self.node_of or rank in self.lost_ranks:
            return
        self.node_of[rank] = node
        self.capacity[node] += 1
        self.idle[rank] = None

    @property
    def workers(self) -> int:
        return len(self.node_of)

    @property
    def max_passes(self) -> int:
        return self._max_passes if self._max_passes is not None else max(4, 2 * self.workers)

    def lost(self, rank: int) -> Any:
        """Worker ``rank`` died: forget it (its slot too); return the task it held, if any."""
        self.lost_ranks.add(rank)
        node = self.node_of.pop(rank, None)
        if node is None:
            return None
        self.idle.pop(rank, None)
        self.capacity[node] -= 1
        task_id = self.task_on.pop(rank, None)
        if task_id is not None:
            self._release(task_id)
        return task_id

    # -- tasks ------------------------------------------------------------------------------

    def submit(self, task_id: Any, payload: Any, num_ranks: int = 1, num_nodes: int = 1) -> None:
        self.queue.append(Waiting(task_id, payload, num_ranks, num_nodes))

    def fits_ever(self, num_ranks: int, num_nodes: int) -> bool:
        """Whether the block could run this MPI app at all with the ranks it has now."""
        per = num_ranks // num_nodes
        return sum(1 for c in self.capacity.values() if c >= per) >= num_nodes

    def drop_impossible(self) -> list[Waiting]:
        """Take out the waiting tasks that the block's ranks, as they are now, can never run
        (more ranks per node than any node has, or more such nodes than there are)."""
        bad = [w for w in self.queue if not self.fits_ever(w.num_ranks, w.num_nodes)]
        if bad:
            self.queue = deque(w for w in self.queue if w not in bad)
        return bad

    def finished(self, rank: int, task_id: Any) -> bool:
        """A worker reported a task's end; ``False`` if that task is not known to run there."""
        if self.task_on.get(rank) != task_id:
            return False
        del self.task_on[rank]
        self._release(task_id)
        if rank in self.node_of:
            self.idle[rank] = None
        return True

    def _release(self, task_id: Any) -> None:
        run = self.running.pop(task_id, None)
        if run is not None:
            self.used.subtract(run.usage)

    def _free(self, node: str) -> int:
        return self.capacity[node] - self.used[node]

    def _place(self, w: Waiting) -> tuple[int, dict[str, int]] | None:
        per = w.num_ranks // w.num_nodes
        for rank in self.idle:
            home = self.node_of[rank]
            if self._free(home) < per:
                continue
            usage = {home: per}
            for node in self.capacity:
                if len(usage) == w.num_nodes:
                    break
                if node not in usage and self._free(node) >= per:
                    usage[node] = per
            if len(usage) == w.num_nodes:
                return rank, usage
            return None  # another idle worker's node would not find more nodes either
        return None

    def assignments(self) -> list[Assignment]:
        """Start every waiting task that fits now, oldest first."""
        out: list[Assignment] = []
        if not self.idle:
            return out
        kept: deque[Waiting] = deque()
        blocked = False
        while self.queue:
            w = self.queue.popleft()
            blocked = blocked or (bool(kept) and kept[0].passed >= self.max_passes)
            placed = None if blocked or not self.idle else self._place(w)
            if placed is None:
                kept.append(w)
                continue
            if kept:
                # w passes the oldest waiting task, which may be passed only so often
                kept[0].passed += 1
            rank, usage = placed
            del self.idle[rank]
            self.used.update(usage)
            self.running[w.task_id] = _Running(rank, usage)
            self.task_on[rank] = w.task_id
            mpi = w.num_ranks > 1 or w.num_nodes > 1
            out.append(Assignment(rank, w.task_id, w.payload, tuple(usage) if mpi else ()))
        self.queue = kept
        return out
