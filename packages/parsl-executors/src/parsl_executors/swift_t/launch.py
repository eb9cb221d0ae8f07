"""How the Turbine executor's blocks are launched: the environment set before the launcher
starts the ranks, wrapped around any libsubmit launcher (found through the plugin registry).

::

    mpi_launcher("mpiexec", oversubscribe=True)(cmd, taskBlocks, nodes)
        ─▶ "export OMPI_MCA_orte_enable_recovery=1 ...\\n" + mpiexec launcher's shell

* ``OMPI_MCA_orte_enable_recovery=1``: Open MPI keeps the job running when one rank dies, so
  a crashed worker costs one task (retried), not the block;
* ``OMPI_MCA_rmaps_base_oversubscribe=1`` (local blocks): more ranks than cores are allowed;
* ``OMPI_ALLOW_RUN_AS_ROOT[_CONFIRM]=1`` when the script runs as root (containers, CI);
* ``SLURM_MPI_TYPE=pmix`` for the srun launchers unless the job already sets one, so srun
  starts the ranks as one MPI job;
* ``HWLOC_COMPONENTS=-gl`` unless set: hwloc's GL plugin probes X displays, over TCP ports
  6000-6063 among others, and waits 30 s for an answer from whatever listens there (on hosts
  whose ephemeral ports start at 1024, any server can); MPI never needs GPU topology from X.
"""
from __future__ import annotations

import os
from typing import Callable

from parsl import plugins


def launch_environment(launcher: str, oversubscribe: bool = False) -> str:
    """The shell lines exported before the launcher runs (pure)."""
    lines = ["export OMPI_MCA_orte_enable_recovery=1"]
    if oversubscribe:
        lines.append("export OMPI_MCA_rmaps_base_oversubscribe=1")
    if os.geteuid() == 0:
        lines.append("export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1")
    if launcher.startswith("srun"):
        lines.append("export SLURM_MPI_TYPE=${SLURM_MPI_TYPE:-pmix}")
    lines.append("export HWLOC_COMPONENTS=${HWLOC_COMPONENTS:--gl}")
    return "\n".join(lines) + "\n"


def mpi_launcher(name: str = "mpiexec", *, oversubscribe: bool = False) -> Callable[[str, int | str, int], str]:
    """The libsubmit launcher ``name`` with the MPI environment above in front of it; give it to
    a provider (``Local(launcher=mpi_launcher("mpiexec", oversubscribe=True))``)."""
    base = plugins.get("launcher", name)
    prologue = launch_environment(name, oversubscribe)

    def launch(command: str, tasks_per_node: int | str, nodes_per_block: int = 1) -> str:
        return prologue + base(command, tasks_per_node, nodes_per_block=nodes_per_block)

    launch.__qualname__ = f"mpi_launcher({name!r})"
    return launch
