"""Runs a python MPI app: every rank of the app's own MPI job calls the function; rank 0
gathers ``(kind, value)`` from all ranks and writes the list to the output file.

    python -m parsl_executors.swift_t.mpi_call <task file> <output file>
"""
from __future__ import annotations

import os
import pickle
import sys


def main(argv: list[str]) -> int:
    infile, outfile = argv
    from mpi4py import MPI

    comm = MPI.COMM_WORLD
    with open(infile, "rb") as f:
        buffer = f.read()
    try:
        func, args, kwargs = pickle.loads(buffer)
        value: tuple[str, object] = ("result", func(*args, **kwargs))
    except BaseException as e:
        from parsl.app.errors import RemoteExceptionWrapper

        value = ("exception", RemoteExceptionWrapper(type(e), e, e.__traceback__))
    gathered = comm.gather(value, root=0)
    if comm.Get_rank() == 0:
        tmp = f"{outfile}.part"
        with open(tmp, "wb") as f:
            pickle.dump(gathered, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, outfile)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
