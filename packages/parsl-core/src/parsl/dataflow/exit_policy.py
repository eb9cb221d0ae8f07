"""What happens when a script ends while its DataFlowKernel is still live (no ``cleanup()``).

::

    interpreter exit ─▶ exit_without_cleanup(dfk)
        signal (SIGINT/SIGTERM)? ──────────────────────────────┐
        no: wait up to Config.exit_wait s for outstanding tasks │
            all done ─▶ cleanup()                               │
            some left ─▶ note on stderr ────────────────────────┤
                                                                ▼
        kill running bash commands (whole trees), executors shut down without waiting,
        waiting tasks failed, final checkpoint, run log closed: cleanup(wait=False)

So an interrupted or forgotten script exits promptly and leaves no process behind; thread
pool workers are daemon threads and do not hold the interpreter.
"""
from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

from . import exit_signals as _signals

if TYPE_CHECKING:
    from .dflow import DataFlowKernel

logger = logging.getLogger("parsl.dataflow")


def wait_outstanding(dfk: DataFlowKernel, timeout: float) -> int:
    """Wait up to ``timeout`` seconds for every task of ``dfk``; return how many are left.
    Tasks that can never finish (blocked on a future nothing will set) fail sooner, after the
    kernel's ``straggler_grace`` (see :mod:`.stragglers`)."""
    from .stragglers import wait_bounded

    return wait_bounded(dfk, timeout)


def exit_without_cleanup(dfk: DataFlowKernel) -> None:
    from ..app.bash import kill_running

    if dfk.closed:
        return
    terminating = _signals.terminating
    logger.warning(
        "cleanup() was not called; cleaning up at exit (%s)",
        "stopped by a signal: waiting tasks are failed, running commands killed"
        if terminating
        else f"waiting up to {dfk.config.exit_wait:g} s for outstanding tasks",
    )
    try:
        if not terminating:
            left = wait_outstanding(dfk, dfk.config.exit_wait)
            if left:
                terminating = True
                note = (
                    f"parsl: cleanup() was not called and {left} task(s) were still unfinished after "
                    f"{dfk.config.exit_wait:g} s (Config.exit_wait): failing them and exiting"
                )
                print(note, file=sys.stderr, flush=True)
                logger.warning("%s", note)
        if terminating:
            killed = kill_running()
            if killed:
                logger.warning("killed %d running bash app command(s)", killed)
            # without waiting for running tasks (a later cleanup's shutdown is a no-op)
            for ex in list(dfk.executors.values()):
                try:
                    ex.shutdown(block=False)
                except Exception:
                    logger.exception("shutting down executor %s failed", ex.label)
        dfk.cleanup(wait=not terminating)
    except BaseException:
        logger.exception("cleanup at exit failed")
    finally:
        kill_running()
