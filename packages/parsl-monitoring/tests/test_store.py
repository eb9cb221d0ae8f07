"""The monitoring store, filled by real workflows on the thread executor and read back."""
from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
import threading
from collections import defaultdict, deque
from itertools import pairwise
from pathlib import Path

import pytest

import parsl
from parsl import DataFlowKernel, bash_app, join_app, python_app
from parsl.dataflow.states import TRANSITIONS, States
from parsl.interfaces import TaskFeed
from parsl.interfaces.task_feed import FULL, TASK
from parsl_monitoring import SqliteMonitor, summarize
from parsl_monitoring.query import root_causes, task_states
from parsl_monitoring.schema import DDL
from parsl_monitoring.store import open_store
from parsl_monitoring.writer import write_batch


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PARSL_MONITORING", raising=False)
    monkeypatch.delenv("PARSL_PROGRESS", raising=False)
    yield
    parsl.clear()


_ALLOWED = {(a.value, b.value) for (a, _), b in TRANSITIONS.items()}


def _transitions(db: sqlite3.Connection) -> dict[int, list[tuple[str, int]]]:
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for tid, state, tr in db.execute("SELECT task_id, state, try FROM transition ORDER BY time"):
        out[tid].append((state, tr))
    return out


def _fails_its_first_try(path):
    """Counts its tries in the file ``path``; the first raises."""
    n = int(open(path).read()) if os.path.exists(path) else 0
    open(path, "w").write(str(n + 1))
    if n == 0:
        raise RuntimeError("first try fails")
    return n


def test_every_task_and_transition_is_stored_and_consistent(tmp_path):
    counter = tmp_path / "tries"

    @python_app
    def inc(x):
        return x + 1

    @python_app
    def boom(x):
        raise ValueError(f"boom at {x}")

    flaky = python_app(_fails_its_first_try)

    @python_app(cache=True)
    def cached(x):
        return x * 10

    @bash_app
    def shell(code):
        return f"exit {code}"

    @join_app
    def fan(n):
        return [inc(i) for i in range(n)]

    with parsl.load(parsl.Config(monitoring=True, retries=1)) as dfk:
        first = [inc(i) for i in range(50)]
        second = [inc(f) for f in first]
        bad = boom(second[0])
        victims = [inc(bad) for _ in range(4)]
        grandchild = inc(victims[0])
        retried = flaky(str(counter))
        hits = [cached(7)]
        hits[0].result()
        hits += [cached(7) for _ in range(2)]  # answered from the cache
        ok_shell, bad_shell = shell(0), shell(3)
        joined = fan(5)
        futures = [*first, *second, bad, *victims, grandchild, retried, *hits, ok_shell, bad_shell, joined]
        for f in futures:
            f.exception()
        run_dir = dfk.run_dir
    db = open_store(run_dir)
    db.row_factory = None  # plain tuples
    try:
        states, _ = task_states(db)
        # every task the workflow made is there (the join app's 5 inner tasks too)
        assert len(states) == len(futures) + 5
        assert {f.tid for f in futures} <= set(states)
        # each task's transitions follow the kernel's state machine, from pending
        trans = _transitions(db)
        for tid, seq in trans.items():
            prev = States.pending.value
            for state, _ in seq:
                assert (prev, state) in _ALLOWED, (tid, seq)
                prev = state
        # final states agree with what the futures say
        for f in futures:
            st = states[f.tid]
            if f.exception() is None:
                assert st in ("exec_done", "memo_done"), (f.tid, st)
            else:
                assert st in ("failed", "dep_fail"), (f.tid, st)
        assert states[bad.tid] == "failed" and all(states[v.tid] == "dep_fail" for v in victims)
        assert states[grandchild.tid] == "dep_fail"
        assert [states[h.tid] for h in hits] == ["exec_done", "memo_done", "memo_done"]
        # the graph: each second-stage task waited for its first-stage parent
        edges = set(db.execute("SELECT parent_id, task_id FROM dependency"))
        assert {(a.tid, b.tid) for a, b in zip(first, second, strict=True)} <= edges
        assert (victims[0].tid, grandchild.tid) in edges
        # root cause of the grandchild's failure is the task that raised
        parents = defaultdict(list)
        for tid, pid in db.execute("SELECT task_id, parent_id FROM dependency"):
            parents[tid].append(pid)
        assert root_causes(grandchild.tid, states, parents) == [bad.tid]
        # the retry: launched at try 0 and try 1, two runs recorded, success at the end
        assert [s for s in trans[retried.tid] if s[0] == "launched"] == [("launched", 0), ("launched", 1)]
        runs = db.execute("SELECT try, host, pid, started, ended FROM try_run WHERE task_id = ? ORDER BY try", (retried.tid,)).fetchall()
        assert [r[0] for r in runs] == [0, 1]
        assert all(r[2] == os.getpid() and r[3] <= r[4] for r in runs)
        # bash exit codes, and why things failed
        assert db.execute("SELECT exit_code FROM try_run WHERE task_id = ?", (ok_shell.tid,)).fetchone()[0] == 0
        assert db.execute("SELECT exit_code FROM try_run WHERE task_id = ?", (bad_shell.tid,)).fetchall() == [(3,), (3,)]
        etype, msg = db.execute("SELECT error_type, message FROM failure WHERE task_id = ?", (bad.tid,)).fetchone()
        assert etype == "ValueError" and "boom at" in msg
        assert db.execute("SELECT error_type FROM failure WHERE task_id = ?", (grandchild.tid,)).fetchone()[0] == "DependencyError"
        meta = dict(db.execute("SELECT key, value FROM meta"))
        assert "ended" in meta and meta["schema_version"] == "2" and meta["run_dir"] == os.path.basename(run_dir)
    finally:
        db.close()
    assert stat.S_IMODE(os.stat(Path(run_dir) / "monitoring.db").st_mode) == 0o600


def test_a_no_op_task_is_three_rows_and_its_transitions_a_view_over_them():
    """What monitoring costs is rows: a task on threads is its task row, its launch and its
    try (which carries the outcome), and ``transition`` rebuilds the state changes."""

    @python_app
    def noop():
        return None

    with parsl.load(parsl.Config(monitoring=True)) as dfk:
        futs = [noop() for _ in range(20)]
        assert [f.result() for f in futs] == [None] * 20
        run_dir = dfk.run_dir
    db = sqlite3.connect(Path(run_dir) / "monitoring.db")
    try:
        counts = {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("task", "dependency", "launch", "try_run", "state_change")}
        assert counts == {"task": 20, "dependency": 0, "launch": 20, "try_run": 20, "state_change": 0}
        for f in futs:
            seq = db.execute("SELECT state, try, executor FROM transition WHERE task_id = ? ORDER BY time", (f.tid,)).fetchall()
            assert seq == [("launched", 0, "threads"), ("exec_done", 0, "threads")]
            launched = db.execute("SELECT time FROM launch WHERE task_id = ?", (f.tid,)).fetchone()[0]
            host, pid, thread, started, ended, code, outcome, t = db.execute(
                "SELECT host, pid, thread, started, ended, exit_code, outcome, time FROM try_run WHERE task_id = ?", (f.tid,)
            ).fetchone()
            assert (host, pid, code, outcome) == (socket.gethostname(), os.getpid(), None, "exec_done")
            assert thread.startswith("ThreadPool-") and launched <= started <= ended <= t
        assert db.execute("SELECT count(*) FROM task_final WHERE state = 'exec_done'").fetchone()[0] == 20
    finally:
        db.close()


class _CountingFeed(TaskFeed):
    """Counts how each task's row came out: in a FULL row (its try ended before any drain) or
    published by a drain while the task waited or ran."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        super().__init__()
        self.counts = {"full": 0, "published": 0}

    def drain(self, hold_for: float = 0.0):  # type: ignore[no-untyped-def]
        batch = super().drain(hold_for)
        self.counts["full"] += len(batch.full) // FULL.size
        self.counts["published"] += len(batch.tasks) // TASK.size
        return batch


def test_tasks_published_by_a_drain_and_tasks_in_one_row_are_stored_alike(tmp_path):
    """A drain every millisecond while tasks end, wait for parents and run across drains: every
    task has one row, every try one launch and one try row, whichever way its rows came out
    (a launch that races the drain may be sent twice; the store keeps one)."""
    monitor = SqliteMonitor(flush_interval=0.001)
    monitor.feed = _CountingFeed()
    counter = tmp_path / "tries"

    @python_app
    def noop(*_):
        return None

    @python_app
    def nap(seconds, *_):
        import time

        time.sleep(seconds)
        return seconds

    flaky = python_app(_fails_its_first_try)

    with parsl.load(parsl.Config(monitoring=monitor, retries=1)) as dfk:
        futs = [noop(i) for i in range(1500)]
        parents = [nap(0.02 + 0.01 * (i % 3)) for i in range(12)]
        futs += parents + [noop(p) for p in parents for _ in range(10)] + [flaky(str(counter))]
        futs += [noop(i) for i in range(1500)]
        for f in futs:
            f.result()
        run_dir = dfk.run_dir
    counts = monitor.feed.counts
    assert counts["full"] > 0 and counts["published"] > 0, counts  # both ways were taken
    assert counts["full"] + counts["published"] == len(futs)
    db = sqlite3.connect(Path(run_dir) / "monitoring.db")
    try:
        assert db.execute("SELECT count(*) FROM task").fetchone()[0] == len(futs)
        tries = db.execute("SELECT count(*) FROM try_run").fetchone()[0]
        assert tries == len(futs) + 1  # flaky tried twice
        assert db.execute("SELECT count(*) FROM launch").fetchone()[0] == tries
        # each try's launch is its own: same (task, try), launched before it started
        assert db.execute(
            "SELECT count(*) FROM try_run r JOIN launch l ON l.task_id = r.task_id AND l.try = r.try WHERE l.time <= r.started AND l.executor = r.executor"
        ).fetchone()[0] == tries
        assert db.execute("SELECT count(*) FROM task_final WHERE state = 'exec_done'").fetchone()[0] == len(futs)
        for tid, seq in _transitions(db).items():
            states = ["pending"] + [s for s, _ in seq]
            assert all((a, b) in _ALLOWED for a, b in pairwise(states)), (tid, seq)
    finally:
        db.close()


def test_a_launch_sent_twice_is_stored_once(tmp_path):
    """The race the feed allows (the kernel and a drain both sending a launch) is absorbed by
    the store: ``launch`` is unique on (task_id, try)."""
    feed = TaskFeed()
    feed.task(1, "inc", 1.0)
    feed.launch(1, 0, "threads", 2.0)
    feed.launch(1, 0, "threads", 2.0)
    feed.launch(1, 1, "threads", 3.0)  # a retry is a launch of its own
    db = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    try:
        db.executescript(DDL)
        write_batch(db, (tuple(feed.drain()), []), {}, {})
        assert db.execute("SELECT task_id, try, time FROM launch ORDER BY try").fetchall() == [(1, 0, 2.0), (1, 1, 3.0)]
    finally:
        db.close()


def test_a_try_the_executor_refused_is_a_try_without_a_run():
    class Refusing(parsl.ThreadPoolExecutor):
        def submit(self, func, /, *args, **kwargs):
            raise RuntimeError("no room")

    @python_app
    def one():
        return 1

    with parsl.load(parsl.Config(executors=[Refusing(label="refusing")], monitoring=True)) as dfk:
        fut = one()
        with pytest.raises(RuntimeError, match="no room"):
            fut.result()
        run_dir = dfk.run_dir
    db = sqlite3.connect(Path(run_dir) / "monitoring.db")
    try:
        row = db.execute("SELECT try, executor, host, pid, thread, started, ended, exit_code, outcome FROM try_run WHERE task_id = ?", (fut.tid,)).fetchall()
        assert row == [(0, "refusing", None, None, None, None, None, None, "failed")]
        assert db.execute("SELECT state, try FROM task_final WHERE task_id = ?", (fut.tid,)).fetchone() == ("failed", 1)
        assert db.execute("SELECT error_type, message FROM failure WHERE task_id = ?", (fut.tid,)).fetchone() == ("RuntimeError", "no room")
    finally:
        db.close()


def test_monitoring_off_writes_no_store():
    @python_app
    def one():
        return 1

    with parsl.load(parsl.Config()) as dfk:
        assert one().result() == 1
        run_dir = dfk.run_dir
        assert dfk._monitor is None
    assert not (Path(run_dir) / "monitoring.db").exists()


def test_dict_config_globals_monitoring_turns_it_on():
    cfg = {
        "sites": [{"site": "local", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 2}}],
        "globals": {"monitoring": True},
    }
    dfk = DataFlowKernel(config=cfg)

    @parsl.App("python", dfk)
    def hello():
        return "Hello World!"

    assert hello().result() == "Hello World!"
    dfk.cleanup()
    db = open_store(dfk.run_dir)
    try:
        assert summarize(db).by_state == {"exec_done": 1}
    finally:
        db.close()


def test_the_environment_turns_it_on_for_an_unchanged_script(tmp_path):
    script = tmp_path / "plain.py"
    script.write_text(
        "import parsl\n"
        "from parsl import python_app\n"
        "@python_app\n"
        "def sq(x):\n    return x * x\n"
        "with parsl.load() as dfk:\n"
        "    print(sum(sq(i).result() for i in range(10)), dfk.run_dir)\n"
    )
    env = {**os.environ, "PARSL_MONITORING": "1"}
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    total, run_dir = out.stdout.split()
    assert total == "285"
    db = open_store(run_dir)
    try:
        assert summarize(db).by_state == {"exec_done": 10}
    finally:
        db.close()


def test_a_live_run_can_be_read_while_it_runs():
    gate = threading.Event()
    monitor = SqliteMonitor(flush_interval=0.05)

    @python_app
    def wait_for_gate():
        gate.wait(30)
        return 1

    with parsl.load(parsl.Config(monitoring=monitor)) as dfk:
        futs = [wait_for_gate() for _ in range(3)]
        db = open_store(dfk.run_dir)
        try:
            for _ in range(200):
                s = summarize(db)
                if s.by_state.get("launched") == 3:
                    break
                threading.Event().wait(0.05)
            assert s.live and s.by_state == {"launched": 3}
        finally:
            gate.set()
        assert [f.result() for f in futs] == [1, 1, 1]
    try:
        s = summarize(db)
        assert not s.live and s.by_state == {"exec_done": 3}
    finally:
        db.close()


def test_secrets_in_the_config_reach_neither_the_store_nor_the_log():
    secret = "S3cr3t-pw-for-monitoring"
    cfg = {
        "sites": [{
            "site": "local",
            "auth": {"channel": "ssh", "hostname": "127.0.0.1", "username": "parsl", "password": secret},
            "execution": {"executor": "threads", "provider": None, "maxThreads": 2},
        }],
        "globals": {"monitoring": True},
    }
    dfk = DataFlowKernel(config=cfg)

    @parsl.App("python", dfk)
    def fail():
        raise RuntimeError("an ordinary failure")

    fail().exception()
    dfk.cleanup()
    for name in ("monitoring.db", "parsl.log"):
        data = (Path(dfk.run_dir) / name).read_bytes()
        assert secret.encode() not in data, name
    assert b"an ordinary failure" in (Path(dfk.run_dir) / "monitoring.db").read_bytes()


def test_a_store_that_cannot_be_written_never_fails_the_workflow(caplog):
    monitor = SqliteMonitor(flush_interval=0.05)

    @python_app
    def one(x):
        return x

    with parsl.load(parsl.Config(monitoring=monitor)) as dfk:
        assert one(1).result() == 1
        db_path = Path(dfk.run_dir) / "monitoring.db"
        other = sqlite3.connect(db_path)
        other.execute("DROP TABLE launch")  # the store breaks under the run: the writer fails
        other.commit()
        other.close()
        assert [one(i).result() for i in range(200)] == list(range(200))
    assert any("could not be written" in r.getMessage() and "no such table: launch" in r.getMessage() for r in caplog.records)
    assert monitor._proc is not None and monitor._proc.poll() is not None


def test_the_writer_process_ends_with_the_run_and_after_a_killed_driver(tmp_path):
    script = tmp_path / "killed.py"
    script.write_text(
        "import os, signal, parsl\n"
        "from parsl import python_app\n"
        "@python_app\n"
        "def one(x):\n    return x\n"
        "dfk = parsl.load(parsl.Config(monitoring=True))\n"
        "[one(i).result() for i in range(100)]\n"
        "print(dfk._monitor._proc.pid, dfk.run_dir, flush=True)\n"
        "import time; time.sleep(0.5)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == -9
    writer_pid, run_dir = proc.stdout.split()
    for _ in range(100):  # the writer sees its pipe close and exits, keeping what it had
        if not os.path.exists(f"/proc/{writer_pid}") or open(f"/proc/{writer_pid}/stat").read().split()[2] == "Z":
            break
        threading.Event().wait(0.1)
    else:
        raise AssertionError(f"writer {writer_pid} outlived its driver")
    db = open_store(run_dir)
    try:
        assert summarize(db).by_state == {"exec_done": 100}
    finally:
        db.close()


def test_bad_monitor_settings_are_clear_errors():
    with pytest.raises(ValueError, match="flush_interval"):
        SqliteMonitor(flush_interval=0)
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="monitoring"):
        parsl.Config(monitoring="yes")  # type: ignore[arg-type]


def _block_events(executor) -> list[tuple[str, str]]:
    """Run one task on ``executor`` with monitoring on; the block events the store holds."""

    @python_app
    def one():
        return 1

    with parsl.load(parsl.Config(executors=[executor], monitoring=True)) as dfk:
        assert one().result(timeout=120) == 1
        run_dir = dfk.run_dir
    db = open_store(run_dir)
    try:
        return [(r["executor"], r["event"]) for r in db.execute("SELECT executor, event FROM block ORDER BY rowid")]
    finally:
        db.close()


def test_block_events_of_the_turbine_executor_are_stored():
    """A real TurbineExecutor block (Open MPI, local provider): submitted, then released."""
    pytest.importorskip("mpi4py", reason="parsl-executors[mpi] is not installed")
    import shutil

    if shutil.which("mpiexec") is None:
        pytest.skip("Open MPI is not installed (tests-integration/services/mpi/start.sh installs it)")
    from parsl_executors.swift_t import TurbineExecutor

    events = _block_events(TurbineExecutor(label="mpi"))
    assert events[0] == ("mpi", "submitted") and ("mpi", "released") in events


def test_block_events_of_the_htex_executor_are_stored():
    """A real htex block on the local provider: submitted at start, released at cleanup."""
    pytest.importorskip("zmq", reason="parsl-executors[htex] is not installed")
    from libsubmit.providers.local.local import Local
    from parsl_executors.htex import HighThroughputExecutor

    events = _block_events(HighThroughputExecutor(label="htex", max_workers_per_node=1, provider=Local(init_blocks=1, max_blocks=1)))
    assert events[0] == ("htex", "submitted") and ("htex", "released") in events


def test_a_try_on_a_worker_process_is_recorded_where_it_ran():
    """htex does not time its runs (its workers are other processes): the kernel sends each try
    through MonitoredCall, and the store holds the worker's pid, not the driver's."""
    pytest.importorskip("zmq", reason="parsl-executors[htex] is not installed")
    from libsubmit.providers.local.local import Local
    from parsl_executors.htex import HighThroughputExecutor

    @python_app
    def where():
        import os

        return os.getpid()

    ex = HighThroughputExecutor(label="htex_where", max_workers_per_node=1, provider=Local(init_blocks=1, max_blocks=1))
    assert not ex.times_runs
    with parsl.load(parsl.Config(executors=[ex], monitoring=True)) as dfk:
        fut = where()
        worker_pid = fut.result(timeout=120)
        run_dir = dfk.run_dir
    assert worker_pid != os.getpid()
    db = open_store(run_dir)
    try:
        rows = db.execute("SELECT try, pid, thread, started, ended, exit_code FROM try_run WHERE task_id = ?", (fut.tid,)).fetchall()
        assert [tuple(r) for r in rows] == [(0, worker_pid, rows[0]["thread"], rows[0]["started"], rows[0]["ended"], None)]
        assert rows[0]["started"] <= rows[0]["ended"]
        assert db.execute("SELECT executor FROM task_final WHERE task_id = ?", (fut.tid,)).fetchone()[0] == "htex_where"
    finally:
        db.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pipe sizes are a Linux feature")
def test_the_writer_pipe_holds_a_whole_batch():
    """The drain thread's write must not wait for the writer: the pipe is widened to 1 MiB."""
    import fcntl

    monitor = SqliteMonitor()
    with parsl.load(parsl.Config(monitoring=monitor)):
        assert monitor._pipe is not None
        assert fcntl.fcntl(monitor._pipe.fileno(), fcntl.F_GETPIPE_SZ) >= 1 << 20


def test_a_monitoring_bug_at_the_end_of_a_try_does_not_leave_the_task_unfinished(caplog):
    """The end of a try is recorded in a future's callback, where an exception would be
    swallowed and the task never finish: the kernel logs it and stops recording that task."""

    class Broken(deque):
        def append(self, row):  # type: ignore[no-untyped-def]
            raise RuntimeError("planted: the feed cannot take this row")

    monitor = SqliteMonitor()
    monitor.feed.full = Broken()
    monitor.feed.local_tries = Broken()

    @python_app
    def one():
        return 1

    with parsl.load(parsl.Config(monitoring=monitor)):
        assert one().result(timeout=30) == 1
    assert "monitoring could not record task" in caplog.text and "planted" in caplog.text
