"""Helpers for scripts: find the checkpoints earlier runs left under ``runinfo/``.

::

    runinfo/000/checkpoint/tasks.pkl
    runinfo/001/                       (no checkpoint: skipped)
    runinfo/1000/checkpoint/tasks.pkl  ◀─ get_last_checkpoint() (numeric order: 1000 > 999)

Pass the result straight to the kernel::

    dfk = DataFlowKernel(config=config, checkpointFiles=get_last_checkpoint())
"""
from __future__ import annotations

import os

from .dataflow.checkpoint_store import CHECKPOINT_DIR, tasks_files

__all__ = ["get_all_checkpoints", "get_last_checkpoint"]


def _run_dirs(rundir: str) -> list[str]:
    if not os.path.isdir(rundir):
        return []
    runs = [n for n in os.listdir(rundir) if n.isdigit() and os.path.isdir(os.path.join(rundir, n))]
    return [os.path.join(rundir, n) for n in sorted(runs, key=int)]


def _has_checkpoint(run: str) -> bool:
    d = os.path.join(run, CHECKPOINT_DIR)
    return os.path.isdir(d) and bool(tasks_files(d))


def get_all_checkpoints(rundir: str = "runinfo") -> list[str]:
    """The checkpoint directories of every run under ``rundir``, oldest run first (run
    numbers compared as numbers). Runs without a checkpoint are left out."""
    return [os.path.abspath(os.path.join(r, CHECKPOINT_DIR)) for r in _run_dirs(rundir) if _has_checkpoint(r)]


def get_last_checkpoint(rundir: str = "runinfo") -> list[str]:
    """A list holding the checkpoint directory of the newest run under ``rundir`` that has
    one, or an empty list when there is none."""
    for r in reversed(_run_dirs(rundir)):
        if _has_checkpoint(r):
            return [os.path.abspath(os.path.join(r, CHECKPOINT_DIR))]
    return []
