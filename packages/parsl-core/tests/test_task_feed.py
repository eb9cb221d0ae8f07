"""The task feed: packed rows in, the same rows out, nothing lost while threads append."""
from __future__ import annotations

import gc
import os
import socket
import threading

import pytest

from parsl.interfaces import TaskFeed
from parsl.interfaces.task_feed import count_states, count_tasks, pack_state, rows


def _all_rows(feed: TaskFeed, names: dict, state_names: dict) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for table, batch_rows in rows(feed.drain(), names, state_names):
        out.setdefault(table, []).extend(batch_rows)
    return out


def test_every_kind_of_row_comes_back_with_its_names():
    feed = TaskFeed()
    names: dict = {}
    state_names: dict = {}
    feed.task(1, "inc", 10.5)
    feed.task(2, "add", 11.0, (1, 7))
    feed.launch(1, 0, "threads", 12.0)
    feed.try_ended(1, 0, "threads", ("node7", 4242, 12.25, 12.75, None, "ThreadPool-0_1"), "exec_done", 13.0)
    feed.launch(2, 1, "htex", 14.0)
    feed.try_ended(2, 1, "htex", ("node8", 99, 14.0, 15.0, -9, ""), "failed", 15.5)
    feed.try_ended(3, 0, "htex", None, "launched", 16.0)  # refused by the executor, tried again
    feed.state(4, 0, "memo_done", 17.0, None)
    feed.failed(2, ValueError("x" * 5000))
    got = _all_rows(feed, names, state_names)
    assert got["task"] == [(1, "inc", 10.5), (2, "add", 11.0)]
    assert got["dependency"] == [(2, 1), (2, 7)]
    assert got["launch"] == [(1, 0, "threads", 12.0), (2, 1, "htex", 14.0)]
    assert got["try_run"] == [
        (1, 0, "threads", "node7", 4242, "ThreadPool-0_1", 12.25, 12.75, None, "exec_done", 13.0),
        (2, 1, "htex", "node8", 99, "", 14.0, 15.0, -9, "failed", 15.5),
        (3, 0, "htex", None, None, None, None, None, None, "launched", 16.0),
    ]
    assert got["state_change"] == [(4, 0, "memo_done", 17.0, None)]
    assert got["failure"] == [(2, "ValueError", "x" * 2000)]
    # a second batch uses codes announced in the first
    feed.launch(2, 2, "htex", 16.0)
    feed.task(3, "inc", 17.0)
    got = _all_rows(feed, names, state_names)
    assert got["launch"] == [(2, 2, "htex", 16.0)]
    assert got["task"] == [(3, "inc", 17.0)]
    assert not feed.drain()


def test_rows_are_not_tracked_by_the_garbage_collector():
    feed = TaskFeed()
    feed.state(1, 0, "memo_done", 1.0, "threads")
    feed.task(1, "inc", 1.0)
    feed.launch(1, 0, "threads", 1.0)
    feed.try_ended(1, 0, "threads", ("h", 1, 0.5, 0.75, None, "t"), "exec_done", 1.0)
    assert not any(gc.is_tracked(r) for q in (feed.states, feed.tasks, feed.launches, feed.tries) for r in q)


def test_count_states_reads_the_state_byte_of_state_and_try_rows():
    feed = TaskFeed()
    for i, state in enumerate(["memo_done", "exec_done", "dep_fail", "failed", "dep_fail", "joining"]):
        feed.state(i, 0, state, float(i), "threads" if i % 2 else None)
    for i, outcome in enumerate(["exec_done", "launched", "failed", "joining", "exec_done"]):
        feed.try_ended(10 + i, 0, "threads", None if i % 2 else ("h", 1, 0.5, 0.75, None, "t"), outcome, float(i))
    batch = feed.drain()
    final = {code for code, name in batch.state_names if name in ("exec_done", "failed", "dep_fail")}
    assert count_states(batch, final) == 4 + 3  # memo_done is not in this set
    joining = {code for code, name in batch.state_names if name == "joining"}
    assert count_states(batch, joining) == 2


def test_more_than_256_state_names_is_an_error_not_a_wrong_row():
    feed = TaskFeed()
    for i in range(256):
        feed.state(0, 0, f"s{i}", 0.0, None)
    with pytest.raises(ValueError, match="256 distinct"):
        feed.state(0, 0, "one too many", 0.0, None)
    with pytest.raises(Exception):  # the packer itself refuses a code beyond a byte
        pack_state(0, 0, 256, 0.0, 0)


def test_a_name_first_used_while_a_drain_is_under_way_travels_with_its_row():
    """The interleaving that matters, made to happen: a producer registers a new app name and
    appends its row after drain() started but before it takes the task rows. Rows are taken
    before names, so the name is in the same batch."""
    from collections import deque

    feed = TaskFeed()

    class ProducerStepsIn(deque):
        fired = False

        def __len__(self) -> int:
            if not self.fired:
                self.fired = True
                feed.task(99, "late-app", 1.0)  # runs inside drain(), as another thread would
            return super().__len__()

    feed.tasks = ProducerStepsIn()
    names: dict = {}
    assert _all_rows(feed, names, {})["task"] == [(99, "late-app", 1.0)]


def test_threads_appending_while_a_monitor_drains_lose_nothing():
    """Four threads record 20,000 tasks each, with a new app name every ten, while another
    thread drains: every row arrives exactly once and every code has its name by then."""
    feed = TaskFeed()
    names: dict = {}
    state_names: dict = {}
    stop = threading.Event()
    seen: list[tuple] = []
    transitions: list[tuple] = []

    def drain_loop() -> None:
        while True:
            last = stop.is_set()
            got = _all_rows(feed, names, state_names)  # KeyError here if a name came late
            seen.extend(got.get("task", []))
            transitions.extend(got.get("launch", []))
            if last:
                return

    def produce(k: int) -> None:
        for i in range(20_000):
            tid = k * 100_000 + i
            feed.task(tid, f"app{k}-{i // 10}", float(i))
            feed.launch(tid, i % 2, f"ex{i % 3}", float(i))

    drainer = threading.Thread(target=drain_loop)
    drainer.start()
    producers = [threading.Thread(target=produce, args=(k,)) for k in range(4)]
    for t in producers:
        t.start()
    for t in producers:
        t.join()
    stop.set()
    drainer.join()
    assert sorted(r[0] for r in seen) == sorted(k * 100_000 + i for k in range(4) for i in range(20_000))
    assert {r[1] for r in seen} == {f"app{k}-{j}" for k in range(4) for j in range(2000)}
    assert len(transitions) == 80_000 and {r[2] for r in transitions} == {"ex0", "ex1", "ex2"}


class _Task:
    """A held task as the kernel's record presents it (see ``HeldTask``)."""

    def __init__(self, id: int, func_name: str = "inc", submitted: float = 1.0) -> None:
        self.id, self.func_name, self.submitted, self.try_no = id, func_name, submitted, 0
        self.executor_label: str | None = None

    def launch(self, executor: str, at: float) -> None:  # in _send's order: executor, try, time
        self.executor_label = executor
        self.try_no = 0
        self.launched = at


def test_a_task_that_ends_before_any_drain_is_one_full_row_and_three_in_the_store():
    feed = TaskFeed()
    t = _Task(7, "inc", 10.0)
    feed.hold(t)
    t.launch("threads", 10.5)
    feed.local_try_ended(t, "threads", "ThreadPool-0_1", 11.0, 12.0, "exec_done")
    assert len(feed.full) == 1 and not (feed.tasks or feed.launches or feed.local_tries)
    batch = feed.drain()
    final = {code for code, name in batch.state_names if name == "exec_done"}
    assert count_tasks(batch) == 1 and count_states(batch, final) == 1
    got = _all_rows_of(batch)
    host = socket.gethostname()
    assert got["task"] == [(7, "inc", 10.0)]
    assert got["launch"] == [(7, 0, "threads", 10.5)]
    assert got["try_run"] == [(7, 0, "threads", host, os.getpid(), "ThreadPool-0_1", 11.0, 12.0, None, "exec_done", 12.0)]


def test_a_drain_publishes_held_tasks_with_their_launch_and_their_try_then_comes_alone():
    feed = TaskFeed()
    waiting, running = _Task(1, "child", 1.0), _Task(2, "inc", 2.0)
    feed.hold(waiting)
    feed.hold(running)
    running.launch("threads", 2.5)
    names: dict = {}
    state_names: dict = {}
    got = _all_rows_of(feed.drain(), names, state_names)
    assert got["task"] == [(1, "child", 1.0), (2, "inc", 2.0)]
    assert got["launch"] == [(2, 0, "threads", 2.5)]  # the pending one has no launch yet
    assert not feed.unpublished
    feed.local_try_ended(running, "threads", "t", 3.0, 4.0, "exec_done")
    batch = feed.drain()
    assert count_tasks(batch) == 0 and not batch.full
    assert _all_rows_of(batch, names, state_names)["try_run"] == [(2, 0, "threads", socket.gethostname(), os.getpid(), "t", 3.0, 4.0, None, "exec_done", 4.0)]
    feed.publish(2)  # a second publish writes nothing
    assert not feed.drain()


def _all_rows_of(batch, names: dict | None = None, state_names: dict | None = None) -> dict[str, list[tuple]]:
    return {table: r for table, r in rows(batch, {} if names is None else names, {} if state_names is None else state_names)}


def test_a_drain_can_leave_young_tasks_held_so_that_they_may_end_in_one_row():
    import time

    feed = TaskFeed()
    old, young = _Task(1, "inc", time.time() - 5), _Task(2, "inc", time.time())
    feed.hold(old)
    feed.hold(young)
    batch = feed.drain(hold_for=1.0)
    assert [r[0] for r in rows(batch, {}, {}).__next__()[1]] == [1]  # only the old one's task row
    assert list(feed.unpublished) == [2]
    young.launch("threads", 0.5)
    feed.local_try_ended(young, "threads", "t", 1.0, 2.0, "exec_done")
    assert len(feed.full) == 1
    assert not feed.unpublished and count_tasks(feed.drain()) == 1
