"""SIGTERM and SIGINT (Ctrl-C) turn into an orderly, prompt exit, so that a terminated or
interrupted driver still runs its exit hooks: waiting tasks fail instead of vanishing, running
bash commands are killed with everything they started, executors stop without waiting for
their tasks, and nothing is left orphaned.

::

    SIGTERM ─▶ terminating = True ─▶ SystemExit(143) ─▶ atexit: DataFlowKernel._atexit
    SIGINT  ─▶ note on stderr, terminating = True ─▶ KeyboardInterrupt ─▶ (same)
    2nd SIGINT while exiting ─▶ running bash commands killed, os._exit(130)

Installed once per process by the first DataFlowKernel, only from the main thread and only
where the signal still has Python's default action (a handler the user set is never replaced).
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

terminating = False
interrupted = False
_installed = False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global terminating
    terminating = True
    sys.exit(128 + signum)


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global terminating, interrupted
    if interrupted:
        from ..app.bash import kill_running

        kill_running()
        print("parsl: interrupted again: exiting now", file=sys.stderr, flush=True)
        os._exit(130)
    interrupted = terminating = True
    print(
        "parsl: interrupted (Ctrl-C): cancelling waiting tasks, stopping running ones and exiting "
        "(Ctrl-C again to exit at once)",
        file=sys.stderr,
        flush=True,
    )
    raise KeyboardInterrupt


def install() -> None:
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_sigint)
