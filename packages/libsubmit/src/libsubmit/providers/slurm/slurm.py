"""Slurm provider: ``sbatch`` to submit, ``squeue`` for status, ``scancel`` to cancel."""
from __future__ import annotations

import shlex
from string import Template
from typing import ClassVar, Mapping

from parsl.interfaces import JobState

from ...error import ExecutionProviderException
from ..cluster import ClusterProvider, directive_value

__all__ = ["Slurm"]

TEMPLATE = Template("""#!/bin/bash
#SBATCH --job-name=${jobname}
#SBATCH --output=${stdout}
#SBATCH --error=${stderr}
#SBATCH --nodes=${nodes}
#SBATCH --time=${walltime}
${directives}${overrides}
${command}""")

#: squeue's compact state codes
STATES: dict[str, JobState] = {
    "PD": JobState.PENDING,
    "CF": JobState.PENDING,
    "RQ": JobState.PENDING,
    "RF": JobState.PENDING,
    "RS": JobState.PENDING,
    "R": JobState.RUNNING,
    "CG": JobState.RUNNING,
    "SI": JobState.RUNNING,
    "SO": JobState.RUNNING,
    "ST": JobState.RUNNING,
    "S": JobState.HELD,
    "RH": JobState.HELD,
    "RD": JobState.HELD,
    "CD": JobState.COMPLETED,
    "CA": JobState.CANCELLED,
    "F": JobState.FAILED,
    "NF": JobState.FAILED,
    "BF": JobState.FAILED,
    "OOM": JobState.FAILED,
    "PR": JobState.FAILED,
    "RV": JobState.FAILED,
    "SE": JobState.FAILED,
    "TO": JobState.TIMEOUT,
    "DL": JobState.TIMEOUT,
}


class Slurm(ClusterProvider):
    """Slurm provider (0.5.0: ``Slurm(config, channel=None)``).

    Options (``execution.block.options`` or keywords): ``partition`` (default: the cluster's
    default partition), ``account``, ``overrides`` (lines added after the ``#SBATCH``
    directives, e.g. ``#SBATCH --constraint=haswell`` and environment set-up). The default
    launcher is ``srun``. With an integer ``taskBlocks`` the job asks for that many tasks per
    node.
    """

    name: ClassVar[str] = "slurm"
    option_names: ClassVar[frozenset[str]] = frozenset({"partition", "account", "overrides"})
    # --states=all keeps finished jobs listed (for MinJobAge); --me avoids failing on ids
    # that Slurm has already forgotten
    status_listing: ClassVar[str] = "squeue --noheader --me --states=all --format='%i %t'"
    cancel_tool: ClassVar[str] = "scancel"
    directive_options: ClassVar[frozenset[str]] = frozenset({"partition", "account"})
    default_launcher: ClassVar[str] = "srun"
    script_extension: ClassVar[str] = "submit"

    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        directives = []
        for key in ("partition", "account"):
            value = self.option(key)
            if value:
                directives.append(f"#SBATCH --{key}={directive_value(value, self.option_path(key))}\n")
        if isinstance(self.shape.tasks_per_node, int):
            directives.append(f"#SBATCH --ntasks-per-node={self.shape.tasks_per_node}\n")
        base = script_path.rsplit(".", 1)[0]
        return TEMPLATE.substitute(
            jobname=job_name,
            stdout=f"{base}.out",
            stderr=f"{base}.err",
            nodes=self.shape.nodes_per_block,
            walltime=self.shape.walltime,
            directives="".join(directives),
            overrides=self.overrides(),
            command=self.launch_command(cmd_string, env),
        )

    def submit_command(self, script_path: str) -> str:
        return f"sbatch --parsable {shlex.quote(script_path)}"

    def parse_submit_output(self, stdout: str) -> str:
        # "1234" or "1234;cluster"
        words = stdout.strip().split(";")[0].split()
        if not words or not words[-1].isdigit():
            raise ExecutionProviderException(f"slurm: could not find a job id in sbatch's output {stdout!r}")
        return words[-1]

    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        seen: dict[str, JobState] = {}
        for line in stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2:
                seen[parts[0]] = STATES.get(parts[1], JobState.UNKNOWN)
        return seen

