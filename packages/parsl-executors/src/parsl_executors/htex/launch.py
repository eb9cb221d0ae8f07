"""How a worker pool is started on a block's node: the one place the command is built.

``pool_command(settings)`` returns the shell command the provider's launcher runs once per
node (wrap it here, e.g. in a container, and every block uses the wrapped form). A user's
``launch_cmd`` template may use the placeholders of :data:`PLACEHOLDERS`.
"""
from __future__ import annotations

import shlex
import string
from dataclasses import dataclass

from parsl.errors import ConfigurationError

DEFAULT_TEMPLATE = (
    "{python} -m parsl_executors.htex.pool --keyfile {keyfile} --address {address} --port {port} "
    "--workers {workers} --cores-per-worker {cores_per_worker} --mem-per-worker {mem_per_worker} --prefetch {prefetch} "
    "--heartbeat-period {heartbeat_period} --heartbeat-threshold {heartbeat_threshold} "
    "--block {block_id} --logdir {logdir}{debug}"
)

PLACEHOLDERS = frozenset({
    "python", "keyfile", "address", "port", "workers", "cores_per_worker", "mem_per_worker", "prefetch",
    "heartbeat_period", "heartbeat_threshold", "block_id", "logdir", "debug",
})


@dataclass(frozen=True)
class PoolSettings:
    """What every pool of one executor run is told (the key file's path, never a key)."""

    python: str
    keyfile: str
    address: str
    port: int
    workers: int
    cores_per_worker: float
    mem_per_worker: float
    prefetch: int
    heartbeat_period: float
    heartbeat_threshold: float
    logdir: str
    debug: bool


def check_template(template: str) -> None:
    """A clear error for a ``launch_cmd`` with a placeholder this executor does not fill."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as e:
        raise ConfigurationError(f"launch_cmd is not a valid format string: {e}", "launch_cmd") from e
    unknown = sorted(fields - PLACEHOLDERS)
    if unknown:
        raise ConfigurationError(f"unknown placeholder {{{unknown[0]}}}; known: {', '.join(sorted(PLACEHOLDERS))}", "launch_cmd")


def pool_command(settings: PoolSettings, block_id: str, template: str = DEFAULT_TEMPLATE) -> str:
    """The shell command that starts one worker pool of block ``block_id``."""
    q = shlex.quote
    return template.format(
        python=q(settings.python),
        keyfile=q(settings.keyfile),
        address=q(settings.address),
        port=settings.port,
        workers=settings.workers,
        cores_per_worker=f"{settings.cores_per_worker:g}",
        mem_per_worker=f"{settings.mem_per_worker:g}",
        prefetch=settings.prefetch,
        heartbeat_period=f"{settings.heartbeat_period:g}",
        heartbeat_threshold=f"{settings.heartbeat_threshold:g}",
        block_id=q(block_id),
        logdir=q(settings.logdir),
        debug=" --debug" if settings.debug else "",
    )
