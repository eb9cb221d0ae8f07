"""The parts of a checkpoint directory that Parsl 0.5.0 scripts and tools know.

::

    <run_dir>/checkpoint/
        dfk.pkl      one pickled dict about the run: {"rundir", "task_count", "format", ...}
                     (rewritten atomically: temporary file, fsync, rename)
        tasks.pkl    this version: framed, checksummed records (checkpoint_store)
                     0.5.0: a sequence of pickled dicts {"hash", "exception", "result"}

:func:`read_050_tasks` reads a ``tasks.pkl`` written by 0.5.0 itself, so such a directory can
be given to ``checkpointFiles``. Its results are kept under 0.5.0's own hashes (0.5.0 hashed a
pickle of the call made by its Python version, which this version cannot reproduce), so they
are visible through :meth:`~parsl.dataflow.dflow.DataFlowKernel.load_checkpoints` and
``memoizer.hash_lookup(hash)`` but a call of this version computes a different key and runs
again. Failed tasks (an ``exception`` entry) are not results and are skipped.
"""
from __future__ import annotations

import io
import logging
import os
import pickle
import stat
from typing import Any

from .checkpoint_store import MAGIC, MAGIC_V1, BadCheckpoint, Entry, check_safe, decode_file, encode

logger = logging.getLogger("parsl.dataflow.checkpoint")

DFK_RECORD = "dfk.pkl"
FORMAT = "parsl-checkpoint-1"


def write_run_record(checkpoint_dir: str, run_dir: str, task_count: int) -> None:
    """Write ``<checkpoint_dir>/dfk.pkl``: the run directory, how many results this run has
    checkpointed, and the format of ``tasks.pkl`` (mode 0600; never seen half-written)."""
    from ..data_provider.transfer import atomic_target

    record = {"rundir": run_dir, "task_count": task_count, "format": FORMAT}
    with atomic_target(os.path.join(checkpoint_dir, DFK_RECORD)) as tmp:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
            pickle.dump(record, f, protocol=2)
            f.flush()
            os.fsync(f.fileno())


def read_run_record(checkpoint_dir: str) -> dict[str, Any]:
    """The run record of a checkpoint directory (this version's or 0.5.0's ``dfk.pkl``)."""
    path = os.path.join(checkpoint_dir, DFK_RECORD)
    with open(path, "rb") as f:
        check_safe(path, os.fstat(f.fileno()))
        value = pickle.load(f)
    if not isinstance(value, dict):
        raise BadCheckpoint(f"{path} does not hold a dict")
    return value


def read_any(path: str) -> list[Entry]:
    """The records of one ``tasks.pkl``, in this version's format or in 0.5.0's."""
    from .checkpoint_store import read_file

    if not stat.S_ISREG(os.stat(path).st_mode):
        return read_file(path)  # which refuses it (never open a FIFO to peek: it would block)
    with open(path, "rb") as f:
        head = f.read(len(MAGIC))
    if not head or any(m.startswith(head) for m in (MAGIC, MAGIC_V1)):  # this format (or a part of its header)
        return read_file(path)
    return read_050_tasks(path)


def read_050_tasks(path: str) -> list[Entry]:
    """The successful results in a ``tasks.pkl`` written by Parsl 0.5.0 (a stream of pickled
    ``{"hash", "exception", "result"}`` dicts), as records of this version's format."""
    with open(path, "rb") as f:
        st = os.fstat(f.fileno())
        check_safe(path, st)  # unpickling runs code: only our own, private files
        data = f.read()
    stream = io.BytesIO(data)
    entries: list[Entry] = []
    skipped = 0
    while stream.tell() < len(data):
        try:
            item = pickle.load(stream)
        except Exception as e:  # a torn tail: keep what came before
            logger.warning("0.5.0 checkpoint file %s: unreadable data at byte %d (%s); keeping the %d results before it", path, stream.tell(), type(e).__name__, len(entries))
            break
        if not isinstance(item, dict) or "hash" not in item:
            raise BadCheckpoint(f"{path} is not a parsl checkpoint file, neither of this version nor of 0.5.0 (it holds a pickled {type(item).__name__})")
        if item.get("exception") is not None:
            skipped += 1
            continue
        try:
            frame = encode(str(item["hash"]), st.st_mtime_ns, item.get("result"))
        except Exception as e:
            logger.warning("0.5.0 checkpoint file %s: result %s cannot be kept (%s: %s)", path, item["hash"], type(e).__name__, e)
            continue
        decoded, _ = decode_file(path, MAGIC + frame)
        entries.extend(decoded)
    logger.info("read %d results written by Parsl 0.5.0 from %s (%d failed tasks skipped)", len(entries), path, skipped)
    return entries
