"""Docker and Podman: engines with a daemon (or daemon-like storage) whose containers carry labels.

::

    wrap(launch) ──▶ "<cli> run --rm --pull never --network host --entrypoint /bin/sh
                       --label org.parsl.run=... --label org.parsl.block="$BLOCK"
                       -v dir:dir ... -e NAME=value -e PASSED ... <extra> image -c '<inner script>'"
    remove(labels) ─▶ <cli> ps -aq --filter label=k=v ... ─▶ <cli> rm -f <ids>
    remove_orphans() ─▶ <cli> ps -aq --filter label=org.parsl.driver ─▶ <cli> inspect (driver token)
                      ─▶ drivers gone from this host ─▶ <cli> rm -f <ids>

``--pull never``: a missing image fails the block at once with the engine's "No such image"
message instead of contacting a registry. Cleanup commands are bounded by ``timeout`` and
never raise; what they could not do is logged at WARNING.
"""
from __future__ import annotations

import logging
import re
import shlex
import shutil
import subprocess
import time
from typing import ClassVar, Mapping, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import ContainerEngine, WorkerLaunch
from parsl.interfaces.container import BLOCK_LABEL, DRIVER_LABEL, driver_gone

from .inner import inner_script

logger = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PULL = ("never", "missing", "always")


class DaemonEngine(ContainerEngine):
    """What Docker and Podman share: the ``run`` line and label-based cleanup.

    Args:
        image: the image every worker container is started from.
        executable: the engine's command (default: the engine's name, found on ``PATH``).
        network: ``--network`` (default ``host``: workers reach a controller on 127.0.0.1).
        pull: ``never`` (default: no registry is contacted), ``missing`` or ``always``.
        init: run a tiny init as PID 1 (``--init``), so signals reach the worker.
        run_args: more ``run`` arguments, as a list (``["--gpus", "all"]``).
    """

    executable_name: ClassVar[str] = "docker"
    #: how to remove containers at once, running or not (the ids are appended)
    remove_args: ClassVar[tuple[str, ...]] = ("rm", "-f")

    def __init__(
        self,
        image: str,
        executable: str | None = None,
        network: str = "host",
        pull: str = "never",
        init: bool = False,
        run_args: Sequence[str] = (),
    ) -> None:
        super().__init__(image)
        if pull not in _PULL:
            raise ConfigurationError(f"must be one of {', '.join(_PULL)}, got {pull!r}", "container.pull")
        if isinstance(run_args, str) or not all(isinstance(a, str) for a in run_args):
            raise ConfigurationError(f"must be a list of strings, got {run_args!r}", "container.run_args")
        self.executable = executable or self.executable_name
        self.network = network
        self.pull = pull
        self.init = init
        self.run_args = tuple(run_args)

    # -- the run line ----------------------------------------------------------------------

    def wrap(self, launch: WorkerLaunch) -> str:
        q = shlex.quote
        words = [q(self.executable), "run", "--rm", "--pull", self.pull, "--network", q(self.network), "--entrypoint", "/bin/sh"]
        if self.init:
            words.append("--init")
        for key, value in sorted(launch.labels.items()):
            words += ["--label", q(f"{key}={value}")]
        if launch.block_env:
            _check_env_name(launch.block_env, "WorkerLaunch.block_env")
            words += ["--label", f'"{BLOCK_LABEL}=${{{launch.block_env}:-}}"']
        for m in launch.all_mounts():
            words += ["-v", q(f"{m.source}:{m.path_inside}" + (":ro" if m.read_only else ""))]
        for key, value in launch.env.items():
            _check_env_name(key, "WorkerLaunch.env")
            words += ["-e", q(f"{key}={value}")]
        for key in launch.pass_env:
            words += ["-e", _check_env_name(key, "WorkerLaunch.pass_env")]
        words += [q(a) for a in self.run_args]
        words += [q(self.image), "-c", q(inner_script(launch))]
        return " ".join(words)

    # -- cleanup ---------------------------------------------------------------------------

    def _cli(self, args: list[str], timeout: float) -> str | None:
        """Run the engine's CLI; its stdout, or ``None`` (logged) when it failed."""
        exe = shutil.which(self.executable)
        if exe is None:
            logger.warning("%s: %r is not on PATH; cannot clean up containers", self.name, self.executable)
            return None
        try:
            done = subprocess.run([exe, *args], capture_output=True, text=True, timeout=max(timeout, 0.1))
        except subprocess.TimeoutExpired:
            logger.warning("%s: '%s' did not finish within %.0f s", self.name, " ".join([self.executable, *args[:2]]), timeout)
            return None
        if done.returncode != 0:
            logger.warning("%s: '%s' failed (exit %d): %s", self.name, " ".join([self.executable, *args[:2]]), done.returncode, done.stderr.strip()[-500:])
            return None
        return done.stdout

    def _remove_ids(self, ids: list[str], deadline: float) -> list[str]:
        if not ids:
            return []
        out = self._cli([*self.remove_args, *ids], deadline - time.monotonic())
        return ids if out is not None else []

    def remove(self, labels: Mapping[str, str], timeout: float = 30.0) -> list[str]:
        if not labels:
            raise ValueError("refusing to remove containers without a label filter")
        deadline = time.monotonic() + timeout
        filters: list[str] = []
        for key, value in labels.items():
            filters += ["--filter", f"label={key}={value}"]
        out = self._cli(["ps", "-aq", "--no-trunc", *filters], timeout)
        ids = sorted(set((out or "").split()))
        removed = self._remove_ids(ids, deadline)
        if removed:
            logger.info("%s: removed %d containers labelled %s", self.name, len(removed), dict(labels))
        return removed

    def remove_orphans(self, timeout: float = 30.0) -> list[str]:
        deadline = time.monotonic() + timeout
        out = self._cli(["ps", "-aq", "--no-trunc", "--filter", f"label={DRIVER_LABEL}"], timeout)
        ids = sorted(set((out or "").split()))
        if not ids:
            return []
        fmt = "{{.Id}} {{index .Config.Labels " + f'"{DRIVER_LABEL}"' + "}}"
        listing = self._cli(["inspect", "--format", fmt, *ids], deadline - time.monotonic()) or ""
        orphans = [cid for cid, _, token in (line.partition(" ") for line in listing.splitlines()) if token and driver_gone(token.strip())]
        removed = self._remove_ids(orphans, deadline)
        if removed:
            logger.warning("%s: removed %d containers left by parsl runs whose driver is gone", self.name, len(removed))
        return removed


def _check_env_name(name: str, where: str) -> str:
    if not isinstance(name, str) or not _ENV_NAME.match(name):
        raise ConfigurationError(f"{name!r} is not an environment variable name", where)
    return name


class Docker(DaemonEngine):
    """Workers in Docker containers (``container: {"type": "docker", "image": ...}``).

    The block's environment decides which daemon is used (``DOCKER_HOST``)."""

    name: ClassVar[str] = "docker"
    executable_name: ClassVar[str] = "docker"


class Podman(DaemonEngine):
    """Workers in Podman containers: the Docker command line, daemonless, rootless-friendly
    (a rootless podman maps the container's root to the user, so files the worker writes in
    mounted directories belong to the user). ``CONTAINERS_CONF`` and friends come from the
    block's environment."""

    name: ClassVar[str] = "podman"
    executable_name: ClassVar[str] = "podman"
    # podman's rm -f first sends SIGTERM and waits 10 s (a worker as PID 1 ignores it)
    remove_args: ClassVar[tuple[str, ...]] = ("rm", "-f", "-t", "0")
