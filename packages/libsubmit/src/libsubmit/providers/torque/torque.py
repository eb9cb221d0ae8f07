"""Torque/PBS provider: ``qsub`` to submit, ``qstat`` for status, ``qdel`` to cancel."""
from __future__ import annotations

import re
import shlex
from string import Template
from typing import ClassVar, Mapping

from parsl.interfaces import JobState

from ...error import ExecutionProviderException
from ..cluster import ClusterProvider, directive_value

__all__ = ["Torque"]

TEMPLATE = Template("""#!/bin/bash
#PBS -S /bin/bash
#PBS -N ${jobname}
#PBS -l nodes=${nodes}:ppn=${ppn}
#PBS -l walltime=${walltime}
#PBS -o ${stdout}
#PBS -e ${stderr}
${directives}${overrides}
${command}""")

#: qstat's one-letter states (Torque and PBS Pro)
STATES: dict[str, JobState] = {
    "Q": JobState.PENDING,
    "W": JobState.PENDING,
    "T": JobState.RUNNING,
    "R": JobState.RUNNING,
    "E": JobState.RUNNING,
    "B": JobState.RUNNING,
    "H": JobState.HELD,
    "S": JobState.HELD,
    "U": JobState.HELD,
    "C": JobState.COMPLETED,
    "F": JobState.COMPLETED,
    "X": JobState.COMPLETED,
}


class Torque(ClusterProvider):
    """Torque/PBS provider (0.5.0: ``Torque(config, channel=None)``).

    Options: ``account`` (``#PBS -A``), ``queue`` (``#PBS -q``), ``overrides`` (lines added
    after the ``#PBS`` directives). Torque reports finished jobs as ``C`` whatever their exit
    code, so a failed block shows as COMPLETED.
    """

    name: ClassVar[str] = "torque"
    option_names: ClassVar[frozenset[str]] = frozenset({"account", "queue", "overrides"})
    status_listing: ClassVar[str] = "qstat"
    cancel_tool: ClassVar[str] = "qdel"
    script_extension: ClassVar[str] = "pbs"

    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        directives = []
        for key, flag in (("account", "-A"), ("queue", "-q")):
            value = self.option(key)
            if value:
                directives.append(f"#PBS {flag} {directive_value(value, self.option_path(key))}\n")
        tasks = self.shape.tasks_per_node
        base = script_path.rsplit(".", 1)[0]
        return TEMPLATE.substitute(
            jobname=job_name[:15],  # Torque truncates names to 15 characters
            nodes=self.shape.nodes_per_block,
            ppn=tasks if isinstance(tasks, int) else 1,
            walltime=self.shape.walltime,
            stdout=f"{base}.out",
            stderr=f"{base}.err",
            directives="".join(directives),
            overrides=self.overrides(),
            command=self.launch_command(cmd_string, env),
        )

    def submit_command(self, script_path: str) -> str:
        return f"qsub {shlex.quote(script_path)}"

    def parse_submit_output(self, stdout: str) -> str:
        words = stdout.split()
        if not words or not re.match(r"^\d+(\.\S+)?$", words[-1]):
            raise ExecutionProviderException(f"torque: could not find a job id in qsub's output {stdout!r}")
        return words[-1]

    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        seen: dict[str, JobState] = {}
        for line in stdout.splitlines():
            parts = line.split()
            if len(parts) >= 6 and re.match(r"^\d", parts[0]) and len(parts[4]) == 1:
                state = STATES.get(parts[4], JobState.UNKNOWN)
                seen[parts[0]] = state
                # "123.server" may be listed as "123.serv" or "123"
                seen.setdefault(parts[0].split(".")[0], state)
        return seen

    def find_state(self, seen: Mapping[str, JobState], job_id: str) -> JobState | None:
        return seen.get(job_id) or seen.get(job_id.split(".")[0])

