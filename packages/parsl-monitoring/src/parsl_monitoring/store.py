"""The SQLite monitor: records a workflow in ``<run dir>/monitoring.db`` off the hot path.

::

    kernel threads ── task_* / block_event ──▶ deque.append(tuple)          (the hot path)
                                                   │ drained every 0.2 s
    drain thread   ◀───────────────────────────────┘
         └─ pickle one batch ── pipe ──▶ writer process (parsl_monitoring.writer)
                                           └─ one transaction: executemany per table ──▶ monitoring.db

The hot path only appends tuples to deques (append and popleft are atomic, so nothing
appended while the drain thread takes a batch is lost). SQLite runs in a child process, on
the other core and outside the workflow's GIL. :meth:`close` sends the rest and waits for the
writer to finish the store (indexes, ``ended``). A store that cannot be written logs one error
and monitoring stops; it never fails the workflow. The writer runs in its own session (Ctrl-C
meant for the script does not cut the store short) and exits when its pipe closes, so it
cannot outlive a killed driver.
"""
from __future__ import annotations

import itertools
import logging
import os
import pickle
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from parsl.interfaces import Monitor, RunInfo

from .schema import DB_NAME, DDL, FINAL_STATES, SCHEMA_VERSION
from .writer import HEADER

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
        self._proc: subprocess.Popen[bytes] | None = None
        self._pipe: IO[bytes] | None = None
        self._errors: IO[bytes] | None = None
        self._send_lock = threading.Lock()
        self._broken = False
        self._closed = False
        self._close_lock = threading.Lock()
        self._bar: Callable[[], None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    #: seconds close() waits for the writer to finish the store
    close_timeout = 120.0

    def start(self, run_id: str, run_dir: str) -> None:
        self.path = Path(run_dir) / DB_NAME
        db = sqlite3.connect(self.path, isolation_level=None)
        try:
            os.chmod(self.path, 0o600)
            db.execute("PRAGMA journal_mode=WAL")
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
        finally:
            db.close()
        self._errors = open(Path(run_dir) / "monitoring-writer.err", "wb")  # lives as long as the writer
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "parsl_monitoring.writer", str(self.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            start_new_session=True,
        )
        self._pipe = self._proc.stdin
        self._writer = threading.Thread(target=self._run_drain, name="parsl-monitoring-drain", daemon=True)
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
        proc, pipe = self._proc, self._pipe
        if proc is None or pipe is None:
            return
        if not self._broken:
            try:
                pipe.write(HEADER.pack(0))  # the finish frame
                pipe.close()
            except OSError as e:
                self._fail(e)
        try:
            proc.wait(self.close_timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            logger.error("the monitoring writer did not finish %s within %.0f s and was killed", self.path, self.close_timeout)
        if proc.returncode not in (0, -9) and not self._broken:
            self._fail(RuntimeError(f"the writer exited with code {proc.returncode}"))
        if self._errors is not None:
            self._errors.close()
            err = Path(self._errors.name)
            if err.exists() and err.stat().st_size == 0:
                err.unlink()

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

    # -- the drain thread ------------------------------------------------------------------

    def _run_drain(self) -> None:
        while not self._stop.wait(self.flush_interval):
            self._flush()

    def _flush(self) -> None:
        batch = [
            (table, rows)
            for table, rows in (
                ("task", _drain(self._tasks)),
                ("dependency", _drain(self._deps)),
                ("transition", _drain(self._transitions)),
                ("try_run", _drain(self._tries)),
                ("failure", _drain(self._failures)),
                ("block", _drain(self._blocks)),
            )
            if rows
        ]
        pipe = self._pipe
        if not batch or pipe is None or self._broken:
            return
        with self._send_lock:
            try:
                payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
                pipe.write(HEADER.pack(len(payload)))
                pipe.write(payload)
                pipe.flush()
            except (OSError, ValueError, pickle.PicklingError) as e:
                self._fail(e)

    def _fail(self, e: BaseException) -> None:
        if self._broken:
            return
        self._broken = True
        tail = ""
        try:
            if self._errors is not None:
                self._errors.flush()
                tail = Path(self._errors.name).read_text(errors="replace").strip().splitlines()[-1:][0]
        except (OSError, IndexError):
            pass
        logger.error("the monitoring store %s could not be written (%s%s); monitoring stops, the workflow goes on", self.path, e, f": {tail}" if tail else "")

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
