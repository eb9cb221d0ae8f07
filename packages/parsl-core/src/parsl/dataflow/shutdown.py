"""Shutting executors down within a bounded time, whatever they do.

::

    cleanup() ──▶ one thread per executor: executor.shutdown()
              ──▶ wait for all of them, at most `timeout` seconds in total
              ──▶ executors still busy are named in an ERROR line and left to finish on
                  their (daemon) threads; cleanup() returns

A well-behaved executor shuts down in well under the bound; the bound protects the script
from a plugin stuck on a dead daemon, an unreachable scheduler or a lock.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Iterable

from ..interfaces import ParslExecutor

logger = logging.getLogger("parsl.dataflow")


def _shutdown_one(ex: ParslExecutor) -> None:
    try:
        ex.shutdown()
    except Exception:
        logger.exception("shutting down executor %s failed", ex.label)


def shutdown_executors(executors: Iterable[ParslExecutor], timeout: float) -> list[str]:
    """Shut ``executors`` down in parallel; return the labels of those still shutting down
    after ``timeout`` seconds (logged at ERROR)."""
    threads = []
    for ex in executors:
        t = threading.Thread(target=_shutdown_one, args=(ex,), name=f"parsl-shutdown-{ex.label}", daemon=True)
        t.start()
        threads.append((ex.label, t))
    deadline = time.monotonic() + timeout
    for _label, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [label for label, t in threads if t.is_alive()]
    if stuck:
        logger.error("executors %s did not shut down within %.0f s; cleanup goes on without them", ", ".join(stuck), timeout)
    return stuck
