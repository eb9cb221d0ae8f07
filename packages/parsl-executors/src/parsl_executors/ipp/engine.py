"""An IPython Parallel engine that does not outlive its controller, busy or idle.

::

    python -m parsl_executors.ipp.engine --controller-timeout=T -- <ipengine arguments>
        ├─ watchdog thread: every T/4 s, TCP connect to the controller's registration port
        │     (address and port from the --file= connection file)
        │     unreachable for T s ─▶ SIGKILL to the block's process group (or to this engine)
        └─ main thread: ipyparallel's engine (runs the tasks)

ipyparallel's own heartbeat check runs on the engine's event loop, which a running task
blocks; so a busy engine never noticed that its driver was SIGKILLed and ran on until its
task ended. The watchdog is a thread of its own. The driver's death ends the controller
(:mod:`.guard`), and the controller's end ends every engine within ``T`` seconds.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from urllib.parse import urlparse


def controller_address(connection_file: str) -> tuple[str, int]:
    """Host and registration port the engine reaches the controller at."""
    with open(connection_file) as f:
        info = json.load(f)
    host = urlparse(str(info.get("interface", "tcp://127.0.0.1"))).hostname or "127.0.0.1"
    if host in ("0.0.0.0", "*", "::"):
        host = str(info.get("location") or "127.0.0.1")
    return host, int(info["registration"])


def _end_block() -> None:
    """SIGKILL the block's process group when this engine leads a session of its own (a
    block), else only this engine: never a group that a user's shell might own."""
    try:
        if os.getsid(0) == os.getpgrp():
            os.killpg(os.getpgrp(), signal.SIGKILL)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def watch(address: tuple[str, int], timeout: float, on_loss: object = _end_block) -> threading.Thread:
    """Start the watchdog thread: ``on_loss()`` once the controller has been unreachable for
    ``timeout`` seconds."""
    period = max(0.05, timeout / 4)

    def run() -> None:
        last_ok = time.monotonic()
        while True:
            try:
                with socket.create_connection(address, timeout=period):
                    last_ok = time.monotonic()
            except OSError:
                if time.monotonic() - last_ok >= timeout:
                    print(f"parsl ipp engine: controller {address[0]}:{address[1]} unreachable for {timeout:.1f} s; stopping", file=sys.stderr, flush=True)
                    on_loss()  # type: ignore[operator]
                    return
            time.sleep(period)

    t = threading.Thread(target=run, name="parsl-controller-watchdog", daemon=True)
    t.start()
    return t


def main(argv: list[str]) -> None:
    timeout = 5.0
    if argv and argv[0].startswith("--controller-timeout="):
        timeout = float(argv.pop(0).split("=", 1)[1])
    if argv and argv[0] == "--":
        argv.pop(0)
    files = [a.split("=", 1)[1] for a in argv if a.startswith("--file=")]
    if files:
        watch(controller_address(files[0]), timeout)
    from ipyparallel.engine.app import main as engine_main

    sys.argv = ["ipengine", *argv]
    engine_main()


if __name__ == "__main__":
    main(sys.argv[1:])
