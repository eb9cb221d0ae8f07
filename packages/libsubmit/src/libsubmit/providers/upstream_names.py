"""Providers under today's upstream names and keywords, so an upstream cluster config runs
unchanged::

    SlurmProvider(partition="debug", nodes_per_block=2, init_blocks=1, max_blocks=4,
                  walltime="01:00:00", launcher=SrunLauncher(), worker_init="module load x")

Each class is the libsubmit provider of that scheduler with the keywords translated:

    worker_init          ─▶ shell lines run before the workers (after the directives)
    scheduler_options    ─▶ lines added to the submit script / description (``overrides``)
    qos, constraint, exclusive, cores_per_node, mem_per_node, clusters (Slurm)
                         ─▶ #SBATCH directives (each value checked to be one safe word)
    cores_per_slot, mem_per_slot, environment, transfer_input_files (HTCondor)
                         ─▶ submit-description lines
    channel, move_files, regex_job_id ─▶ accepted; a channel is used, the others ignored

Block bounds default as upstream's do (``init_blocks=1, min_blocks=0, max_blocks=1``).
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import Channel, Launcher

from .cluster import directive_value
from .cobalt.cobalt import Cobalt
from .condor.condor import Condor
from .gridengine.gridengine import GridEngine
from .local.local import Local
from .slurm.slurm import Slurm
from .torque.torque import Torque

__all__ = ["CobaltProvider", "CondorProvider", "GridEngineProvider", "LocalProvider", "SlurmProvider", "TorqueProvider"]

_IGNORED = ("move_files", "regex_job_id")


def _lines(*parts: str | None) -> str | None:
    text = "\n".join(p.rstrip("\n") for p in parts if p)
    return text or None


def _shape(
    nodes_per_block: int, init_blocks: int, min_blocks: int, max_blocks: int, parallelism: float, walltime: str
) -> dict[str, Any]:
    return {
        "nodes_per_block": nodes_per_block,
        "init_blocks": init_blocks,
        "min_blocks": min_blocks,
        "max_blocks": max_blocks,
        "parallelism": float(parallelism),
        "walltime": walltime,
    }


def _drop_ignored(kwargs: dict[str, Any]) -> None:
    for k in _IGNORED:
        kwargs.pop(k, None)


class LocalProvider(Local):
    """``Local`` with upstream's keywords: ``LocalProvider(nodes_per_block=1, launcher=,
    init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1, walltime="00:10:00",
    worker_init="", cmd_timeout=30)``."""

    def __init__(
        self,
        channel: Channel | None = None,
        nodes_per_block: int = 1,
        launcher: str | Launcher | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        worker_init: str = "",
        cmd_timeout: float = 30,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        **kwargs: Any,
    ) -> None:
        _drop_ignored(kwargs)
        self.worker_init = worker_init or ""
        self.cmd_timeout = float(cmd_timeout)
        super().__init__(
            channel=channel,
            launcher=launcher,
            **_shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            **kwargs,
        )

    def script_text(self, cmd_string: str, env: Mapping[str, str] | None = None) -> str:
        setup = self.worker_init.rstrip("\n") + "\n" if self.worker_init.strip() else ""
        return "#!/bin/bash\n" + setup + self.launch_command(cmd_string, env)


class _Upstream:
    """What the batch-scheduler adaptors share: building ``overrides`` from
    ``scheduler_options`` + scheduler directives + ``worker_init``, and handing everything to
    the libsubmit provider."""

    directive_prefix: ClassVar[str] = ""

    def _setup(self, shape: dict[str, Any], overrides: str | None, kwargs: dict[str, Any], **options: Any) -> None:
        super().__init__(overrides=overrides, **shape, **options, **kwargs)  # type: ignore[call-arg]

    @classmethod
    def _directives(cls, provider: str, pairs: Sequence[tuple[str, Any]]) -> str:
        out = []
        for flag, value in pairs:
            if value is None or value is False or value == "":
                continue
            if value is True:
                out.append(f"{cls.directive_prefix} --{flag}")
            else:
                out.append(f"{cls.directive_prefix} --{flag}={directive_value(str(value), f'{provider}.{flag}')}")
        return "\n".join(out)


class SlurmProvider(_Upstream, Slurm):
    """``Slurm`` with upstream's keywords: ``SlurmProvider(partition=None, account=None,
    qos=None, constraint=None, clusters=None, nodes_per_block=1, cores_per_node=None,
    mem_per_node=None (GB), init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1,
    walltime="00:10:00", scheduler_options="", worker_init="", cmd_timeout=10,
    exclusive=True, launcher=SingleNodeLauncher())``."""

    directive_prefix: ClassVar[str] = "#SBATCH"

    def __init__(
        self,
        partition: str | None = None,
        account: str | None = None,
        qos: str | None = None,
        constraint: str | None = None,
        clusters: str | None = None,
        nodes_per_block: int = 1,
        cores_per_node: int | None = None,
        mem_per_node: int | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        scheduler_options: str = "",
        worker_init: str = "",
        cmd_timeout: float = 10,
        exclusive: bool = True,
        launcher: str | Launcher | None = "single_node",
        channel: Channel | None = None,
        **kwargs: Any,
    ) -> None:
        _drop_ignored(kwargs)
        mem = f"{int(mem_per_node)}g" if mem_per_node is not None else None
        directives = self._directives(
            "SlurmProvider",
            [("qos", qos), ("constraint", constraint), ("clusters", clusters), ("exclusive", bool(exclusive)),
             ("cpus-per-task", cores_per_node), ("mem", mem)],
        )
        self._setup(
            _shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            _lines(directives, scheduler_options, worker_init),
            kwargs,
            channel=channel,
            launcher=launcher,
            cmd_timeout=cmd_timeout,
            partition=partition,
            account=account,
        )


class TorqueProvider(_Upstream, Torque):
    """``Torque`` with upstream's keywords: ``TorqueProvider(account=None, queue=None,
    scheduler_options="", worker_init="", nodes_per_block=1, init_blocks=1, min_blocks=0,
    max_blocks=1, parallelism=1, launcher=AprunLauncher(), walltime="00:20:00",
    cmd_timeout=120)``."""

    def __init__(
        self,
        channel: Channel | None = None,
        account: str | None = None,
        queue: str | None = None,
        scheduler_options: str = "",
        worker_init: str = "",
        nodes_per_block: int = 1,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        launcher: str | Launcher | None = "aprun",
        walltime: str = "00:20:00",
        cmd_timeout: float = 120,
        **kwargs: Any,
    ) -> None:
        self._setup(
            _shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            _lines(scheduler_options, worker_init),
            kwargs,
            channel=channel,
            launcher=launcher,
            cmd_timeout=cmd_timeout,
            account=account,
            queue=queue,
        )


class CobaltProvider(_Upstream, Cobalt):
    """``Cobalt`` with upstream's keywords: ``CobaltProvider(account=None, queue=None,
    scheduler_options="", worker_init="", nodes_per_block=1, init_blocks=0, min_blocks=0,
    max_blocks=1, parallelism=1, walltime="00:10:00", launcher=AprunLauncher(),
    cmd_timeout=10)``."""

    def __init__(
        self,
        channel: Channel | None = None,
        nodes_per_block: int = 1,
        init_blocks: int = 0,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        account: str | None = None,
        queue: str | None = None,
        scheduler_options: str = "",
        worker_init: str = "",
        launcher: str | Launcher | None = "aprun",
        cmd_timeout: float = 10,
        **kwargs: Any,
    ) -> None:
        self._setup(
            _shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            _lines(scheduler_options, worker_init),
            kwargs,
            channel=channel,
            launcher=launcher,
            cmd_timeout=cmd_timeout,
            account=account,
            queue=queue,
        )


class GridEngineProvider(_Upstream, GridEngine):
    """``GridEngine`` with upstream's keywords: ``GridEngineProvider(nodes_per_block=1,
    init_blocks=1, min_blocks=0, max_blocks=1, parallelism=1, walltime="00:10:00",
    scheduler_options="", worker_init="", launcher=SingleNodeLauncher(), cmd_timeout=120,
    queue=None)``."""

    def __init__(
        self,
        channel: Channel | None = None,
        nodes_per_block: int = 1,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        walltime: str = "00:10:00",
        scheduler_options: str = "",
        worker_init: str = "",
        launcher: str | Launcher | None = "single_node",
        cmd_timeout: float = 120,
        queue: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._setup(
            _shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            _lines(scheduler_options, worker_init),
            kwargs,
            channel=channel,
            launcher=launcher,
            cmd_timeout=cmd_timeout,
            queue=queue,
        )


class CondorProvider(_Upstream, Condor):
    """``Condor`` with upstream's keywords: ``CondorProvider(nodes_per_block=1,
    cores_per_slot=None, mem_per_slot=None (GB), init_blocks=1, min_blocks=0, max_blocks=1,
    parallelism=1, environment=None, project="", scheduler_options="",
    transfer_input_files=[], walltime="00:10:00", worker_init="",
    launcher=SingleNodeLauncher(), requirements="", cmd_timeout=60)``."""

    def __init__(
        self,
        channel: Channel | None = None,
        nodes_per_block: int = 1,
        cores_per_slot: int | None = None,
        mem_per_slot: float | None = None,
        init_blocks: int = 1,
        min_blocks: int = 0,
        max_blocks: int = 1,
        parallelism: float = 1,
        environment: Mapping[str, str] | None = None,
        project: str = "",
        scheduler_options: str = "",
        transfer_input_files: Sequence[str] = (),
        walltime: str = "00:10:00",
        worker_init: str = "",
        launcher: str | Launcher | None = "single_node",
        requirements: str = "",
        cmd_timeout: float = 60,
        **kwargs: Any,
    ) -> None:
        lines = []
        if cores_per_slot is not None:
            lines.append(f"request_cpus = {int(cores_per_slot)}")
        if mem_per_slot is not None:
            lines.append(f"request_memory = {int(float(mem_per_slot) * 1024)}")
        if environment:
            for k, v in environment.items():
                if not str(k).isidentifier() or any(c in str(v) for c in "\n\"'"):
                    raise ConfigurationError(
                        f"{k}={v!r} cannot go into an HTCondor environment: use identifier names and values without quotes or newlines",
                        "CondorProvider.environment",
                    )
            lines.append('environment = "' + " ".join(f"{k}='{v}'" for k, v in environment.items()) + '"')
        if transfer_input_files:
            files = [directive_value(str(f), "CondorProvider.transfer_input_files") for f in transfer_input_files]
            lines += ["should_transfer_files = YES", "transfer_input_files = " + ",".join(files)]
        self._setup(
            _shape(nodes_per_block, init_blocks, min_blocks, max_blocks, parallelism, walltime),
            _lines(*lines, scheduler_options),
            kwargs,
            channel=channel,
            launcher=launcher,
            cmd_timeout=cmd_timeout,
            project=project or None,
            requirements=requirements or None,
            workerSetup=worker_init or None,
        )
