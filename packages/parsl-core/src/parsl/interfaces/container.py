"""The container interface: how an executor runs its workers inside a container engine.

::

    executor ──WorkerLaunch(command, workdir, mounts, env, pass_env, labels)──▶ ContainerEngine.wrap
             ◀── one shell command line; the provider's block runs it instead of the bare command
    executor.start()     ──▶ engine.remove_orphans()       containers of drivers that are gone
    executor.scale_in()  ──▶ engine.remove({run, block})   after the provider cancelled the block
    executor.shutdown()  ──▶ engine.remove({run})          everything this run started

An executor builds its worker command as it would run on a bare node, says what the worker
needs from the host (a :class:`WorkerLaunch`), and runs what :meth:`ContainerEngine.wrap`
returns. It never knows an engine's command line. The ipp executor does this today; the
high-throughput executor does the same with its worker pool command (and sets the class
attribute ``supports_containers = True``; ``parsl_executors.worker_containers`` has the
helpers the ipp executor uses)::

    engine = container_from_spec(site.container, where=f"{site.path}.execution.container")
    launch = WorkerLaunch(
        command=worker_cmd,                   # e.g. "process_worker_pool.py --port=..."
        workdir=worker_dir,                   # the worker's cwd, mounted at the same path
        mounts=(Mount(run_dir),),             # plus whatever the worker reads or writes
        pass_env=("PARSL_BLOCK",),            # set by the block, copied into the container
        block_env="PARSL_BLOCK",              # ... and its value labels the container
        labels=run_labels(context.run_id, label),
        python_path=(code_dir(),),            # the script's directory, importable inside
    )
    cmd = engine.wrap(launch)                 # give cmd to provider.submit(...)

Engines label every container with :data:`RUN_LABEL`, :data:`DRIVER_LABEL` (which process on
which host started the run) and, from the variable named by ``block_env``, :data:`BLOCK_LABEL`; so
cleanup finds every container of a run, also after the driver was killed with SIGKILL.
Engines are plugins in the ``parsl.containers`` entry-point group (``parsl-containers``
provides ``docker``, ``podman``, ``singularity`` and ``apptainer``).
"""
from __future__ import annotations

import os
import socket
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

#: label keys on every container an engine starts
RUN_LABEL = "org.parsl.run"
DRIVER_LABEL = "org.parsl.driver"
EXECUTOR_LABEL = "org.parsl.executor"
BLOCK_LABEL = "org.parsl.block"


@dataclass(frozen=True)
class Mount:
    """A host directory visible inside the container (at the same path unless ``target``)."""

    source: str
    target: str | None = None
    read_only: bool = False

    @property
    def path_inside(self) -> str:
        return self.target or self.source


@dataclass(frozen=True)
class WorkerLaunch:
    """What a worker needs to run inside a container.

    Args:
        command: the worker's shell command, as it would run on a bare node (without ``cd``).
        workdir: host directory the worker runs in; mounted, and the worker's cwd.
        mounts: more host directories the worker reads or writes (the run directory, ...).
        env: variables set inside the container (not secrets: they may show on command lines).
        pass_env: names of variables copied from the block's environment when it starts the
            container (their values never appear on a command line): a key, the block id.
        labels: labels on the container, for cleanup (see :func:`run_labels`).
        python_path: host directories put on ``PYTHONPATH`` inside (mounted too), after the
            image's own working directory, which stays importable (the seeds' ``import app1``).
        block_env: the variable (exported by the block before the command runs) whose value
            becomes the container's :data:`BLOCK_LABEL`, so one block's containers can be
            removed when the block is released.
    """

    command: str
    workdir: str
    mounts: tuple[Mount, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    pass_env: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    python_path: tuple[str, ...] = ()
    block_env: str | None = None

    def all_mounts(self) -> tuple[Mount, ...]:
        """The work dir, the python path and the mounts, each host path once, in that order."""
        seen: dict[str, Mount] = {}
        for m in (Mount(self.workdir), *(Mount(p, read_only=True) for p in self.python_path), *self.mounts):
            src = os.path.abspath(m.source)
            if src in seen:
                # one bind per host path; a writable request wins over a read-only one
                if not m.read_only and seen[src].read_only:
                    seen[src] = Mount(src, seen[src].target, False)
                continue
            seen[src] = Mount(src, m.target, m.read_only)
        return tuple(seen.values())


class ContainerEngine(ABC):
    """A container engine that runs workers from one ``image``.

    Subclasses implement :meth:`wrap`; engines with a daemon (docker, podman) also implement
    :meth:`remove` and :meth:`remove_orphans`, which are best effort, bounded by ``timeout``
    seconds, and never raise (they log what they could not do).
    """

    #: the ``container.type`` name this engine is registered under
    name: ClassVar[str] = "container"

    def __init__(self, image: str, **options: Any) -> None:
        if not isinstance(image, str) or not image.strip():
            from ..errors import ConfigurationError

            raise ConfigurationError(f"must name a container image, got {image!r}", "container.image")
        self.image = image

    @abstractmethod
    def wrap(self, launch: WorkerLaunch) -> str:
        """The shell command that runs ``launch`` in a new container from :attr:`image`."""

    def remove(self, labels: Mapping[str, str], timeout: float = 30.0) -> list[str]:
        """Remove every container carrying all of ``labels``; return their ids."""
        return []

    def remove_orphans(self, timeout: float = 30.0) -> list[str]:
        """Remove containers started on this host by a driver process that is gone."""
        return []

    def __repr__(self) -> str:
        return f"{type(self).__name__}(image={self.image!r})"


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot ('' where /proc is missing), so a
    reused pid is not taken for the driver that started a container."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def driver_token(pid: int | None = None) -> str:
    """``host:pid:start`` of the driver process (this one by default)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def driver_gone(token: str) -> bool:
    """Whether the driver named by ``token`` is known to be gone: it ran on this host and its
    process no longer exists (or the pid now belongs to a later process). Drivers on other
    hosts are never judged gone."""
    host, _, rest = token.partition(":")
    pid_text, _, start = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass
    return bool(start) and _start_time(pid) not in ("", start)


def run_labels(run_id: str, executor: str) -> dict[str, str]:
    """The labels of every container an executor starts in run ``run_id``."""
    return {RUN_LABEL: run_id, EXECUTOR_LABEL: executor, DRIVER_LABEL: driver_token()}


def code_dir() -> str | None:
    """The directory of the script being run (``__main__``), or ``None`` (interactive)."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    return os.path.dirname(os.path.abspath(path)) if path else None


def container_from_spec(spec: Mapping[str, Any] | ContainerEngine | None, where: str = "container") -> ContainerEngine | None:
    """The engine for a 0.5.0 ``execution.container`` dict (``{"type": "docker", "image":
    ...}``, more keys go to the engine's constructor) or an engine object; errors name ``where``."""
    if spec is None or isinstance(spec, ContainerEngine):
        return spec
    from .. import plugins
    from ..errors import ConfigurationError, PluginError

    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"expected a dict such as {{'type': 'docker', 'image': 'app1_v0.1'}} or a ContainerEngine, got {type(spec).__name__}", where)
    options = dict(spec)
    kind = options.pop("type", None)
    if not isinstance(kind, str):
        raise ConfigurationError(f"missing or not a name: {kind!r}; one of {', '.join(plugins.names('container')) or 'none installed'}", f"{where}.type")
    try:
        cls = plugins.get("container", kind)
    except PluginError as e:
        raise ConfigurationError(str(e), f"{where}.type") from e
    if not (isinstance(cls, type) and issubclass(cls, ContainerEngine)):
        raise ConfigurationError(f"the {kind!r} container plugin is not a ContainerEngine", f"{where}.type")
    import inspect

    from .site import reject_unknown_keys

    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        reject_unknown_keys(options, ["type", *(n for n in params if n != "self")], where, owner=f"the {kind!r} container engine")
    if "image" not in options:
        raise ConfigurationError("must name a container image (the site's workers run in it)", f"{where}.image")
    try:
        engine: ContainerEngine = cls(**options)
    except TypeError as e:
        raise ConfigurationError(f"the {kind!r} container engine does not accept these keys: {e}", where) from e
    except ConfigurationError as e:
        # the engine names its own key (container.image): put it under the site's path
        key = (e.path or "").removeprefix("container.").removeprefix("container")
        raise ConfigurationError(e.message, f"{where}.{key}" if key else where) from e
    return engine
