"""The SQLite monitor: records a workflow in ``<run dir>/monitoring.db`` off the hot path.

::

    kernel threads ── rows ──▶ TaskFeed (deques)          executors ── block_event ──▶ deque
                                   │ drained every 0.05 s                                  │
    drain thread   ◀───────────────┴───────────────────────────────────────────────────────┘
         └─ marshal one batch ── pipe ──▶ writer process (parsl_monitoring.writer)
                                           └─ one transaction: executemany per table ──▶ monitoring.db

The hot path only appends packed rows to the feed's deques (see
:mod:`parsl.interfaces.task_feed`); the drain thread sends them as they are, a few ``bytes``
objects per batch, and the writer unpacks them into their tables. SQLite runs in a child process, on the other core and
outside the workflow's GIL. :meth:`close` sends the rest and waits for the
writer to finish the store (indexes, ``ended``). A store that cannot be written logs one error
and monitoring stops; it never fails the workflow. The writer runs in its own session (Ctrl-C
meant for the script does not cut the store short) and exits when its pipe closes, so it
cannot outlive a killed driver.
"""
from __future__ import annotations

import logging
import marshal
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from parsl.interfaces import Monitor
from parsl.interfaces.task_feed import MESSAGE_LIMIT, Batch, count_states, count_tasks

from .schema import DB_NAME, DDL, FINAL_STATES, SCHEMA_VERSION
from .writer import HEADER, widen_pipe

logger = logging.getLogger("parsl.monitoring")

_FINAL = frozenset(FINAL_STATES)


class SqliteMonitor(Monitor):
    """Records tasks, tries and blocks in ``<run dir>/monitoring.db`` (see
    :mod:`parsl_monitoring.schema`).

    Args:
        flush_interval: seconds between batched writes.
        progress: show a live progress bar for the whole run (on stderr when it is a terminal,
            as a widget in Jupyter); ``None`` reads ``PARSL_PROGRESS`` (what ``parsl run``
            sets). Independently, ``wait_for_current_tasks()`` shows one while it waits.
    """

    def __init__(self, flush_interval: float = 0.05, progress: bool | None = None) -> None:
        if not isinstance(flush_interval, (int, float)) or not 0 < flush_interval <= 60:
            raise ValueError(f"flush_interval must be a number of seconds in (0, 60], got {flush_interval!r}")
        super().__init__()
        self.flush_interval = float(flush_interval)
        self._progress_wanted = progress if progress is not None else os.environ.get("PARSL_PROGRESS", "") not in ("", "0")
        self.path: Path | None = None
        self._blocks: deque[tuple[str, str, str, float, str]] = deque()
        # counted by whoever drains the feed (under _send_lock): progress lags by one flush
        self._submitted = 0
        self._finished = 0
        self._final_codes: set[int] = set()
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
        if self._pipe is not None:
            widen_pipe(self._pipe.fileno())  # a whole batch fits: the drain thread never waits on the writer
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
        self._stop.set()
        if self._writer is not None:
            self._writer.join()
        if self._bar is not None:
            self._bar()  # its last picture asks progress(), which sends the rest
        proc, pipe = self._proc, self._pipe
        with self._send_lock:
            self._flush_locked()
            self._pipe = None  # nothing is sent after the finish frame
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

    # -- what executors report ------------------------------------------------------------

    def block_event(self, executor: str, block_id: str, event: str, detail: str = "") -> None:
        self._blocks.append((executor, str(block_id), event, time.time(), detail[:MESSAGE_LIMIT]))

    def progress(self) -> tuple[int, int]:
        """``(finished, submitted)``: sends what the feed holds first, so that the counts are
        those of this moment, not of the last flush."""
        self._flush()
        return (self._finished, self._submitted)

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
            self._flush(hold_for=self.flush_interval)  # a task that ends by the next drain: one row

    def _flush(self, hold_for: float = 0.0) -> None:
        with self._send_lock:  # the drain thread, progress displays, close()
            self._flush_locked(hold_for)

    def _flush_locked(self, hold_for: float = 0.0) -> None:
        batch = self.feed.drain(hold_for)
        blocks = [self._blocks.popleft() for _ in range(len(self._blocks))]
        if not (batch or blocks):
            return
        self._submitted += count_tasks(batch)
        self._finished += self._count_final(batch)
        pipe = self._pipe
        if pipe is None or self._broken:
            return
        try:
            payload = marshal.dumps((tuple(batch), blocks))
            pipe.write(HEADER.pack(len(payload)))
            pipe.write(payload)
            pipe.flush()
        except (OSError, ValueError) as e:
            self._fail(e)

    def _count_final(self, batch: Batch) -> int:
        """How many of ``batch``'s state changes end a task."""
        codes = self._final_codes
        codes.update(code for code, name in batch.state_names if name in _FINAL)
        return count_states(batch, codes)

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
