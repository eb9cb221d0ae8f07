"""Runs a command (the ipcontroller) and ends it when the process that started it is gone.

::

    script ──Popen──▶ ipp_guard <parent pid> -- ipcontroller ...
                          ├─ child: ipcontroller
                          └─ every second: parent alive?  no ─▶ SIGTERM, then SIGKILL, to the child

So a script killed with SIGKILL (no ``cleanup()``, no atexit) leaves no controller behind; its
engines then stop on their own when the controller's heartbeat is gone.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return os.getppid() == pid  # reparented: the parent is gone even if its pid was reused


def _stop(child: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        if child.poll() is not None:
            return
        child.send_signal(sig)
        try:
            child.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python -m parsl_executors.ipp_guard <parent pid> -- command ...", file=sys.stderr)
        return 2
    parent = int(argv[0])
    child = subprocess.Popen(argv[2:])
    signal.signal(signal.SIGTERM, lambda *_: _stop(child))
    while child.poll() is None:
        if not _alive(parent):
            _stop(child)
            break
        try:
            child.wait(1.0)
        except subprocess.TimeoutExpired:
            pass
    rc = child.wait()
    return rc if rc >= 0 else 128 - rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
