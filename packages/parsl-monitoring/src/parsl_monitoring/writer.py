"""The store's writer process: ``python -m parsl_monitoring.writer DB`` reads batches from its
stdin and writes them to the SQLite store, on its own core, away from the workflow's GIL.

::

    driver: drain thread ── u32 length + marshal((feed batch, block events)) ──▶ stdin (1 MiB pipe)
    writer: every PAUSE s, takes whatever whole frames wait ──▶ unpack the rows, executemany per table
            ── a zero-length frame: finish ─▶ 'ended', exit 0
    stdin closes without the zero frame (the driver died) ──▶ writer: commit what it has, exit 1

Only the driver that started it holds the other end of the pipe, so nothing else can feed it.

**The writer never blocks in a read.** A reader blocked on a pipe is woken by the driver's
write, and Linux tends to wake it on the core of the thread that wrote: the writer's SQLite
work then shares a core with the workflow's threads (with the two pinned to one core: 0.69x
the unmonitored throughput; to two: 0.87x). So the pipe is non-blocking and the writer
sleeps ``PAUSE`` seconds on a timer whenever it is empty, mid-frame included; the driver
widens the pipe to 1 MiB (see :func:`widen_pipe`) so that a whole batch fits and its write
never waits for the writer either. The store lags the workflow by at most about ``PAUSE``.
"""
from __future__ import annotations

import marshal
import os
import sqlite3
import struct
import sys
import time
from typing import Any

from parsl.interfaces.task_feed import Batch
from parsl.interfaces.task_feed import rows as feed_rows

INSERTS = {
    "task": "INSERT OR REPLACE INTO task VALUES (?, ?, ?)",
    "dependency": "INSERT INTO dependency VALUES (?, ?)",
    "launch": "INSERT OR IGNORE INTO launch VALUES (?, ?, ?, ?)",  # a launch can arrive twice
    "try_run": "INSERT INTO try_run VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "state_change": "INSERT INTO state_change VALUES (?, ?, ?, ?, ?)",
    "failure": "INSERT OR REPLACE INTO failure VALUES (?, ?, ?)",
    "block": "INSERT INTO block VALUES (?, ?, ?, ?, ?)",
}
HEADER = struct.Struct("!I")
PAUSE = 0.05  # seconds asleep whenever the pipe is empty (the driver sends every 0.05 s)
PIPE_SIZE = 1 << 20  # what an unprivileged process may ask for (/proc/sys/fs/pipe-max-size)


def widen_pipe(fd: int, size: int = PIPE_SIZE) -> None:
    """Ask Linux for a ``size``-byte buffer on the pipe ``fd`` (its default is 64 KiB);
    elsewhere, or when refused, the pipe stays as it is: a batch larger than the buffer then
    waits for the writer to read, as any pipe write does."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, size)
    except (ImportError, AttributeError, OSError):  # not Linux, or over the system's limit
        pass


class PacedReader:
    """Reads a non-blocking pipe: when it holds nothing, sleep ``pause`` seconds on a timer
    rather than wait in the read (see the module docstring)."""

    def __init__(self, fd: int, pause: float = PAUSE) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self.pause = pause

    def read(self, n: int) -> bytes:
        """``n`` bytes, or fewer at end of stream."""
        parts: list[bytes] = []
        while n:
            try:
                chunk = os.read(self.fd, n)
            except BlockingIOError:
                time.sleep(self.pause)
                continue
            if not chunk:
                break
            parts.append(chunk)
            n -= len(chunk)
        return b"".join(parts)


def read_frame(stream: Any) -> bytes | None:
    """One frame's payload from ``stream`` (anything with ``read(n)``); ``b""`` for the finish
    frame; None at end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_batch(db: sqlite3.Connection, message: tuple[tuple[Any, ...], list[tuple[Any, ...]]], names: dict[int, Any], state_names: dict[int, str]) -> None:
    """One transaction for one message: a :class:`~parsl.interfaces.task_feed.Batch` (as a
    plain tuple) and block events; ``names`` and ``state_names`` carry the feed's codes from
    batch to batch."""
    batch, blocks = message
    db.execute("BEGIN")
    for table, rows in feed_rows(Batch(*batch), names, state_names):
        if rows:
            db.executemany(INSERTS[table], rows)
    db.executemany(INSERTS["block"], blocks)
    db.execute("COMMIT")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m parsl_monitoring.writer DB", file=sys.stderr)
        return 2
    db = sqlite3.connect(argv[0], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    stream = PacedReader(sys.stdin.fileno())
    names: dict[int, Any] = {}
    state_names: dict[int, str] = {}
    while True:
        payload = read_frame(stream)
        if payload is None:  # the driver went away without finishing: keep what arrived
            db.close()
            return 1
        if payload == b"":
            break
        write_batch(db, marshal.loads(payload), names, state_names)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('ended', ?)", (repr(time.time()),))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
