"""The Turbine executor's I/O thread: one listening socket that the ranks of every block
connect to, and the routing of tasks and results.

::

    submit() ─▶ pending deque ─wake─▶ ┌──────────── hub thread (selectors) ─────────────┐
    on_block_start(b) ◀───────────────│ rank 0 of block b  ══▶ hello (the block is up)   │
                                      │ rank 0 of block b  ◀══ tasks, up to its window ══│
    on_done(task_id, kind, payload) ◀─│ rank 0 of block b  ══▶ results, window updates   │
                                      │ rank k of block b  ══▶ hello, then silence; its  │
                                      │    connection dropping = rank k died ─▶ tell     │
                                      │    rank 0 {lost_rank: k}                          │
                                      │ rank 0 dropping ─▶ the block's tasks fail with    │
                                      │    RankZeroLost (or go back to pending when the   │
                                      │    executor released the block itself)            │
                                      └──────────────────────────────────────────────────┘

Every connection is authenticated (:mod:`.wire`); nothing a peer sends is unpickled before its
mac checks. Callbacks run on the hub thread.
"""
from __future__ import annotations

import itertools
import logging
import secrets
import selectors
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from .errors import RankZeroLost
from .wire import NONCE, TO_RANK, AuthError, Codec, session_key

logger = logging.getLogger(__name__)

HANDSHAKE_TIMEOUT = 30.0


@dataclass(eq=False)
class _Conn:
    sock: socket.socket
    nonce: bytes
    since: float
    codec: Codec | None = None
    inbuf: bytearray = field(default_factory=bytearray)
    out: bytearray = field(default_factory=bytearray)
    kind: str = ""
    block: str = ""
    rank: int = -1
    host: str | None = None
    pid: int | None = None


@dataclass(eq=False)
class BlockLink:
    """What the hub knows of one block's ranks."""

    block: str
    rank0: _Conn | None = None
    size: int = 0
    window: int = 0
    inflight: dict[Any, Any] = field(default_factory=dict)
    workers: dict[int, _Conn] = field(default_factory=dict)
    lost_early: set[int] = field(default_factory=set)
    ended: bool = False
    released: bool = False


Done = Callable[[Any, str, Any], None]


class Hub:
    def __init__(
        self, key: bytes, address: str, port: int, label: str, on_done: Done, on_block_end: Callable[[str, str, bool], None],
        on_block_start: Callable[[str], object] | None = None,
    ) -> None:
        self._key = key
        self.label = label
        self._on_done = on_done
        self._on_block_end = on_block_end
        self._on_block_start = on_block_start
        self.pending: deque[tuple[Any, dict[str, Any]]] = deque()
        self.blocks: dict[str, BlockLink] = {}
        self._commands: deque[Callable[[], None]] = deque()
        self._sel = selectors.DefaultSelector()
        self._listener = socket.create_server((address, port), backlog=512)
        self._listener.setblocking(False)
        self.address, self.port = self._listener.getsockname()[:2]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._woken = False
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._closing = False
        self._started = False
        self._next_expiry = 0.0
        self._rr = itertools.count()
        self._thread = threading.Thread(target=self._run, name=f"parsl-{label}-hub", daemon=True)

    def start(self) -> None:
        self._started = True
        self._thread.start()

    # -- called from other threads ----------------------------------------------------------

    def submit(self, task_id: Any, msg: dict[str, Any]) -> None:
        self.pending.append((task_id, msg))
        self.wake()

    def wake(self) -> None:
        if not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"x")
            except OSError:
                pass

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the hub thread."""
        self._commands.append(fn)
        self.wake()

    def release(self, block: str) -> None:
        """The executor is cancelling ``block``: its tasks go back to pending instead of failing."""

        def mark() -> None:
            link = self.blocks.setdefault(block, BlockLink(block))
            link.released = True
            if link.rank0 is not None:
                self._queue(link.rank0, [{"stop": True}])

        self.call(mark)

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every rank 0 to stop, flush, close every connection and end the thread."""

        def begin() -> None:
            self._closing = True
            for link in self.blocks.values():
                link.released = True
                if link.rank0 is not None:
                    self._queue(link.rank0, [{"stop": True}])

        self.call(begin)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._close_all()

    @property
    def failed(self) -> bool:
        """The hub thread ended (shutdown or an internal error): no task can run any more."""
        return self._closing or (self._started and not self._thread.is_alive())

    def links(self) -> list[BlockLink]:
        """A snapshot of the blocks (safe from any thread: the hub thread may be changing them)."""
        for _ in range(10):
            try:
                return list(self.blocks.values())
            except RuntimeError:  # changed size during iteration
                continue
        return []

    def ranks(self) -> dict[tuple[str, int], tuple[str | None, int | None]]:
        """(block, rank) → (host, pid) of every rank connected now."""
        out = {}
        for link in self.links():
            conns = [link.rank0] if link.rank0 is not None else []
            for _ in range(10):
                try:
                    conns += list(link.workers.values())
                    break
                except RuntimeError:
                    continue
            for c in conns:
                out[(link.block, c.rank)] = (c.host, c.pid)
        return out

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        deadline = None
        try:
            while True:
                for key, mask in self._sel.select(timeout=0.5):
                    if key.data == "listen":
                        self._accept()
                    elif key.data == "wake":
                        self._woken = False
                        try:
                            while self._wake_r.recv(4096):
                                pass
                        except BlockingIOError:
                            pass
                    else:
                        conn: _Conn = key.data
                        if mask & selectors.EVENT_READ:
                            self._read(conn)
                        if mask & selectors.EVENT_WRITE and conn.sock.fileno() >= 0:
                            self._write(conn)
                while self._commands:
                    self._commands.popleft()()
                if self._closing:
                    deadline = deadline or time.monotonic() + 2.0
                    if time.monotonic() > deadline or not any(c.out for c in self._conns()):
                        return
                    continue
                self._dispatch()
                self._expire()
        except Exception:
            logger.exception("executor %s: the hub thread failed", self.label)
            self._closing = True
            self._fail_all("the executor's I/O thread failed; see the log")

    def _conns(self) -> list[_Conn]:
        return [k.data for k in self._sel.get_map().values() if isinstance(k.data, _Conn)]

    def _accept(self) -> None:
        while True:
            try:
                sock, _addr = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, secrets.token_bytes(NONCE), time.monotonic())
            conn.out += conn.nonce
            self._sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)

    def _expire(self) -> None:
        now = time.monotonic()
        if now < self._next_expiry:
            return
        self._next_expiry = now + 1.0
        for conn in self._conns():
            if conn.codec is None or not conn.kind:
                if now - conn.since > HANDSHAKE_TIMEOUT:
                    logger.warning("executor %s: dropping a connection that did not authenticate within %.0f s", self.label, HANDSHAKE_TIMEOUT)
                    self._drop(conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._closed(conn)
            return
        try:
            if conn.codec is None:
                conn.inbuf += data
                if len(conn.inbuf) < NONCE:
                    return
                client_nonce, data = bytes(conn.inbuf[:NONCE]), bytes(conn.inbuf[NONCE:])
                conn.inbuf.clear()
                conn.codec = Codec(session_key(self._key, conn.nonce, client_nonce), TO_RANK)
            batches = conn.codec.feed(data)
        except (AuthError, ValueError, EOFError, TypeError) as e:
            logger.warning("executor %s: rejected a connection: %s", self.label, e)
            self._drop(conn)
            return
        for batch in batches:
            for msg in batch:
                if not conn.kind:
                    self._hello(conn, msg)
                    if not conn.kind:
                        return
                else:
                    self._message(conn, msg)

    def _hello(self, conn: _Conn, msg: Any) -> None:
        if not isinstance(msg, dict) or msg.get("kind") not in ("rank0", "worker"):
            logger.warning("executor %s: rejected a connection whose first message is not a hello", self.label)
            self._drop(conn)
            return
        conn.kind, conn.block, conn.rank = msg["kind"], str(msg["block"]), int(msg["rank"])
        conn.host, conn.pid = msg.get("host"), msg.get("pid")
        link = self.blocks.setdefault(conn.block, BlockLink(conn.block))
        if conn.kind == "rank0":
            if link.rank0 is not None or link.ended:
                logger.warning("executor %s: a second rank 0 for block %s was rejected", self.label, conn.block)
                conn.kind = "rejected"
                self._drop(conn)
                return
            link.rank0, link.size = conn, int(msg.get("size", 0))
            logger.info("executor %s: block %s connected: %d ranks, rank 0 is pid %s on %s", self.label, conn.block, link.size, conn.pid, conn.host)
            if msg.get("fatal"):
                link.ended = True
                self._on_block_end(conn.block, str(msg["fatal"]), False)
                self._drop(conn)
                return
            if self._on_block_start is not None:
                self._on_block_start(conn.block)
            if link.lost_early:
                self._queue(conn, [{"lost_rank": r} for r in sorted(link.lost_early)])
                link.lost_early.clear()
            if link.released:
                self._queue(conn, [{"stop": True}])
        else:
            link.workers[conn.rank] = conn

    def _message(self, conn: _Conn, msg: dict[str, Any]) -> None:
        if conn.kind != "rank0":
            return
        link = self.blocks[conn.block]
        if "window" in msg:
            link.window = int(msg["window"])
            return
        task_id = msg.get("task_id")
        if link.inflight.pop(task_id, None) is None:
            return
        if "result" in msg:
            self._on_done(task_id, "result", msg["result"])
        elif "exception" in msg:
            self._on_done(task_id, "exception", msg["exception"])

    def _closed(self, conn: _Conn) -> None:
        self._drop(conn)
        link = self.blocks.get(conn.block)
        if link is None or conn.kind not in ("rank0", "worker"):
            return
        if conn.kind == "worker":
            if link.workers.get(conn.rank) is conn:
                del link.workers[conn.rank]
            if link.ended or self._closing:
                return
            logger.warning("executor %s: rank %d (pid %s on %s) of block %s is gone", self.label, conn.rank, conn.pid, conn.host, link.block)
            if link.rank0 is not None:
                self._queue(link.rank0, [{"lost_rank": conn.rank}])
            else:
                link.lost_early.add(conn.rank)
            return
        link.rank0 = None
        link.ended = True
        for w in list(link.workers.values()):
            self._drop(w)
        link.workers.clear()
        lost, link.inflight = link.inflight, {}
        if link.released or self._closing:
            self.pending.extendleft(reversed(list(lost.items())))
            return
        logger.error("executor %s: rank 0 of block %s is gone; failing its %d tasks", self.label, link.block, len(lost))
        self._on_block_end(link.block, "rank 0 is gone", True)
        for task_id in lost:
            self._on_done(task_id, "error", RankZeroLost(link.block, conn.host, conn.pid))

    def _drop(self, conn: _Conn) -> None:
        try:
            self._sel.unregister(conn.sock)
        except (KeyError, ValueError):
            pass
        try:
            conn.sock.close()
        except OSError:
            pass

    def _queue(self, conn: _Conn, msgs: list[Any]) -> None:
        if conn.codec is None:
            return
        was_empty = not conn.out
        conn.out += conn.codec.encode(msgs)
        if was_empty:
            self._write(conn)

    def _write(self, conn: _Conn) -> None:
        try:
            while conn.out:
                n = conn.sock.send(conn.out)
                del conn.out[:n]
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            conn.out.clear()
        want = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
        try:
            if self._sel.get_key(conn.sock).events != want:
                self._sel.modify(conn.sock, want, conn)
        except (KeyError, ValueError):
            pass

    def _dispatch(self) -> None:
        if not self.pending:
            return
        links = [b for b in self.blocks.values() if b.rank0 is not None and not b.ended and not b.released and b.window > len(b.inflight)]
        if not links:
            return
        start = next(self._rr) % len(links)
        for link in links[start:] + links[:start]:
            room = link.window - len(link.inflight)
            batch = []
            while room > 0 and self.pending:
                task_id, msg = self.pending.popleft()
                link.inflight[task_id] = msg
                batch.append(msg)
                room -= 1
            if batch and link.rank0 is not None:
                self._queue(link.rank0, batch)
            if not self.pending:
                return

    def _fail_all(self, reason: str) -> None:
        from parsl.executors.errors import ExecutorError

        for link in self.blocks.values():
            lost, link.inflight = link.inflight, {}
            for task_id in lost:
                self._on_done(task_id, "error", ExecutorError(reason))
        while self.pending:
            task_id, _msg = self.pending.popleft()
            self._on_done(task_id, "error", ExecutorError(reason))

    def _close_all(self) -> None:
        for conn in self._conns():
            self._drop(conn)
        for s in (self._listener, self._wake_r, self._wake_w):
            try:
                s.close()
            except OSError:
                pass
        try:
            self._sel.close()
        except Exception:
            pass
