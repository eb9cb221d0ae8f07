"""Rank 0 of a Turbine block: takes tasks from the executor and hands them to the worker ranks
as they ask (pull), so uneven tasks balance.

::

    executor ══ {task_id, buffer[, mpi]} ══▶ rank 0 ── Scheduler (slots, first fit) ──▶ MPI TASK ──▶ worker k
             ◀═ {task_id, result|exception} ═╡      ◀──────────── MPI RESULT (k is idle again) ────┘
             ◀═ {window: n}   (tasks rank 0 is ready to hold: 4 per worker)
             ══ {lost_rank: k} (the executor saw worker k's connection drop) ──▶ its task fails with WorkerLost
             ══ {stop: True} ──▶ MPI STOP to every worker; exit

One thread: it polls MPI (``improbe``) and waits on the executor's socket with a timeout that
backs off from 0 to 2 ms while nothing happens, so an idle block uses almost no CPU.
"""
from __future__ import annotations

import logging
import os
import pickle
import selectors
import time
from typing import Any

from ..errors import WorkerLost
from .scheduler import Scheduler
from .wire import RankConnection

logger = logging.getLogger(__name__)

TAG_READY, TAG_TASK, TAG_RESULT, TAG_STOP = 1, 2, 3, 4
MAX_WAIT = 0.002


class Dispatcher:
    def __init__(self, comm: Any, conn: RankConnection, block: str, node: str, launcher: str, options: str) -> None:
        from mpi4py import MPI

        self.MPI = MPI
        self.comm = comm
        self.conn = conn
        self.block = block
        self.launcher = launcher
        self.options = options
        self.size = comm.Get_size()
        self.sched = Scheduler()
        self.sched.add_slot(node)
        self.info: dict[int, tuple[str, int]] = {}  # rank -> (host, pid)
        self.sends: list[Any] = []
        self.out: list[dict[str, Any]] = []
        self.window = -1
        self.stopping = False

    def run(self) -> bool:
        """Serve until told to stop; ``True`` if no worker was lost (MPI may finalize)."""
        sel = selectors.DefaultSelector()
        sel.register(self.conn.sock, selectors.EVENT_READ)
        wait = 0.0
        while not self.stopping:
            busy = self._poll_mpi()
            if self.sched.workers + len(self.sched.lost_ranks) >= self.size - 1:
                self._fail_impossible()
            for a in self.sched.assignments():
                busy = True
                task_id, buffer = a.payload[0], a.payload[1]
                mpi = None
                if a.nodes:
                    mpi = (a.payload[2], a.payload[3], list(a.nodes), self.launcher, self.options)
                self._send(a.rank, (task_id, buffer, mpi), TAG_TASK)
            self._flush()
            if sel.select(timeout=0 if busy else wait):
                msgs = self.conn.receive_available()
                if msgs is None:
                    logger.info("block %s: the executor closed the connection; stopping", self.block)
                    break
                self._handle(msgs)
                busy = True
            wait = 0.0 if busy else min(max(wait * 2, 5e-5), MAX_WAIT)
            self.sends = [r for r in self.sends if not r.Test()]
        clean = not self.sched.lost_ranks
        for rank in list(self.sched.node_of):
            self._send(rank, clean, TAG_STOP)
        for r in self.sends:
            try:
                r.Wait()
            except self.MPI.Exception:
                pass
        return clean

    def _send(self, rank: int, obj: Any, tag: int) -> None:
        try:
            self.sends.append(self.comm.isend(obj, dest=rank, tag=tag))
        except self.MPI.Exception as e:  # the rank is gone; the executor will tell us
            logger.warning("block %s: sending to rank %d failed: %s", self.block, rank, e)

    def _poll_mpi(self) -> bool:
        busy = False
        status = self.MPI.Status()
        while True:
            msg = self.comm.improbe(source=self.MPI.ANY_SOURCE, tag=self.MPI.ANY_TAG, status=status)
            if msg is None:
                return busy
            obj = msg.recv()
            busy = True
            src, tag = status.Get_source(), status.Get_tag()
            if tag == TAG_READY:
                host, pid, node = obj
                self.info[src] = (host, pid)
                self.sched.add_worker(src, node)
            elif tag == TAG_RESULT:
                task_id, kind, data = obj
                if self.sched.finished(src, task_id):
                    self.out.append({"task_id": task_id, kind: data})

    def _fail_impossible(self) -> None:
        for w in self.sched.drop_impossible():
            nodes = ", ".join(f"{n}: {c}" for n, c in sorted(self.sched.capacity.items()))
            err = ValueError(
                f"the MPI app asks for {w.num_ranks} ranks on {w.num_nodes} node(s); block {self.block} has ranks on "
                f"{len(self.sched.capacity)} node(s) ({nodes}), so it can never run here"
            )
            self.out.append({"task_id": w.task_id, "exception": _wrapped(err)})

    def _handle(self, msgs: list[dict[str, Any]]) -> None:
        for m in msgs:
            if "buffer" in m:
                ranks, nodes = m.get("ranks", 1), m.get("nodes", 1)
                if ranks > self.size:
                    too_big = ValueError(f"the MPI app asks for {ranks} ranks; this block has {self.size} slots")
                    self.out.append({"task_id": m["task_id"], "exception": _wrapped(too_big)})
                    continue
                self.sched.submit(m["task_id"], (m["task_id"], m["buffer"], ranks, nodes), ranks, nodes)
            elif "lost_rank" in m:
                rank = m["lost_rank"]
                task_id = self.sched.lost(rank)
                if task_id is not None:
                    host, pid = self.info.get(rank, (None, None))
                    err = WorkerLost(rank, host, pid, None, self.block)
                    self.out.append({"task_id": task_id, "exception": _wrapped(err)})
            elif m.get("stop"):
                self.stopping = True

    def _flush(self) -> None:
        window = 4 * self.sched.workers
        if window != self.window:
            self.window = window
            self.out.append({"window": window})
        if self.out:
            out, self.out = self.out, []
            self.conn.send(out)


def _wrapped(e: BaseException) -> bytes:
    from parsl.app.errors import RemoteExceptionWrapper

    return pickle.dumps(RemoteExceptionWrapper(type(e), e, None))


def worker_loop(comm: Any, conn: RankConnection, work_dir: str | None, node: str) -> bool:
    """A worker rank: say ready, then run each task rank 0 sends until STOP. ``True`` when
    every rank is alive to finalize MPI.

    A watcher thread reads the executor's connection: when it closes (shutdown, or the
    executor died) the rank ends at once, taking the commands of a running task with it."""
    import socket
    import threading

    from mpi4py import MPI

    from .tasks import kill_apps, run_buffer

    def watch() -> None:
        try:
            while conn.receive_available() is not None:
                pass
        except OSError:
            pass
        kill_apps()
        os._exit(0)

    threading.Thread(target=watch, name="parsl-turbine-watch", daemon=True).start()
    comm.send((socket.gethostname(), os.getpid(), node), dest=0, tag=TAG_READY)
    status = MPI.Status()
    wait = 0.0
    while True:
        msg = comm.improbe(source=0, tag=MPI.ANY_TAG, status=status)
        if msg is None:
            time.sleep(wait)
            wait = min(max(wait * 2, 5e-5), 0.005)
            continue
        wait = 0.0
        obj = msg.recv()
        if status.Get_tag() == TAG_STOP:
            return bool(obj)
        task_id, buffer, mpi = obj
        kind, data = run_buffer(buffer, mpi, work_dir)
        comm.send((task_id, kind, data), dest=0, tag=TAG_RESULT)
