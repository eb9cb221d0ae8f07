"""Workers in containers, for any executor of this package (ipp today, htex the same way):
describe the worker's needs to the :class:`parsl.interfaces.ContainerEngine` and remove the
containers a run started.

::

    launch command ──container_launch()──▶ WorkerLaunch ──engine.wrap()──▶ provider.submit(...)
    start     ──▶ remove_orphans(engine)            containers of earlier drivers that are gone
    scale_in  ──▶ remove_containers(engine, ctx, label, block)
    shutdown  ──▶ remove_containers(engine, ctx, label)

Removal is best effort and bounded (``timeout`` seconds); a failure is logged, never raised,
so shutting down cannot hang on a stopped daemon.
"""
from __future__ import annotations

import logging
import os

from parsl.interfaces import ContainerEngine, ExecutorContext, Mount, WorkerLaunch, run_labels
from parsl.interfaces.container import BLOCK_LABEL, EXECUTOR_LABEL, RUN_LABEL, code_dir

logger = logging.getLogger(__name__)

#: seconds one removal may take (each is a couple of engine CLI calls)
REMOVE_TIMEOUT = 15.0


def container_launch(command: str, workdir: str, run_dir: str, run_id: str, label: str, block_env: str, pass_env: tuple[str, ...] = ()) -> WorkerLaunch:
    """The :class:`WorkerLaunch` of a worker that runs ``command`` in ``workdir`` and writes
    under ``run_dir``; the script's own directory is importable inside, and ``block_env``
    (set by the block) is passed in and labels the container, as are the ``pass_env``
    variables (a key, for instance: their values never appear on a command line)."""
    code = code_dir()
    return WorkerLaunch(
        command=command,
        workdir=os.path.abspath(workdir),
        mounts=(Mount(os.path.abspath(run_dir)),),
        pass_env=(block_env, *pass_env),
        labels=run_labels(run_id, label),
        python_path=(code,) if code else (),
        block_env=block_env,
    )


def remove_containers(engine: ContainerEngine | None, context: ExecutorContext | None, label: str, block: str | None = None) -> list[str]:
    """Remove the containers of executor ``label`` in this run (only those of ``block``, if given)."""
    if engine is None or context is None:
        return []
    labels = {RUN_LABEL: context.run_id, EXECUTOR_LABEL: label}
    if block is not None:
        labels[BLOCK_LABEL] = block
    try:
        return engine.remove(labels, timeout=REMOVE_TIMEOUT)
    except Exception:
        logger.exception("executor %s: removing its containers failed", label)
        return []


def remove_orphans(engine: ContainerEngine | None) -> list[str]:
    """Remove containers left on this host by drivers that were killed (best effort)."""
    if engine is None:
        return []
    try:
        return engine.remove_orphans(timeout=REMOVE_TIMEOUT)
    except Exception:
        logger.exception("removing containers of earlier runs failed")
        return []
