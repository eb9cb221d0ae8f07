"""Singularity and Apptainer: HPC container runtimes without a daemon.

::

    wrap(launch) ──▶ "<cli> exec --bind dir:dir[:ro] ... --env NAME=value ... <extra> image
                        /bin/sh -c 'export PYTHONPATH=...; cd <workdir> || exit 125; <command>'"

The container is a process of the block: it ends with the block, so there is nothing to
remove afterwards (``remove`` and ``remove_orphans`` do nothing), and the block's environment
(``pass_env``) is inherited as it is. ``image`` is a SIF file or a URI the runtime understands.
"""
from __future__ import annotations

import shlex
from typing import ClassVar, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import ContainerEngine, WorkerLaunch

from .inner import inner_script


class Singularity(ContainerEngine):
    """Workers in Singularity containers (``container: {"type": "singularity", "image":
    "/path/app.sif"}``).

    Args:
        image: the SIF image (or another source the runtime accepts).
        executable: the runtime's command (default ``singularity``).
        exec_args: more ``exec`` arguments, as a list (``["--nv"]`` for GPUs).
    """

    name: ClassVar[str] = "singularity"
    executable_name: ClassVar[str] = "singularity"

    def __init__(self, image: str, executable: str | None = None, exec_args: Sequence[str] = ()) -> None:
        super().__init__(image)
        if isinstance(exec_args, str) or not all(isinstance(a, str) for a in exec_args):
            raise ConfigurationError(f"must be a list of strings, got {exec_args!r}", "container.exec_args")
        self.executable = executable or self.executable_name
        self.exec_args = tuple(exec_args)

    def wrap(self, launch: WorkerLaunch) -> str:
        q = shlex.quote
        words = [q(self.executable), "exec"]
        for m in launch.all_mounts():
            words += ["--bind", q(f"{m.source}:{m.path_inside}" + (":ro" if m.read_only else ""))]
        for key, value in launch.env.items():
            words += ["--env", q(f"{key}={value}")]
        words += [q(a) for a in self.exec_args]
        # the runtime starts in the host's cwd, not an image working directory
        words += [q(self.image), "/bin/sh", "-c", q(inner_script(launch, keep_image_workdir=False))]
        return " ".join(words)


class Apptainer(Singularity):
    """Workers in Apptainer containers (Singularity's successor; the same command line)."""

    name: ClassVar[str] = "apptainer"
    executable_name: ClassVar[str] = "apptainer"
