"""Runs a command (the ipcontroller) and ends it when the process that started it is gone.

::

    script ──Popen──▶ guard <parent pid> -- ipcontroller ...
                          ├─ child: ipcontroller ── stdout/stderr ──▶ reader thread
                          │                            RateLimitedLog ──▶ our stdout (controller.log)
                          └─ every 0.25 s: parent alive?  no ─▶ SIGTERM, then SIGKILL, to the child

So a script killed with SIGKILL (no ``cleanup()``, no atexit) leaves no controller behind; its
engines then stop on their own when the controller is gone. The controller's log is
rate-limited per kind of record: junk sent to its ports is counted, not written line by line.
"""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from typing import IO

from ..log_limiter import RateLimitedLog


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
        print("usage: python -m parsl_executors.ipp.guard <parent pid> -- command ...", file=sys.stderr)
        return 2
    parent = int(argv[0])
    child = subprocess.Popen(argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    signal.signal(signal.SIGTERM, lambda *_: _stop(child))
    log = RateLimitedLog(sys.stdout)
    assert child.stdout is not None
    reader = threading.Thread(target=_pump, args=(child.stdout, log), daemon=True)
    reader.start()
    while child.poll() is None:
        if not _alive(parent):
            _stop(child)
            break
        log.tick()
        try:
            child.wait(0.25)
        except subprocess.TimeoutExpired:
            pass
    rc = child.wait()
    reader.join(5.0)
    log.close()
    return rc if rc >= 0 else 128 - rc


def _pump(stream: IO[bytes], log: RateLimitedLog) -> None:
    text = io.TextIOWrapper(stream, encoding="utf-8", errors="replace")  # type: ignore[type-var]
    for line in text:
        log.feed(line)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
