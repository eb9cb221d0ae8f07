"""The interchange: one process beside the driver that queues tasks and hands them to pools.

::

    driver ══ DEALER ══▶ ROUTER client port (127.0.0.1)        ROUTER worker port ◀══ DEALER ══ pool(s)
       tasks ─────────▶ queue ──dispatch (capacity = workers + prefetch, fair share)──▶ tasks
       ◀──────── results (batched) ◀────────────────────────────────────────────────── results
       ◀──────── pools (who is connected, worker pids)   ◀── reg / workers / hb
    stdin (a pipe from the driver) ── end-of-file ──▶ stop every pool, exit
    parent pid changed (the driver died, a fork of it may still hold stdin) ──▶ the same

Every frame is checked (HMAC) before anything is unpickled; bad frames are dropped and
counted (``stats``). A pool silent for the heartbeat threshold is dropped and the tasks it
held fail with ``ManagerLost``; if it speaks again it is told to stop.

Started by the executor as ``python -m parsl_executors.htex.interchange`` (console script
``parsl-htex-interchange``): its settings and keys arrive as one JSON line on stdin, and it
answers with its two ports as one JSON line on stdout.
"""
from __future__ import annotations

import collections
import json
import logging
import os
import pickle
import sys
import time
from typing import Any

from .wire import RunKeys, Signer, apply_curve
from .worker import MANAGER_LOST

logger = logging.getLogger("parsl_executors.htex.interchange")


class _Pool:
    __slots__ = ("capacity", "cores", "ident", "inflight", "info", "last_seen", "memory")

    def __init__(self, ident: bytes, info: dict[str, Any]) -> None:
        self.ident = ident
        self.info = info
        self.capacity = max(1, int(info.get("capacity", 1)))
        self.cores = float(info.get("cores", 1))
        self.memory = float(info.get("memory", float("inf")))
        self.inflight: dict[int, tuple[Any, ...]] = {}
        self.last_seen = time.monotonic()


def _fits(res: tuple[Any, ...], p: _Pool) -> bool:
    return not ((res[0] and res[0] > p.cores) or (res[1] and res[1] > p.memory))


class Interchange:
    """The interchange's state and loop (see the module docstring)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.keys = RunKeys.from_json(settings["keys"])
        self.client_signer = Signer(self.keys.hmac_key)
        self.worker_signer = Signer(self.keys.hmac_key)
        self.period = float(settings.get("heartbeat_period", 5.0))
        self.threshold = float(settings.get("heartbeat_threshold", 10.0))
        self.queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self.pools: dict[bytes, _Pool] = {}
        self.lost: set[bytes] = set()
        self.driver: bytes | None = None
        self.results: list[tuple[int, int, bytes]] = []
        self.pools_changed = False
        self.tasks_in = 0
        self.results_out = 0
        self.running = True

    def stats(self) -> dict[str, Any]:
        return {
            "dropped_client": self.client_signer.dropped,
            "dropped_worker": self.worker_signer.dropped,
            "pools": len(self.pools),
            "queued": len(self.queue),
            "inflight": sum(len(p.inflight) for p in self.pools.values()),
            "tasks_received": self.tasks_in,
            "results_sent": self.results_out,
        }

    def pool_table(self) -> list[dict[str, Any]]:
        return [dict(p.info) for p in self.pools.values()]

    # -- messages ------------------------------------------------------------------------------

    def on_client(self, frames: list[bytes]) -> None:
        if len(frames) < 2:
            self.client_signer.dropped += 1
            return
        msg = self.client_signer.unpack(frames[1:])
        if msg is None:
            return
        self.driver = frames[0]
        kind, body = msg
        if kind == "tasks":
            self.queue.extend(body)
            self.tasks_in += len(body)
        elif kind == "cancel":
            self.cancel(set(body))
        elif kind == "hb":
            self.to_driver("hb", None)
        elif kind == "stats":
            self.to_driver("stats", self.stats())
        elif kind == "release":
            self.release_blocks(set(body))
        elif kind == "stop":
            self.running = False

    def cancel(self, tids: set[int]) -> None:
        kept = [t for t in self.queue if t[0] not in tids]
        if len(kept) != len(self.queue):
            self.queue = collections.deque(kept)
        for p in self.pools.values():
            if tids.intersection(p.inflight):
                self.to_pool(p.ident, "cancel", sorted(tids.intersection(p.inflight)))

    def release_blocks(self, blocks: set[str]) -> None:
        """Stop the pools of blocks the executor is releasing; their tasks go back to the queue."""
        for ident, p in list(self.pools.items()):
            if str(p.info.get("block")) in blocks:
                self.to_pool(ident, "stop", None)
                self.pools.pop(ident)
                self.lost.add(ident)
                self.queue.extendleft(reversed(list(p.inflight.values())))
                self.pools_changed = True

    def on_worker(self, frames: list[bytes]) -> None:
        if len(frames) < 2:
            self.worker_signer.dropped += 1
            return
        msg = self.worker_signer.unpack(frames[1:])
        if msg is None:
            return
        ident = frames[0]
        kind, body = msg
        pool = self.pools.get(ident)
        if kind == "reg":
            if not isinstance(body, dict) or ident in self.lost:
                self.to_pool(ident, "stop", None)
                return
            self.pools[ident] = _Pool(ident, body)
            self.pools_changed = True
            logger.info("pool %s connected: host %s, block %s, %s workers", body.get("pool_id"), body.get("host"), body.get("block"), body.get("workers"))
            return
        if pool is None:  # declared lost, or never registered: it must not run anything
            self.to_pool(ident, "stop", None)
            return
        pool.last_seen = time.monotonic()
        if kind == "results":
            inflight = pool.inflight
            for r in body:
                if inflight.pop(r[0], None) is not None:
                    self.results.append(r)
        elif kind == "workers":
            pool.info["worker_pids"] = body
            self.pools_changed = True

    def to_pool(self, ident: bytes, kind: str, body: Any) -> None:
        self.worker_sock.send_multipart([ident, *self.worker_signer.pack(kind, body)], copy=False)

    def to_driver(self, kind: str, body: Any) -> None:
        if self.driver is not None:
            self.client_sock.send_multipart([self.driver, *self.client_signer.pack(kind, body)], copy=False)

    # -- dispatch and liveness -------------------------------------------------------------------

    def dispatch(self) -> None:
        queue = self.queue
        if not queue or not self.pools:
            return
        open_pools = [p for p in self.pools.values() if len(p.inflight) < p.capacity]
        for i, p in enumerate(open_pools):
            if not queue:
                return
            free = p.capacity - len(p.inflight)
            share = -(-len(queue) // (len(open_pools) - i))  # fair share of what is left
            n = min(free, share)
            batch = []
            inflight = p.inflight
            while n and queue:
                res = queue[0][4]
                if res and not _fits(res, p) and any(_fits(res, q) for q in self.pools.values()):
                    break  # another pool can take it (a task no pool fits is failed by the pool, with the reason)
                t = queue.popleft()
                inflight[t[0]] = t
                batch.append(t)
                n -= 1
            if batch:
                self.to_pool(p.ident, "tasks", batch)

    def check_pools(self, now: float) -> None:
        for ident, p in list(self.pools.items()):
            if now - p.last_seen > self.threshold:
                self.pool_lost(ident, f"no heartbeat for {now - p.last_seen:.1f} s")

    def pool_lost(self, ident: bytes, why: str) -> None:
        p = self.pools.pop(ident)
        self.lost.add(ident)
        self.pools_changed = True
        info = p.info
        logger.warning("pool %s (block %s) lost: %s; %d tasks fail with ManagerLost", info.get("pool_id"), info.get("block"), why, len(p.inflight))
        detail = pickle.dumps((info.get("pool_id"), info.get("host"), info.get("block"), why))
        for tid in p.inflight:
            self.results.append((tid, MANAGER_LOST, detail))

    # -- the loop ------------------------------------------------------------------------------

    def bind(self, ctx: Any) -> tuple[int, int]:
        import zmq

        s = self.settings
        self.client_sock = ctx.socket(zmq.ROUTER)
        self.worker_sock = ctx.socket(zmq.ROUTER)
        for sock in (self.client_sock, self.worker_sock):
            sock.setsockopt(zmq.LINGER, 0)
            sock.setsockopt(zmq.ROUTER_MANDATORY, 0)
            apply_curve(sock, self.keys, server=True)
        lo, hi = s.get("port_range", (54000, 55000))
        client_port = self._bind(self.client_sock, "127.0.0.1", s.get("client_port"), lo, hi)
        worker_port = self._bind(self.worker_sock, s.get("bind_address", "127.0.0.1"), s.get("worker_port"), lo, hi)
        return client_port, worker_port

    @staticmethod
    def _bind(sock: Any, address: str, port: int | None, lo: int, hi: int) -> int:
        if port:
            sock.bind(f"tcp://{address}:{port}")
            return int(port)
        return int(sock.bind_to_random_port(f"tcp://{address}", min_port=lo, max_port=hi, max_tries=200))

    def run(self, stdin_fd: int) -> None:
        import zmq

        ctx = zmq.Context()
        client_port, worker_port = self.bind(ctx)
        sys.stdout.write(json.dumps({"client_port": client_port, "worker_port": worker_port}) + "\n")
        sys.stdout.flush()
        poller = zmq.Poller()
        poller.register(self.client_sock, zmq.POLLIN)
        poller.register(self.worker_sock, zmq.POLLIN)
        poller.register(stdin_fd, zmq.POLLIN)
        next_beat = time.monotonic() + self.period
        parent = os.getppid()
        client, workers = self.client_sock, self.worker_sock
        try:
            while self.running:
                timeout = 0 if self.results else max(0, int((next_beat - time.monotonic()) * 1000))
                for sock, _ in poller.poll(timeout):
                    if sock is stdin_fd:
                        if not os.read(stdin_fd, 4096):
                            logger.warning("the driver is gone (end of stdin): stopping")
                            self.running = False
                    else:
                        handler = self.on_client if sock is client else self.on_worker
                        for _ in range(1000):
                            try:
                                frames = sock.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            handler(frames)
                self.dispatch()
                now = time.monotonic()
                if now >= next_beat:
                    if os.getppid() != parent:  # reparented: the driver is gone, even if a fork of it holds our stdin
                        logger.warning("the driver (pid %d) is gone: stopping", parent)
                        self.running = False
                    for ident in self.pools:
                        self.to_pool(ident, "hb", None)
                    self.check_pools(now)
                    next_beat = now + self.period
                if self.results:
                    results, self.results = self.results, []
                    self.results_out += len(results)
                    self.to_driver("results", results)
                if self.pools_changed and self.driver is not None:
                    self.pools_changed = False
                    self.to_driver("pools", self.pool_table())
        finally:
            for ident in list(self.pools):
                try:
                    self.to_pool(ident, "stop", None)
                except Exception:
                    pass
            time.sleep(0.05)  # let the stop messages leave
            client.close(linger=0)
            workers.close(linger=0)
            ctx.term()


def _read_line(fd: int) -> str:
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = os.read(fd, 1)
        if not chunk:
            raise SystemExit("the interchange expects its settings as one JSON line on stdin")
        buf += chunk
    return buf.decode()


def main() -> int:
    try:
        settings = json.loads(_read_line(0))
        if not isinstance(settings, dict) or "keys" not in settings:
            raise ValueError("no 'keys'")
    except ValueError as e:
        raise SystemExit(f"the interchange expects its settings (with the run's keys) as one JSON line on stdin: {e}") from None
    logfile = settings.get("logfile")
    level = logging.DEBUG if settings.get("debug") else logging.INFO
    fmt = "%(asctime)s %(name)s %(levelname)s %(message)s"
    if logfile:
        logging.basicConfig(filename=logfile, level=level, format=fmt)
    else:
        logging.basicConfig(level=level, format=fmt, stream=sys.stderr)
    Interchange(settings).run(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
