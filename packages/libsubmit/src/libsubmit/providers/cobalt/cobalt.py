"""Cobalt provider (ALCF): ``qsub --mode script`` to submit, ``qstat`` for status, ``qdel`` to
cancel."""
from __future__ import annotations

import re
import shlex
from string import Template
from typing import ClassVar, Mapping

from parsl.interfaces import JobState

from ...error import ExecutionProviderException
from ..cluster import ClusterProvider, directive_value

__all__ = ["Cobalt"]

TEMPLATE = Template("""#!/bin/bash
# Cobalt block ${jobname}: ${nodes} node(s), walltime ${walltime}
${overrides}
${command}""")

#: Cobalt's qstat state words
STATES: dict[str, JobState] = {
    "queued": JobState.PENDING,
    "starting": JobState.PENDING,
    "running": JobState.RUNNING,
    "exiting": JobState.RUNNING,
    "killing": JobState.RUNNING,
    "user_hold": JobState.HELD,
    "admin_hold": JobState.HELD,
    "dep_hold": JobState.HELD,
    "maxrun_hold": JobState.HELD,
    "dep_fail": JobState.FAILED,
}


class Cobalt(ClusterProvider):
    """Cobalt provider (0.5.0: ``Cobalt(config, channel=None)``).

    Options: ``account`` (``qsub -A``), ``queue`` (``qsub -q``), ``overrides`` (lines put at
    the top of the script). Cobalt forgets a job as soon as it ends, so a finished block is
    COMPLETED whatever its exit code (CANCELLED if it was cancelled).
    """

    name: ClassVar[str] = "cobalt"
    option_names: ClassVar[frozenset[str]] = frozenset({"account", "queue", "overrides"})
    status_listing: ClassVar[str] = "qstat"
    cancel_tool: ClassVar[str] = "qdel"
    script_extension: ClassVar[str] = "cobalt"

    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        return TEMPLATE.substitute(
            jobname=job_name,
            nodes=self.shape.nodes_per_block,
            walltime=self.shape.walltime,
            overrides=self.overrides(),
            command=self.launch_command(cmd_string, env),
        )

    def submit_command(self, script_path: str) -> str:
        minutes = max(1, -(-self.walltime_seconds() // 60))
        parts = ["qsub", "-n", str(self.shape.nodes_per_block), "-t", str(minutes)]
        for key, flag in (("account", "-A"), ("queue", "-q")):
            value = self.option(key)
            if value:
                parts += [flag, directive_value(value, self.option_path(key))]
        parts += ["-O", script_path.rsplit(".", 1)[0], "--mode", "script", script_path]
        return " ".join(shlex.quote(p) for p in parts)

    def parse_submit_output(self, stdout: str) -> str:
        words = stdout.split()
        if not words or not words[-1].isdigit():
            raise ExecutionProviderException(f"cobalt: could not find a job id in qsub's output {stdout!r}")
        return words[-1]

    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        seen: dict[str, JobState] = {}
        for line in stdout.splitlines():
            parts = line.split()
            if len(parts) >= 5 and re.match(r"^\d+$", parts[0]):
                seen[parts[0]] = STATES.get(parts[4].lower(), JobState.UNKNOWN)
        return seen

