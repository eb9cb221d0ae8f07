"""The store's writer process: ``python -m parsl_monitoring.writer DB`` reads batches from its
stdin and writes them to the SQLite store, on its own core, away from the workflow's GIL.

::

    driver: drain thread ── u32 length + pickle((table, rows), ...) ──▶ stdin ──▶ writer: executemany
                         ── a zero-length frame: finish ─────────────▶          indexes, 'ended', exit 0
    stdin closes without the zero frame (the driver died) ──▶ writer: commit what it has, exit 1

Only the driver that started it holds the other end of the pipe, so nothing else can feed it.
"""
from __future__ import annotations

import pickle
import sqlite3
import struct
import sys
import time
from typing import BinaryIO

from .schema import INDEXES

INSERTS = {
    "task": "INSERT OR REPLACE INTO task VALUES (?, ?, ?)",
    "dependency": "INSERT INTO dependency VALUES (?, ?)",
    "transition": "INSERT INTO transition VALUES (?, ?, ?, ?, ?)",
    "try_run": "INSERT INTO try_run VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "failure": "INSERT OR REPLACE INTO failure VALUES (?, ?, ?)",
    "block": "INSERT INTO block VALUES (?, ?, ?, ?, ?)",
}
HEADER = struct.Struct("!I")


def read_frame(stream: BinaryIO) -> bytes | None:
    """One frame's payload; ``b""`` for the finish frame; None at end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    payload = stream.read(size)
    return payload if len(payload) == size else None


def write_batch(db: sqlite3.Connection, batch: list[tuple[str, list[tuple[object, ...]]]]) -> None:
    db.execute("BEGIN")
    for table, rows in batch:
        db.executemany(INSERTS[table], rows)
    db.execute("COMMIT")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m parsl_monitoring.writer DB", file=sys.stderr)
        return 2
    db = sqlite3.connect(argv[0], isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    stream = sys.stdin.buffer
    while True:
        payload = read_frame(stream)
        if payload is None:  # the driver went away without finishing: keep what arrived
            db.close()
            return 1
        if payload == b"":
            break
        write_batch(db, pickle.loads(payload))
    db.executescript(INDEXES)
    db.execute("INSERT OR REPLACE INTO meta VALUES ('ended', ?)", (repr(time.time()),))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
