"""The SQLite monitor: records a workflow in ``<run dir>/monitoring.db`` off the hot path.

::

    kernel threads ── task_* / block_event ──▶ deque.append(tuple)     (a few hundred ns)
                                                   │ drained every 0.2 s
    writer thread  ◀───────────────────────────────┘
         └─ one transaction: executemany per table ──▶ monitoring.db (WAL: readers never wait)

The hot path only appends tuples to deques (append and popleft are atomic, so nothing
appended while the writer drains is lost); the writer thread drains them and writes each batch
in one transaction, so a 100,000-task run costs a few percent.
:meth:`close` flushes everything and marks the run ended. A store that cannot be written
logs one error and stops recording; it never fails the workflow.
"""
from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from parsl.interfaces import Monitor, RunInfo

from .schema import DB_NAME, DDL, FINAL_STATES, SCHEMA_VERSION

logger = logging.getLogger("parsl.monitoring")

_FINAL = frozenset(FINAL_STATES)
_MESSAGE_LIMIT = 2000


class SqliteMonitor(Monitor):
    """Records tasks, tries and blocks in ``<run dir>/monitoring.db`` (see
    :mod:`parsl_monitoring.schema`).

    Args:
        flush_interval: seconds between batched writes.
        progress: show a live progress bar for the whole run (on stderr when it is a terminal,
            as a widget in Jupyter); ``None`` reads ``PARSL_PROGRESS`` (what ``parsl run``
            sets). Independently, ``wait_for_current_tasks()`` shows one while it waits.
    """

    def __init__(self, flush_interval: float = 0.2, progress: bool | None = None) -> None:
        if not isinstance(flush_interval, (int, float)) or not 0 < flush_interval <= 60:
            raise ValueError(f"flush_interval must be a number of seconds in (0, 60], got {flush_interval!r}")
        self.flush_interval = float(flush_interval)
        self._progress_wanted = progress if progress is not None else os.environ.get("PARSL_PROGRESS", "") not in ("", "0")
        self.path: Path | None = None
        self._tasks: deque[tuple[int, str, float]] = deque()
        self._deps: deque[tuple[int, int]] = deque()
        self._transitions: deque[tuple[int, int, str, float, str | None]] = deque()
        self._tries: deque[tuple[int, int, str, int, str, float, float, int | None]] = deque()
        self._failures: deque[tuple[int, str, str]] = deque()
        self._blocks: deque[tuple[str, str, str, float, str]] = deque()
        self._submitted = itertools.count()  # next() on a count is atomic: no lost updates
        self._finished = itertools.count()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._db: sqlite3.Connection | None = None
        self._broken = False
        self._closed = False
        self._close_lock = threading.Lock()
        self._bar: Callable[[], None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self, run_id: str, run_dir: str) -> None:
        self.path = Path(run_dir) / DB_NAME
        db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        os.chmod(self.path, 0o600)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(DDL)
        script = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
        from importlib import metadata

        meta = {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "run_dir": os.path.basename(os.path.abspath(run_dir)),
            "started": repr(time.time()),
            "parsl_version": metadata.version("parsl-core"),
            "script": script,
        }
        db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", meta.items())
        self._db = db
        self._writer = threading.Thread(target=self._run_writer, name="parsl-monitoring-writer", daemon=True)
        self._writer.start()
        if self._progress_wanted:
            from .progress import live_bar

            self._bar = live_bar(self, "workflow")

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        if self._bar is not None:
            self._bar()
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
        self._flush()
        db = self._db
        if db is not None:
            try:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('ended', ?)", (repr(time.time()),))
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as e:
                self._fail(e)
            db.close()
            self._db = None

    # -- the hot path: append only ---------------------------------------------------------

    def task_submitted(self, task_id: int, app_name: str, depends_on: Sequence[int]) -> None:
        self._tasks.append((task_id, app_name, time.time()))
        next(self._submitted)
        if depends_on:
            self._deps.extend([(task_id, p) for p in depends_on])

    def task_state(self, task_id: int, state: str, try_number: int, executor: str | None) -> None:
        self._transitions.append((task_id, try_number, state, time.time(), executor))
        if state in _FINAL:
            next(self._finished)

    def task_ran(self, task_id: int, try_number: int, info: RunInfo) -> None:
        self._tries.append((task_id, try_number, info.host, info.pid, info.thread, info.started, info.ended, info.exit_code))

    def task_failed(self, task_id: int, error: BaseException) -> None:
        try:
            message = str(error)
        except Exception:
            message = f"<{type(error).__name__} whose str() failed>"
        self._failures.append((task_id, type(error).__name__, message[:_MESSAGE_LIMIT]))

    def block_event(self, executor: str, block_id: str, event: str, detail: str = "") -> None:
        self._blocks.append((executor, str(block_id), event, time.time(), detail[:_MESSAGE_LIMIT]))

    def progress(self) -> tuple[int, int]:
        return (_peek(self._finished), _peek(self._submitted))

    def progress_display(self) -> Callable[[], None] | None:
        """A progress bar for ``wait_for_current_tasks()`` (None when nothing is attached to
        show it on, or when the live bar of ``parsl run`` is already showing)."""
        if self._bar is not None:
            return None
        from .progress import live_bar

        return live_bar(self, "waiting")

    # -- the writer ----------------------------------------------------------------------

    def _run_writer(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self._flush()

    def _flush(self) -> None:
        tasks, deps, transitions = _drain(self._tasks), _drain(self._deps), _drain(self._transitions)
        tries, failures, blocks = _drain(self._tries), _drain(self._failures), _drain(self._blocks)
        db = self._db
        if db is None or self._broken or not (tasks or deps or transitions or tries or failures or blocks):
            return
        try:
            db.execute("BEGIN")
            db.executemany("INSERT OR REPLACE INTO task VALUES (?, ?, ?)", tasks)
            db.executemany("INSERT INTO dependency VALUES (?, ?)", deps)
            db.executemany("INSERT INTO transition VALUES (?, ?, ?, ?, ?)", transitions)
            db.executemany("INSERT INTO try_run VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tries)
            db.executemany("INSERT OR REPLACE INTO failure VALUES (?, ?, ?)", failures)
            db.executemany("INSERT INTO block VALUES (?, ?, ?, ?, ?)", blocks)
            db.execute("COMMIT")
        except sqlite3.Error as e:
            self._fail(e)

    def _fail(self, e: BaseException) -> None:
        if not self._broken:
            self._broken = True
            logger.error("the monitoring store %s could not be written (%s); monitoring stops, the workflow goes on", self.path, e)

    def __repr__(self) -> str:
        return f"<SqliteMonitor {self.path}>"


def _peek(counter: itertools.count[int]) -> int:
    """The next value ``counter`` would give, without taking it."""
    return int(repr(counter)[len("count("):-1])


def _drain(q: deque[Any]) -> list[Any]:
    """What ``q`` holds now, taken out of it (items appended meanwhile stay for the next time)."""
    pop = q.popleft
    return [pop() for _ in range(len(q))]


def open_store(run_dir: str | os.PathLike[str]) -> sqlite3.Connection:
    """A read-only connection to a run's store (works while the run is live)."""
    path = Path(run_dir) / DB_NAME
    if not path.exists():
        raise FileNotFoundError(
            f"{path} does not exist: was the run made with monitoring on? (Config(monitoring=True), "
            "globals.monitoring: true in a dict config, or `parsl run script.py`)"
        )
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    return db


def newest_run(runinfo: str | os.PathLike[str] = "runinfo") -> Path:
    """The newest run directory under ``runinfo`` that has a monitoring store."""
    root = Path(runinfo)
    if not root.is_dir():
        raise FileNotFoundError(f"no run directory given and {root}/ does not exist here")
    runs: list[tuple[float, Any]] = []
    for d in root.iterdir():
        db = d / DB_NAME
        if d.is_dir() and db.exists():
            runs.append((db.stat().st_mtime, d))
    if not runs:
        raise FileNotFoundError(f"no run under {root}/ has a {DB_NAME} (turn monitoring on: Config(monitoring=True))")
    return max(runs, key=lambda r: (r[0], r[1].name))[1]
