"""MPI apps: the per-task resource specification, and the launch prefix and environment an
MPI app gets inside a block (pure functions, golden-tested).

A bash or python app asks for MPI ranks with the ``parsl_resource_specification`` keyword
(the app's function declares it, as in upstream Parsl)::

    @bash_app
    def hello(parsl_resource_specification={"num_ranks": 4}):
        return "$PARSL_MPI_PREFIX ./hello_mpi"

Keys: ``num_ranks``, ``num_nodes`` (default 1), ``ranks_per_node`` (default
``num_ranks / num_nodes``). A bash app's command sees ``$PARSL_MPI_PREFIX`` (for example
``mpiexec -n 4 --host node1:4``), ``$PARSL_NUM_RANKS``, ``$PARSL_NUM_NODES``,
``$PARSL_RANKS_PER_NODE`` and ``$PARSL_MPI_NODELIST``; a python app runs on every rank of
its own MPI job under mpi4py and returns the list of every rank's result.
"""
from __future__ import annotations

import functools
import inspect
import os
import shlex
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from parsl.errors import ConfigurationError
from parsl.interfaces import reject_unknown_keys

SPEC_KEYWORD = "parsl_resource_specification"
SPEC_KEYS = frozenset({"num_ranks", "num_nodes", "ranks_per_node"})
LAUNCHERS = ("mpiexec", "srun")

# what an MPI runtime (Open MPI, PMIx, Hydra, Slurm steps) sets for its own ranks: a nested
# launch must not see it, or it takes itself for a rank of the block's job
_RUNTIME_PREFIXES = (
    "OMPI_COMM_WORLD_", "OMPI_MCA_orte_", "OMPI_MCA_ess", "OMPI_MCA_pmix", "OMPI_APP_CTX_", "PMIX_", "PMI_",
    "HYDI_", "HYDRA_", "MPI_LOCAL", "SLURM_STEP_", "SLURM_PROCID", "SLURM_LOCALID", "SLURM_TASK_PID",
)
_RUNTIME_NAMES = frozenset({
    "OMPI_FIRST_RANKS", "OMPI_NUM_APP_CTX", "OMPI_UNIVERSE_SIZE", "OMPI_FILE_LOCATION", "OMPI_ARGV", "OMPI_COMMAND",
    "OMPI_MCA_initial_wdir", "OMPI_MCA_shmem_RUNTIME_QUERY_hint", "OMPI_MCA_mpi_oversubscribe",
    "SLURM_NTASKS", "SLURM_NPROCS", "SLURM_NODEID", "SLURM_GTIDS", "SLURM_CPU_BIND", "SLURM_CPU_BIND_LIST",
    "SLURM_CPU_BIND_TYPE", "SLURM_CPU_BIND_VERBOSE", "SLURM_DISTRIBUTION", "SLURM_LAUNCH_NODE_IPADDR", "SLURM_SRUN_COMM_HOST",
    "SLURM_SRUN_COMM_PORT", "SLURM_LABELIO", "SLURM_UMASK", "SLURM_PRIO_PROCESS", "SLURM_TASKS_PER_NODE", "SLURM_MPI_TYPE_USED",
})


@dataclass(frozen=True)
class MpiSpec:
    """How many ranks (on how many nodes) one MPI app asks for."""

    num_ranks: int
    num_nodes: int = 1

    @property
    def ranks_per_node(self) -> int:
        return self.num_ranks // self.num_nodes


def _positive(spec: Mapping[str, Any], key: str) -> int | None:
    v = spec.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ConfigurationError(f"must be a positive integer, got {v!r}", f"{SPEC_KEYWORD}.{key}")
    return v


def spec_from_kwargs(kwargs: Mapping[str, Any]) -> MpiSpec | None:
    """The MPI request of one call (``None`` for an ordinary task)."""
    raw = kwargs.get(SPEC_KEYWORD)
    if not raw:
        return None
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"must be a dict such as {{'num_ranks': 4}}, got {type(raw).__name__}", SPEC_KEYWORD)
    # upstream's executors accept other keys (cores, memory, priority...); they mean nothing here
    reject_unknown_keys(raw, SPEC_KEYS, SPEC_KEYWORD, owner="the Turbine executor")
    ranks, nodes, per_node = _positive(raw, "num_ranks"), _positive(raw, "num_nodes"), _positive(raw, "ranks_per_node")
    nodes = nodes or 1
    if ranks is None:
        if per_node is None:
            raise ConfigurationError("give num_ranks (or ranks_per_node)", SPEC_KEYWORD)
        ranks = per_node * nodes
    if per_node is not None and per_node * nodes != ranks:
        raise ConfigurationError(f"num_ranks ({ranks}) is not num_nodes ({nodes}) x ranks_per_node ({per_node})", SPEC_KEYWORD)
    if ranks % nodes:
        raise ConfigurationError(f"num_ranks ({ranks}) does not divide evenly over num_nodes ({nodes})", SPEC_KEYWORD)
    return MpiSpec(ranks, nodes)


def requested_spec(func: Callable[..., Any], kwargs: Mapping[str, Any]) -> MpiSpec | None:
    """The MPI request of a call: its ``parsl_resource_specification`` keyword, else the
    default the app's function declares for it."""
    if SPEC_KEYWORD in kwargs:
        return spec_from_kwargs(kwargs)
    default = _declared_default(func)
    return spec_from_kwargs({SPEC_KEYWORD: default}) if default else None


def _declared_default(func: Callable[..., Any]) -> Any:
    from parsl.app.bash import BashCall
    from parsl.app.walltime import TimedCall

    if isinstance(func, BashCall):
        return func.defaults.get(SPEC_KEYWORD)
    inner = func.func if isinstance(func, TimedCall) else func
    try:
        return _signature_default(inner)
    except TypeError:  # unhashable callables
        return None


@functools.lru_cache(maxsize=1024)
def _signature_default(func: Callable[..., Any]) -> Any:
    try:
        p = inspect.signature(func).parameters.get(SPEC_KEYWORD)
    except (TypeError, ValueError):
        return None
    return None if p is None or p.default is inspect.Parameter.empty else p.default


def without_runtime(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` without the variables an MPI runtime sets for its own ranks."""
    return {k: v for k, v in env.items() if not (k.startswith(_RUNTIME_PREFIXES) or k in _RUNTIME_NAMES)}


def compose_prefix(launcher: str, spec: MpiSpec, nodes: list[str], options: str = "") -> str:
    """The command prefix that starts ``spec.num_ranks`` ranks on ``nodes`` (one entry per
    node, ``spec.ranks_per_node`` ranks each)."""
    per = spec.ranks_per_node
    extra = f" {options.strip()}" if options.strip() else ""
    if launcher == "mpiexec":
        hosts = ",".join(f"{h}:{per}" for h in nodes)
        return f"mpiexec -n {spec.num_ranks} --host {hosts}{extra}"
    if launcher == "srun":
        return (
            f"srun --overlap --nodes={spec.num_nodes} --ntasks={spec.num_ranks} --ntasks-per-node={per} "
            f"--nodelist={','.join(nodes)}{extra}"
        )
    raise ConfigurationError(f"unknown MPI launcher {launcher!r}; use one of {', '.join(LAUNCHERS)}", "mpi_launcher")


def app_environment(base: Mapping[str, str], launcher: str, spec: MpiSpec, nodes: list[str], options: str = "") -> dict[str, str]:
    """The environment an MPI app runs in: ``base`` without the block's own MPI runtime
    variables, plus ``PARSL_MPI_PREFIX`` and friends."""
    env = without_runtime(base)
    env.update(
        PARSL_MPI_PREFIX=compose_prefix(launcher, spec, nodes, options),
        PARSL_NUM_RANKS=str(spec.num_ranks),
        PARSL_NUM_NODES=str(spec.num_nodes),
        PARSL_RANKS_PER_NODE=str(spec.ranks_per_node),
        PARSL_MPI_NODELIST=",".join(nodes),
    )
    return env


def python_command(prefix: str, python: str, infile: str, outfile: str) -> str:
    """The command that runs a python MPI app's function on every rank under mpi4py."""
    return f"{prefix} {shlex.quote(python)} -m parsl_executors.swift_t.mpi_call {shlex.quote(infile)} {shlex.quote(outfile)}"


def detect_launcher(env: Mapping[str, str] = os.environ) -> str:
    """``srun`` inside a Slurm job, else ``mpiexec``."""
    return "srun" if env.get("SLURM_JOB_ID") else "mpiexec"
