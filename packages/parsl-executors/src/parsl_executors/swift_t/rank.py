"""The program every rank of a Turbine block runs (``python -m parsl_executors.swift_t.rank``).

::

    mpiexec/srun ─▶ rank 0 ─ connects to the executor (hello: block, size) ─▶ Dispatcher
                 ─▶ rank k ─ connects to the executor (hello: block, rank) ─▶ worker loop
                            (the connection is rank k's heartbeat: when it drops, the
                             executor knows rank k died and tells rank 0)

Arguments: ``--address``, ``--port``, ``--block``, ``--key-file`` (the key may come from
``$PARSL_TURBINE_KEY`` instead), ``--work-dir``, ``--mpi-launcher`` (``auto``, ``mpiexec``,
``srun``: how MPI apps are launched), ``--mpi-options`` (added to every MPI app's prefix).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys

from .wire import RankConnection, read_key

logger = logging.getLogger("parsl_executors.swift_t.rank")


def _args(argv: list[str]) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m parsl_executors.swift_t.rank")
    ap.add_argument("--address", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--block", required=True)
    ap.add_argument("--key-file")
    ap.add_argument("--work-dir")
    ap.add_argument("--mpi-launcher", default="auto", choices=("auto", "mpiexec", "srun"))
    ap.add_argument("--mpi-options", default="")
    return ap.parse_args(argv)


def _hello(kind: str, block: str, rank: int, size: int) -> dict[str, object]:
    return {"kind": kind, "block": block, "rank": rank, "size": size, "host": socket.gethostname(), "pid": os.getpid()}


def _misstarted(size: int) -> str | None:
    """srun started the ranks without an MPI plugin: each one is a world of its own."""
    tasks = os.environ.get("SLURM_STEP_NUM_TASKS") or os.environ.get("SLURM_NTASKS")
    if size == 1 and tasks and tasks.isdigit() and int(tasks) > 1:
        return (
            f"srun started {tasks} tasks, but MPI sees a world of 1: srun has no MPI plugin for them; "
            "set SLURM_MPI_TYPE=pmix (or srun --mpi=pmix) in the block's environment"
        )
    return None


def _terminated(signum: int, frame: object) -> None:
    """The block is being cancelled: take the commands of running tasks down too (they run in
    sessions of their own, out of reach of the block's process group)."""
    from .tasks import kill_apps

    kill_apps()
    os._exit(128 + signum)


def main(argv: list[str]) -> int:
    logging.basicConfig(level=os.environ.get("PARSL_TURBINE_LOG", "WARNING"), format="%(asctime)s rank %(process)d %(levelname)s %(message)s")
    args = _args(argv)
    key = read_key(args.key_file)
    from mpi4py import MPI

    from .dispatcher import Dispatcher, worker_loop
    from .mpi_apps import detect_launcher, without_runtime

    comm = MPI.COMM_WORLD
    comm.Set_errhandler(MPI.ERRORS_RETURN)
    rank, size = comm.Get_rank(), comm.Get_size()
    launcher = detect_launcher() if args.mpi_launcher == "auto" else args.mpi_launcher
    node = (os.environ.get("SLURMD_NODENAME") if launcher == "srun" else None) or socket.gethostname()
    problem = _misstarted(size)
    if problem is not None:
        if os.environ.get("SLURM_PROCID", "0") == "0":
            conn = RankConnection(args.address, args.port, key, {**_hello("rank0", args.block, 0, size), "fatal": problem})
            conn.close()
        print(problem, file=sys.stderr)
        return 3
    if rank == 0:
        conn = RankConnection(args.address, args.port, key, _hello("rank0", args.block, 0, size))
        clean = Dispatcher(comm, conn, args.block, node, launcher, args.mpi_options).run()
    else:
        conn = RankConnection(args.address, args.port, key, _hello("worker", args.block, rank, size))
        # tasks' own processes must not take themselves for ranks of this block's job
        clean_env = without_runtime(os.environ)
        os.environ.clear()
        os.environ.update(clean_env)
        signal.signal(signal.SIGTERM, _terminated)
        clean = worker_loop(comm, conn, args.work_dir, node)
    conn.close()
    sys.stdout.flush()
    if not clean:
        # a lost rank would keep MPI_Finalize waiting forever
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
