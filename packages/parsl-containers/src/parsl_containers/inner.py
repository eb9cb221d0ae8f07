"""The shell line that runs inside every container (pure; golden-tested).

::

    <engine> run ... image  /bin/sh -c  'export PYTHONPATH=<code dirs>:"$PWD"...; cd <workdir> || exit 125; <command>'
                                                                 ^ the image's working directory, so code
                                                                   baked into the image stays importable
"""
from __future__ import annotations

import shlex

from parsl.interfaces import WorkerLaunch

#: the exit code of a container whose work directory is missing (not mounted)
NO_WORKDIR = 125


def inner_script(launch: WorkerLaunch, keep_image_workdir: bool = True) -> str:
    """The script ``/bin/sh -c`` runs in the container: put the code directories (and the
    image's own working directory) on ``PYTHONPATH``, enter ``workdir``, run the command."""
    if not launch.command.strip():
        from parsl.errors import ConfigurationError

        raise ConfigurationError("the worker command is empty", "WorkerLaunch.command")
    path = [shlex.quote(p) for p in launch.python_path]
    if keep_image_workdir:
        path.append('"$PWD"')
    parts = []
    if path:
        parts.append(f'export PYTHONPATH={":".join(path)}${{PYTHONPATH:+:$PYTHONPATH}}')
    parts.append(f"cd {shlex.quote(launch.workdir)} || exit {NO_WORKDIR}")
    parts.append(launch.command)
    return "; ".join(parts)
