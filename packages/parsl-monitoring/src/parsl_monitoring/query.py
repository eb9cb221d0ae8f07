"""Reading a run's store: the summaries behind ``parsl status``, the report and the web view.
Everything here reads; it works on a finished run and on a live one."""
from __future__ import annotations

import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

STATE_ORDER = ("pending", "launched", "running", "joining", "exec_done", "memo_done", "failed", "dep_fail")


@dataclass
class Failure:
    task_id: int
    app: str
    state: str  # failed or dep_fail
    error_type: str
    message: str
    root_causes: list[int] = field(default_factory=list)  # the failed tasks this failure comes from


@dataclass
class Slow:
    task_id: int
    app: str
    seconds: float
    host: str
    pid: int


@dataclass
class RunSummary:
    meta: dict[str, str]
    states: dict[int, str]  # task id -> state
    apps: dict[int, str]  # task id -> app name
    by_state: Counter[str]
    by_app: dict[str, Counter[str]]
    retries: int
    slowest: list[Slow]
    failures: list[Failure]
    root_causes: dict[int, int]  # failed task id -> how many dep_fail tasks it caused
    blocks: list[dict[str, Any]]

    @property
    def live(self) -> bool:
        return "ended" not in self.meta

    @property
    def total(self) -> int:
        return len(self.states)


def load_meta(db: sqlite3.Connection) -> dict[str, str]:
    return {r[0]: r[1] for r in db.execute("SELECT key, value FROM meta")}


def task_states(db: sqlite3.Connection) -> tuple[dict[int, str], dict[int, str]]:
    """(task id -> state, task id -> app) for every task, ``pending`` for those with no
    transition yet; ``running`` when a try has started but no outcome is recorded."""
    apps = {r[0]: r[1] for r in db.execute("SELECT task_id, app FROM task")}
    states = dict.fromkeys(apps, "pending")
    for tid, state in db.execute("SELECT task_id, state FROM task_final"):
        states[tid] = state
    return states, apps


def parents_of(db: sqlite3.Connection) -> dict[int, list[int]]:
    parents: dict[int, list[int]] = defaultdict(list)
    for tid, pid in db.execute("SELECT task_id, parent_id FROM dependency"):
        parents[tid].append(pid)
    return parents


def root_causes(tid: int, states: dict[int, str], parents: dict[int, list[int]]) -> list[int]:
    """The failed tasks (not themselves dependency failures) that ``tid``'s failure comes from."""
    if states.get(tid) == "failed":
        return [tid]
    seen: set[int] = set()
    roots: set[int] = set()
    stack = list(parents.get(tid, ()))
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        st = states.get(p)
        if st == "failed":
            roots.add(p)
        elif st == "dep_fail":
            stack.extend(parents.get(p, ()))
    return sorted(roots)


def summarize(db: sqlite3.Connection, slowest: int = 5, failures: int = 20) -> RunSummary:
    meta = load_meta(db)
    states, apps = task_states(db)
    by_state: Counter[str] = Counter(states.values())
    by_app: dict[str, Counter[str]] = defaultdict(Counter)
    for tid, st in states.items():
        by_app[apps[tid]][st] += 1
    retries = db.execute("SELECT count(*) FROM transition WHERE state = 'launched' AND try > 0").fetchone()[0]
    slow = [
        Slow(r[0], apps.get(r[0], "?"), r[1], r[2] or "", r[3] or 0)
        for r in db.execute(
            "SELECT task_id, ended - started AS secs, host, pid FROM try_run WHERE ended IS NOT NULL ORDER BY secs DESC LIMIT ?", (slowest,)
        )
    ]
    parents = parents_of(db)
    errors = {r[0]: (r[1], r[2]) for r in db.execute("SELECT task_id, error_type, message FROM failure")}
    bad = sorted(t for t, st in states.items() if st in ("failed", "dep_fail"))
    caused: Counter[int] = Counter()
    fails: list[Failure] = []
    for tid in bad:
        roots = root_causes(tid, states, parents)
        if states[tid] == "dep_fail":
            caused.update(roots)
        if len(fails) < failures:
            etype, msg = errors.get(tid, ("", ""))
            fails.append(Failure(tid, apps[tid], states[tid], etype, msg, roots))
    for root in [t for t in bad if states[t] == "failed"]:
        caused.setdefault(root, 0)
    blocks = [
        {"executor": r[0], "block": r[1], "event": r[2], "time": r[3], "detail": r[4]}
        for r in db.execute(
            "SELECT executor, block_id, event, time, detail FROM block WHERE rowid IN (SELECT max(rowid) FROM block GROUP BY executor, block_id) ORDER BY executor, block_id"
        )
    ]
    return RunSummary(meta, states, apps, by_state, dict(by_app), retries, slow, fails, dict(caused), blocks)


@dataclass
class Bar:
    task_id: int
    app: str
    try_number: int
    worker: str  # host:pid, or host:pid/thread
    started: float
    ended: float
    outcome: str  # exec_done / failed / retried


def timeline(db: sqlite3.Connection, limit: int = 5000) -> tuple[list[Bar], int]:
    """Each try as a bar on its worker, the first ``limit`` by start time; and how many there are."""
    total = db.execute("SELECT count(*) FROM try_run WHERE started IS NOT NULL").fetchone()[0]
    apps = {r[0]: r[1] for r in db.execute("SELECT task_id, app FROM task")}
    final = {r[0]: r[1] for r in db.execute("SELECT task_id, state FROM task_final")}
    last_try = {r[0]: r[1] for r in db.execute("SELECT task_id, max(try) FROM try_run GROUP BY task_id")}
    bars = []
    for tid, tr, host, pid, thread, started, ended in db.execute(
        "SELECT task_id, try, host, pid, thread, started, ended FROM try_run WHERE started IS NOT NULL ORDER BY started LIMIT ?", (limit,)
    ):
        state = final.get(tid, "running")
        outcome = "retried" if tr < last_try.get(tid, tr) else ("failed" if state in ("failed", "dep_fail") else "exec_done")
        worker = f"{host}:{pid}/{thread}" if thread else f"{host}:{pid}"
        bars.append(Bar(tid, apps.get(tid, "?"), tr, worker, started, ended if ended is not None else started, outcome))
    return bars, total


def graph(db: sqlite3.Connection) -> tuple[dict[int, str], dict[int, str], list[tuple[int, int]]]:
    """(task id -> state, task id -> app, [(parent, child)]) of the whole run."""
    states, apps = task_states(db)
    edges = [(p, t) for t, p in db.execute("SELECT task_id, parent_id FROM dependency")]
    return states, apps, edges
