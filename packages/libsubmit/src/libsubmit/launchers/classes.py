"""Launchers as today's upstream spells them: configured objects, called like the functions.

::

    SrunLauncher(overrides="--cpu-bind=cores")(command, tasks_per_node, nodes_per_block)
        └─▶ srunLauncher(command, tasks_per_node, nodes_per_block=nodes_per_block, extra="--cpu-bind=cores")

Each class is a thin callable over a pure function of :mod:`libsubmit.launchers`, so it
satisfies :class:`parsl.interfaces.Launcher` and the providers accept either. ``debug`` is
accepted for upstream's sake; the fragments never trace themselves.
"""
from __future__ import annotations

import shlex
from typing import Any, Callable

from . import (
    aprunLauncher,
    gnuParallelLauncher,
    jsrunLauncher,
    mpiexecLauncher,
    mpirunLauncher,
    simpleLauncher,
    singleNodeLauncher,
    srunLauncher,
    srunMpiLauncher,
)

__all__ = [
    "AprunLauncher",
    "GnuParallelLauncher",
    "JsrunLauncher",
    "Launcher",
    "MpiExecLauncher",
    "MpiRunLauncher",
    "SimpleLauncher",
    "SingleNodeLauncher",
    "SrunLauncher",
    "SrunMPILauncher",
    "WrappedLauncher",
]


class Launcher:
    """Base of the launcher classes: ``launcher(command, tasks_per_node, nodes_per_block)``
    returns the shell fragment that starts the workers of one block."""

    _function: Callable[..., str] = staticmethod(singleNodeLauncher)

    def __init__(self, debug: bool = True, overrides: str = "") -> None:
        self.debug = debug
        self.overrides = overrides

    def _keywords(self) -> dict[str, Any]:
        return {"extra": self.overrides} if self.overrides else {}

    def __call__(self, command: str, tasks_per_node: int | str, nodes_per_block: int = 1, *, walltime: object = None) -> str:
        return self._function(command, tasks_per_node, nodes_per_block=nodes_per_block, **self._keywords())

    def __repr__(self) -> str:
        extra = f", overrides={self.overrides!r}" if self.overrides else ""
        return f"{type(self).__name__}(debug={self.debug!r}{extra})"


class SimpleLauncher(Launcher):
    """Runs the command once, unchanged."""

    _function = staticmethod(simpleLauncher)


class SingleNodeLauncher(Launcher):
    """``tasks_per_node`` copies of the command on the block's one node.

    ``fail_on_any``: accepted for upstream's sake; the fragment always exits with the first
    failing worker's code."""

    _function = staticmethod(singleNodeLauncher)

    def __init__(self, debug: bool = True, fail_on_any: bool = False) -> None:
        super().__init__(debug)
        self.fail_on_any = fail_on_any


class GnuParallelLauncher(Launcher):
    """Workers started by GNU parallel (over ssh to the hosts of ``$PBS_NODEFILE``)."""

    _function = staticmethod(gnuParallelLauncher)

    def __init__(self, debug: bool = True) -> None:
        super().__init__(debug)


class SrunLauncher(Launcher):
    """Workers started by one ``srun`` over the allocation; ``overrides`` are more srun
    arguments."""

    _function = staticmethod(srunLauncher)


class SrunMPILauncher(Launcher):
    """The allocation split between workers that start their own MPI ranks with srun."""

    _function = staticmethod(srunMpiLauncher)


class AprunLauncher(Launcher):
    """Workers started by Cray's ``aprun``; ``overrides`` are more aprun arguments."""

    _function = staticmethod(aprunLauncher)


class JsrunLauncher(Launcher):
    """Workers started by IBM's ``jsrun``; ``overrides`` are more jsrun arguments."""

    _function = staticmethod(jsrunLauncher)


class MpiExecLauncher(Launcher):
    """Workers started by ``mpiexec -n``; ``overrides`` are more mpiexec arguments
    (``bind_cmd`` is accepted for upstream's sake; put a binding into ``overrides``)."""

    _function = staticmethod(mpiexecLauncher)

    def __init__(self, debug: bool = True, bind_cmd: str = "--bind-to", overrides: str = "") -> None:
        super().__init__(debug, overrides)
        self.bind_cmd = bind_cmd


class MpiRunLauncher(Launcher):
    """Workers started by ``mpirun -np``; ``overrides`` are more mpirun arguments
    (``bash_location`` is accepted for upstream's sake; workers start under ``bash``)."""

    _function = staticmethod(mpirunLauncher)

    def __init__(self, debug: bool = True, bash_location: str = "/bin/bash", overrides: str = "") -> None:
        super().__init__(debug, overrides)
        self.bash_location = bash_location


class WrappedLauncher(Launcher):
    """Runs the command once, prefixed by ``prepend`` (``"time"``, a container runner...)."""

    def __init__(self, prepend: str, debug: bool = True) -> None:
        super().__init__(debug)
        if not isinstance(prepend, str):
            raise TypeError(f"prepend must be a string, got {type(prepend).__name__}")
        self.prepend = prepend

    def __call__(self, command: str, tasks_per_node: int | str, nodes_per_block: int = 1, *, walltime: object = None) -> str:
        body = simpleLauncher(command, tasks_per_node, nodes_per_block=nodes_per_block)
        return f"{self.prepend} {body}" if self.prepend.strip() else body

    def __repr__(self) -> str:
        return f"WrappedLauncher(prepend={shlex.quote(self.prepend)!r})"
