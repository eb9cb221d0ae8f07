"""The worker pool: one process per node of a block; it forks the workers and feeds them.

::

    interchange ◀══ DEALER (signed frames) ══▶ pool ──socketpair──▶ worker 0 (forked)
                 tasks ──▶ queue (prefetch)       ├──socketpair──▶ worker 1
                 ◀── results (batched)            └── ...
                 ◀──▶ heartbeats both ways

Placement: a task starts on an idle worker when the cores and memory it asks for
(``parsl_resource_specification``; a plain task takes ``cores_per_worker`` cores) are free
on this node. Short plain tasks go to a worker in small batches when the queue is long, so
workers do not wait on the pool between tasks.

Liveness: a worker that dies is noticed at once (end-of-file on its socket): the task it was
running fails with ``WorkerLost``, the tasks queued behind it are given to other workers,
and a new worker is forked. The pool exits when the interchange says ``stop`` or has been
silent for the heartbeat threshold; workers die with the pool (``PR_SET_PDEATHSIG``).

Started by the block's launcher as ``python -m parsl_executors.htex.pool --keyfile ...``
(console script ``parsl-htex-pool``).
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import pickle
import signal
import socket
import sys
import time
import uuid
from multiprocessing.connection import Connection, Pipe
from typing import Any

from parsl.app.errors import AppTimeout

from .wire import RunKeys, Signer, apply_curve, read_key_file
from .worker import CANCELLED, FAILED, WORKER_LOST, _failure, worker_loop

logger = logging.getLogger("parsl_executors.htex.pool")

_MAX_BATCH = 64
#: seconds past a task's walltime before its worker is killed (SIGALRM comes first)
WALLTIME_GRACE = 2.0


class _Worker:
    __slots__ = ("batch", "conn", "cores", "deadline", "fd", "memory", "pid", "timed_out", "wid")

    def __init__(self, wid: int, pid: int, conn: Connection) -> None:
        self.wid = wid
        self.pid = pid
        self.conn = conn
        self.fd = conn.fileno()
        self.batch: collections.deque[tuple[Any, ...]] = collections.deque()  # tasks sent, in order, no result yet
        self.cores = 0.0
        self.memory = 0.0
        #: when a task with a walltime must be over (its SIGALRM plus a grace period)
        self.deadline: float | None = None
        self.timed_out = False


def _node_memory_mb() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("inf")


class WorkerPool:
    """The pool's state and loop (see the module docstring)."""

    def __init__(self, opts: argparse.Namespace, keys: RunKeys) -> None:
        self.opts = opts
        self.keys = keys
        self.signer = Signer(keys.hmac_key)
        self.host = socket.gethostname()
        self.block = opts.block or os.environ.get("PARSL_HTEX_BLOCK", "")
        self.pool_id = f"{self.host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.cores_per_worker = float(opts.cores_per_worker)
        self.mem_per_worker = float(opts.mem_per_worker)
        self.n_workers = opts.workers
        self.cores = max(float(opts.cores or os.cpu_count() or 1), self.n_workers * self.cores_per_worker)
        self.memory = float(opts.memory or _node_memory_mb())
        self.queue: collections.deque[tuple[Any, ...]] = collections.deque()
        self.workers: dict[int, _Worker] = {}  # fd -> worker
        self.idle: list[_Worker] = []
        self.cores_used = 0.0
        self.memory_used = 0.0
        self.next_wid = 0
        self.stopping = False
        self.results: list[tuple[int, int, bytes]] = []

    # -- workers -----------------------------------------------------------------------------

    def fork_worker(self) -> _Worker:
        parent, child = Pipe(duplex=True)
        wid = self.next_wid
        self.next_wid += 1
        pid = os.fork()
        if pid == 0:  # the worker
            keep = child.fileno()
            os.closerange(3, keep)
            os.closerange(keep + 1, 1 << 16)
            worker_loop(child, wid)
        child.close()
        w = _Worker(wid, pid, parent)
        self.workers[w.fd] = w
        self.idle.append(w)
        return w

    def worker_died(self, w: _Worker) -> None:
        try:
            _, status = os.waitpid(w.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = None
        self.workers.pop(w.fd, None)
        if w in self.idle:
            self.idle.remove(w)
        w.conn.close()
        self.release(w)
        if w.batch:
            running = w.batch.popleft()
            if w.timed_out:
                self.results.append((running[0], FAILED, _failure(AppTimeout(f"task exceeded its walltime of {running[4][2]} s and was killed", -9))))
            else:
                info = pickle.dumps((w.wid, self.host, w.pid, code, self.block))
                self.results.append((running[0], WORKER_LOST, info))
            self.queue.extendleft(reversed(w.batch))  # never started: run them elsewhere
            logger.warning("worker %d (pid %d) died (exit %s) running task %d", w.wid, w.pid, code, running[0])
        else:
            logger.warning("worker %d (pid %d) died (exit %s) while idle", w.wid, w.pid, code)
        if not self.stopping:
            self.fork_worker()
            self.send("workers", self.worker_pids())

    def release(self, w: _Worker) -> None:
        self.cores_used -= w.cores
        self.memory_used -= w.memory
        w.cores = w.memory = 0.0

    def worker_pids(self) -> list[int]:
        return sorted(w.pid for w in self.workers.values())

    def read_worker(self, w: _Worker) -> None:
        conn = w.conn
        try:
            while True:
                done = pickle.loads(conn.recv_bytes())
                self.results.extend(done)
                for _ in done:
                    w.batch.popleft()
                if not conn.poll(0):
                    break
        except (EOFError, OSError):
            self.worker_died(w)
            return
        if not w.batch:
            w.deadline = None
            self.release(w)
            self.idle.append(w)

    def assign(self) -> None:
        queue, idle = self.queue, self.idle
        while queue and idle:
            head = queue[0]
            res = head[4]
            need_c = float(res[0]) if res and res[0] else self.cores_per_worker
            need_m = float(res[1]) if res and res[1] else (0.0 if res else self.mem_per_worker)
            if self.cores_used + need_c > self.cores + 1e-9 or self.memory_used + need_m > self.memory:
                return  # wait for running tasks to free cores or memory
            w = idle.pop()
            if res:
                batch = [queue.popleft()]
            else:
                n = max(1, min(_MAX_BATCH, len(queue) // (len(idle) + 1 + self.busy())))
                batch = []
                while queue and len(batch) < n and not queue[0][4]:
                    batch.append(queue.popleft())
            w.batch.extend(batch)
            w.cores, w.memory = need_c, need_m
            w.deadline = time.monotonic() + float(res[2]) + WALLTIME_GRACE if res and res[2] else None
            self.cores_used += need_c
            self.memory_used += need_m
            try:
                w.conn.send_bytes(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:
                self.worker_died(w)

    def enforce_walltimes(self) -> None:
        """Kill a worker whose task outlived its walltime despite SIGALRM (blocked, or stuck in C)."""
        now = time.monotonic()
        for w in list(self.workers.values()):
            if w.deadline is not None and now > w.deadline and not w.timed_out:
                logger.warning("worker %d (pid %d): task past its walltime ignored SIGALRM; killing the worker", w.wid, w.pid)
                w.timed_out = True
                try:
                    os.kill(w.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def busy(self) -> int:
        return len(self.workers) - len(self.idle)

    def check_fit(self, tasks: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Tasks that can never fit this node fail at once, with the reason."""
        ok = []
        for t in tasks:
            res = t[4]
            if res and ((res[0] and float(res[0]) > self.cores) or (res[1] and float(res[1]) > self.memory)):
                err = ValueError(f"task asks for {res[0] or 0} cores and {res[1] or 0} MB; this node ({self.host}) has {self.cores:g} cores and {self.memory:.0f} MB")
                self.results.append((t[0], 1, _failure(err)))
            else:
                ok.append(t)
        return ok

    # -- the interchange -----------------------------------------------------------------------

    def send(self, kind: str, body: Any = None) -> None:
        self.sock.send_multipart(self.signer.pack(kind, body), copy=False)

    def on_message(self, frames: list[bytes]) -> None:
        msg = self.signer.unpack(frames)
        if msg is None:
            logger.warning("dropped a malformed or unauthenticated message (%d so far)", self.signer.dropped)
            return
        kind, body = msg
        self.last_heard = time.monotonic()
        if kind == "tasks":
            self.queue.extend(self.check_fit(body))
        elif kind == "cancel":
            gone = set(body)
            kept = [t for t in self.queue if t[0] not in gone]
            if len(kept) != len(self.queue):
                dropped = {t[0] for t in self.queue} - {t[0] for t in kept}
                self.results.extend((tid, CANCELLED, b"") for tid in dropped)
                self.queue = collections.deque(kept)
        elif kind == "stop":
            logger.info("the interchange asked this pool to stop")
            self.stopping = True

    def run(self) -> int:
        import zmq

        opts = self.opts
        for _ in range(self.n_workers):
            self.fork_worker()
        ctx = zmq.Context()
        self.sock = sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.IDENTITY, self.pool_id.encode())
        apply_curve(sock, self.keys, server=False)
        sock.connect(f"tcp://{opts.address}:{opts.port}")
        self.send("reg", {
            "pool_id": self.pool_id, "host": self.host, "pid": os.getpid(), "block": self.block,
            "workers": self.n_workers, "capacity": self.n_workers + opts.prefetch, "cores": self.cores,
            "memory": self.memory, "worker_pids": self.worker_pids(),
        })
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        for fd in self.workers:
            poller.register(fd, zmq.POLLIN)
        registered = set(self.workers)
        period, threshold = opts.heartbeat_period, opts.heartbeat_threshold
        self.last_heard = time.monotonic()
        next_beat = self.last_heard + period
        try:
            while not self.stopping:
                now = time.monotonic()
                wait = next_beat - now
                if any(w.deadline is not None for w in self.workers.values()):
                    wait = min(wait, 0.2)
                events = poller.poll(max(0, int(wait * 1000)) if not self.results else 0)
                for fd_or_sock, _ in events:
                    if fd_or_sock is sock:
                        while True:
                            try:
                                frames = sock.recv_multipart(zmq.NOBLOCK)
                            except zmq.Again:
                                break
                            self.on_message(frames)
                    else:
                        w = self.workers.get(fd_or_sock)
                        if w is not None:
                            self.read_worker(w)
                if set(self.workers) != registered:
                    for fd in registered - set(self.workers):
                        poller.unregister(fd)
                    for fd in set(self.workers) - registered:
                        poller.register(fd, zmq.POLLIN)
                    registered = set(self.workers)
                self.enforce_walltimes()
                self.assign()
                if self.results:
                    results, self.results = self.results, []
                    self.send("results", results)
                now = time.monotonic()
                if now >= next_beat:
                    self.send("hb", len(self.queue))
                    next_beat = now + period
                if now - self.last_heard > threshold:
                    logger.error("no word from the interchange for %.1f s: exiting", now - self.last_heard)
                    return 3
            return 0
        finally:
            self.stopping = True
            self.stop_workers()
            sock.close(linger=0)
            ctx.term()

    def stop_workers(self) -> None:
        for w in list(self.workers.values()):
            try:
                os.kill(w.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for w in list(self.workers.values()):
            try:
                os.waitpid(w.pid, 0)
            except ChildProcessError:
                pass
            w.conn.close()
        self.workers.clear()


def parse_args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="parsl-htex-pool", description="The high-throughput executor's worker pool (one per node).")
    ap.add_argument("--keyfile", required=True, help="the run's pool key file (mode 0600)")
    ap.add_argument("--address", default="127.0.0.1", help="the interchange's address")
    ap.add_argument("--port", type=int, required=True, help="the interchange's worker port")
    ap.add_argument("--workers", type=int, default=0, help="workers to fork (0: cores / cores-per-worker)")
    ap.add_argument("--cores-per-worker", type=float, default=1.0)
    ap.add_argument("--cores", type=float, default=0, help="cores of this node (0: detect)")
    ap.add_argument("--memory", type=float, default=0, help="MB of memory of this node (0: detect)")
    ap.add_argument("--mem-per-worker", type=float, default=0, help="MB one plain task occupies (0: none)")
    ap.add_argument("--prefetch", type=int, default=0, help="tasks held beyond one per worker")
    ap.add_argument("--heartbeat-period", type=float, default=5.0)
    ap.add_argument("--heartbeat-threshold", type=float, default=10.0)
    ap.add_argument("--block", default="", help="the block id (also from PARSL_HTEX_BLOCK)")
    ap.add_argument("--logdir", default="", help="directory of the pool's log file")
    ap.add_argument("--debug", action="store_true")
    opts = ap.parse_args(argv)
    if opts.workers <= 0:  # as many as the node's cores, and its memory, allow
        fit = (opts.cores or os.cpu_count() or 1) // max(opts.cores_per_worker, 1e-9)
        if opts.mem_per_worker > 0:
            fit = min(fit, (opts.memory or _node_memory_mb()) // opts.mem_per_worker)
        opts.workers = max(1, int(fit))
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(sys.argv[1:] if argv is None else argv)
    level = logging.DEBUG if opts.debug else logging.WARNING
    if opts.logdir:
        os.makedirs(opts.logdir, exist_ok=True)
        logging.basicConfig(filename=os.path.join(opts.logdir, f"pool-{socket.gethostname()}-{os.getpid()}.log"), level=level,
                            format="%(asctime)s %(name)s %(levelname)s %(message)s")
    else:
        logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    pool = WorkerPool(opts, read_key_file(opts.keyfile))
    return pool.run()


if __name__ == "__main__":
    sys.exit(main())
