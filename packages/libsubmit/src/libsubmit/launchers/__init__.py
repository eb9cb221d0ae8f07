"""Launchers: pure functions from a worker command to the shell that starts several copies of
it inside one block (0.5.0 import path ``libsubmit.launchers.singleNodeLauncher`` ...).

Every launcher has 0.5.0's documented positional signature ``(cmd_string, taskBlocks,
walltime=None)`` (the walltime is accepted and not needed: the scheduler enforces it) plus
``nodes_per_block=1``, and returns a bash fragment, so it satisfies
:class:`parsl.interfaces.Launcher`. ``taskBlocks``
is the number of workers per node: an integer or a bash arithmetic expression evaluated on the
node, e.g. ``"$(($CORES / 2))"``; ``CORES`` is set to the node's processor count first. The
command is passed to ``bash -c`` shell-quoted, so it reaches each worker unchanged.

Each fragment exits with the first non-zero exit code of its workers (0 when all succeed).
Launchers that start workers through a tool (``srun``, ``aprun``, ``mpiexec``, ``mpirun``,
``jsrun``) take ``extra``: more arguments for that tool (upstream's ``overrides``).

Today's upstream spells launchers as classes (``SrunLauncher(overrides=...)``); those are in
:mod:`libsubmit.launchers.classes`, callable objects over these functions.
"""
from __future__ import annotations

import shlex

from parsl.errors import ConfigurationError

__all__ = [
    "aprunLauncher",
    "gnuParallelLauncher",
    "jsrunLauncher",
    "mpiexecLauncher",
    "mpirunLauncher",
    "simpleLauncher",
    "singleNodeLauncher",
    "srunLauncher",
    "srunMpiLauncher",
]

_PROLOGUE = "export CORES=$(getconf _NPROCESSORS_ONLN)\n"


def _tasks(task_blocks: int | str) -> str:
    if isinstance(task_blocks, bool):
        raise ConfigurationError(f"must be a number or a bash expression, got {task_blocks!r}", "taskBlocks")
    if isinstance(task_blocks, int):
        if task_blocks < 1:
            raise ConfigurationError(f"must be at least 1, got {task_blocks}", "taskBlocks")
        return str(task_blocks)
    if isinstance(task_blocks, str):
        text = task_blocks.strip()
        if not text or "\n" in text:
            raise ConfigurationError(f"must be a number or a one-line bash expression, got {task_blocks!r}", "taskBlocks")
        return text
    raise ConfigurationError(f"must be a number or a bash expression, got {type(task_blocks).__name__}", "taskBlocks")


def _nodes(nodes_per_block: int) -> int:
    if isinstance(nodes_per_block, bool) or not isinstance(nodes_per_block, int) or nodes_per_block < 1:
        raise ConfigurationError(f"must be a positive integer, got {nodes_per_block!r}", "nodes_per_block")
    return nodes_per_block


def _command(cmd_string: str) -> str:
    if not isinstance(cmd_string, str) or not cmd_string.strip():
        raise ConfigurationError("the worker command must be a non-empty string", "cmd_string")
    return shlex.quote(cmd_string)


def _extra(extra: str) -> str:
    if not isinstance(extra, str) or "\n" in extra:
        raise ConfigurationError(f"must be one line of extra arguments, got {extra!r}", "overrides")
    return f"{extra.strip()} " if extra.strip() else ""


def _header(tasks: str, total: str) -> str:
    return f"{_PROLOGUE}TASKS_PER_NODE=$(( {tasks} ))\nWORKERCOUNT=$(( {total} ))\n"


_WAIT_ALL = (
    'rc=0\n'
    'for pid in $PIDS; do wait "$pid" || { s=$?; [ "$rc" -eq 0 ] && rc=$s; }; done\n'
    'exit $rc\n'
)


def singleNodeLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1) -> str:
    """Start ``taskBlocks`` copies of the command in the background on the node the block
    script runs on, and wait for all of them. ``nodes_per_block`` and ``walltime`` are not used."""
    tasks = _tasks(taskBlocks)
    _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return (
        _header(tasks, "TASKS_PER_NODE")
        + "PIDS=\n"
        + "for COUNT in $(seq 1 $WORKERCOUNT); do\n"
        + f"  bash -c {cmd} &\n"
        + '  PIDS="$PIDS $!"\n'
        + "done\n"
        + _WAIT_ALL
    )


def srunLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Start ``nodes * taskBlocks`` copies of the command with one ``srun`` over the job's
    allocation (``taskBlocks`` per node)."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return (
        _header(tasks, f"{nodes} * TASKS_PER_NODE")
        + f"srun --ntasks=$WORKERCOUNT --ntasks-per-node=$TASKS_PER_NODE --nodes={nodes} -l {_extra(extra)}bash -c {cmd}\n"
    )


def srunMpiLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Split the allocation into ``taskBlocks`` parts of ``nodes / taskBlocks`` nodes each and
    start one copy of the command per part (the command then starts its own MPI ranks on its
    part with ``srun``). ``taskBlocks`` counts workers per block here, not per node."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return (
        _header(tasks, "TASKS_PER_NODE")
        + f"NODES_PER_WORKER=$(( {nodes} / WORKERCOUNT ))\n"
        + '[ "$NODES_PER_WORKER" -ge 1 ] || NODES_PER_WORKER=1\n'
        + "export NODES_PER_WORKER\n"
        + "PIDS=\n"
        + "for COUNT in $(seq 1 $WORKERCOUNT); do\n"
        + f"  srun --exclusive --nodes=$NODES_PER_WORKER --ntasks=1 {_extra(extra)}bash -c {cmd} &\n"
        + '  PIDS="$PIDS $!"\n'
        + "done\n"
        + _WAIT_ALL
    )


def aprunLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Start ``nodes * taskBlocks`` copies of the command with Cray's ``aprun``."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return _header(tasks, f"{nodes} * TASKS_PER_NODE") + f"aprun -n $WORKERCOUNT -N $TASKS_PER_NODE {_extra(extra)}bash -c {cmd}\n"


def mpiexecLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Start ``nodes * taskBlocks`` copies of the command with ``mpiexec -n`` (MPI's standard
    launcher; the hosts come from the MPI library's own detection of the allocation)."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return _header(tasks, f"{nodes} * TASKS_PER_NODE") + f"mpiexec -n $WORKERCOUNT {_extra(extra)}bash -c {cmd}\n"


def mpirunLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Start ``nodes * taskBlocks`` copies of the command with ``mpirun -np``."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return _header(tasks, f"{nodes} * TASKS_PER_NODE") + f"mpirun -np $WORKERCOUNT {_extra(extra)}bash -c {cmd}\n"


def jsrunLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1, *, extra: str = "") -> str:
    """Start ``nodes * taskBlocks`` copies with IBM's ``jsrun``: one resource set per worker,
    ``taskBlocks`` resource sets per host, one task each."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    return _header(tasks, f"{nodes} * TASKS_PER_NODE") + f"jsrun -n $WORKERCOUNT -r $TASKS_PER_NODE -a 1 {_extra(extra)}bash -c {cmd}\n"


def simpleLauncher(cmd_string: str, taskBlocks: int | str = 1, walltime: object = None, nodes_per_block: int = 1) -> str:
    """Run the command once, as it is (the block's command starts its own workers)."""
    _command(cmd_string)
    return cmd_string + "\n"


def gnuParallelLauncher(cmd_string: str, taskBlocks: int | str, walltime: object = None, nodes_per_block: int = 1) -> str:
    """Start ``nodes * taskBlocks`` copies with GNU parallel; on more than one node the hosts
    are read from ``$PBS_NODEFILE`` (or ``$PARSL_NODEFILE``) and reached over ssh."""
    tasks = _tasks(taskBlocks)
    nodes = _nodes(nodes_per_block)
    cmd = _command(cmd_string)
    hosts = ' --sshloginfile "${PARSL_NODEFILE:-$PBS_NODEFILE}"' if nodes > 1 else ""
    return (
        _header(tasks, f"{nodes} * TASKS_PER_NODE")
        + f"seq 1 $WORKERCOUNT | parallel --will-cite --halt now,fail=1 --jobs $TASKS_PER_NODE{hosts} -N0 bash -c {cmd}\n"
    )


#: launcher names (the ``parsl.launchers`` entry points) to functions
LAUNCHERS = {
    "single_node": singleNodeLauncher,
    "simple": simpleLauncher,
    "srun": srunLauncher,
    "srun_mpi": srunMpiLauncher,
    "aprun": aprunLauncher,
    "mpiexec": mpiexecLauncher,
    "mpirun": mpirunLauncher,
    "jsrun": jsrunLauncher,
    "gnu_parallel": gnuParallelLauncher,
}


def __getattr__(name: str) -> object:
    # the upstream-style classes (SrunLauncher, ...) live next door and import this module
    if not name.startswith("_") and name[:1].isupper():
        from . import classes

        if name in classes.__all__:
            return getattr(classes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
