"""The driver's side of the wire: one IO thread owns the socket to the interchange.

::

    submit() ─▶ outbox (deque) ─wake pipe (only when the thread sleeps)─┐
                                                                        ▼
    IO thread: poll(socket, wake pipe) ─▶ send 'tasks' in batches ─▶ interchange
               ◀── 'results' batches ──▶ on_results(list)   (futures are set here)
               ◀── 'pools'            ──▶ on_pools(list)
               every heartbeat period: 'hb'; interchange process gone ─▶ on_lost(reason)

Nothing but this thread touches the ZMQ socket; other threads only append to the outbox.
"""
from __future__ import annotations

import collections
import logging
import os
import threading
import time
from typing import Any, Callable

from .wire import RunKeys, Signer, apply_curve

logger = logging.getLogger(__name__)

_MAX_BATCH = 8192


class InterchangeClient:
    def __init__(
        self,
        label: str,
        keys: RunKeys,
        port: int,
        on_results: Callable[[list[tuple[int, int, bytes]]], None],
        on_message: Callable[[str, Any], None],
        is_alive: Callable[[], bool],
        heartbeat_period: float,
    ) -> None:
        import zmq

        self.label = label
        self.signer = Signer(keys.hmac_key)
        self.on_results = on_results
        self.on_message = on_message
        self.is_alive = is_alive
        self.period = heartbeat_period
        self.tasks: collections.deque[tuple[Any, ...]] = collections.deque()
        self.control: collections.deque[tuple[str, Any]] = collections.deque()
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.DEALER)
        self._sock.setsockopt(zmq.LINGER, 0)
        apply_curve(self._sock, keys, server=False)
        self._sock.connect(f"tcp://127.0.0.1:{port}")
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self.sleeping = False
        self.closed = False
        self.lost: str | None = None
        self.last_heard = time.monotonic()
        self.control.append(("hb", None))  # introduces the driver to the interchange
        self._thread = threading.Thread(target=self._run, name=f"parsl-htex-{label}-io", daemon=True)
        self._thread.start()

    # -- called from any thread ----------------------------------------------------------------

    def put(self, task: tuple[Any, ...]) -> None:
        self.tasks.append(task)
        if self.sleeping:
            self.wake()

    def send(self, kind: str, body: Any = None) -> None:
        self.control.append((kind, body))
        self.wake()

    def wake(self) -> None:
        self.sleeping = False
        try:
            os.write(self._wake_w, b"\0")
        except (BlockingIOError, OSError):
            pass

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (a final ``stop`` included), stop the thread, close the socket."""
        self.closed = True
        self.wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # -- the IO thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        import zmq

        sock, signer = self._sock, self.signer
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        poller.register(self._wake_r, zmq.POLLIN)
        tasks, control = self.tasks, self.control
        next_beat = time.monotonic() + self.period
        try:
            while True:
                self.sleeping = True
                if tasks or control or self.closed:
                    self.sleeping = False
                    timeout = 0
                else:
                    timeout = max(0, int((next_beat - time.monotonic()) * 1000))
                for what, _ in poller.poll(timeout):
                    if what is sock:
                        while True:
                            try:
                                frames = sock.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self._incoming(frames)
                    else:
                        try:
                            os.read(self._wake_r, 65536)
                        except OSError:
                            pass
                self.sleeping = False
                while tasks:
                    n = min(len(tasks), _MAX_BATCH)
                    batch = [tasks.popleft() for _ in range(n)]
                    sock.send_multipart(signer.pack("tasks", batch), copy=False)
                while control:
                    kind, body = control.popleft()
                    sock.send_multipart(signer.pack(kind, body), copy=False)
                if self.closed:
                    return
                now = time.monotonic()
                if now >= next_beat:
                    next_beat = now + self.period
                    sock.send_multipart(signer.pack("hb"), copy=False)
                    if not self.is_alive():
                        self.lost = "the interchange process exited"
                        self.on_message("lost", self.lost)
                        return
        except Exception as e:  # never die silently: whatever waits must learn of it
            logger.exception("executor %s: the IO thread failed", self.label)
            self.lost = f"the executor's IO thread failed: {type(e).__name__}: {e}"
            self.on_message("lost", self.lost)
        finally:
            sock.close(linger=0)
            self._ctx.term()

    def _incoming(self, frames: list[bytes]) -> None:
        msg = self.signer.unpack(frames)
        if msg is None:
            logger.warning("executor %s: dropped a malformed message from the interchange", self.label)
            return
        self.last_heard = time.monotonic()
        kind, body = msg
        if kind == "results":
            self.on_results(body)
        elif kind != "hb":
            self.on_message(kind, body)
