"""SIGTERM turns into an orderly exit, so that a terminated driver still runs its exit hooks:
pending tasks fail instead of vanishing, and the commands of running bash apps (each in its own
process group) are killed instead of being left orphaned.

Installed once per process by the first DataFlowKernel, only from the main thread and only
where SIGTERM still has its default action (a handler the user set is never replaced).
"""
from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

terminating = False
_installed = False


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    global terminating
    terminating = True
    sys.exit(128 + signum)


def install() -> None:
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    _installed = True
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
