"""Grid Engine provider (SGE / Son of Grid Engine / UGE): ``qsub -terse`` to submit,
``qstat`` for status, ``qdel`` to cancel."""
from __future__ import annotations

import shlex
from string import Template
from typing import ClassVar, Mapping

from parsl.interfaces import JobState

from ...error import ExecutionProviderException
from ..cluster import ClusterProvider, directive_value

__all__ = ["GridEngine"]

TEMPLATE = Template("""#!/bin/bash
#$$ -S /bin/bash
#$$ -N ${jobname}
#$$ -o ${stdout}
#$$ -e ${stderr}
#$$ -l h_rt=${walltime}
${directives}${overrides}
${command}""")


def _state(code: str) -> JobState:
    """qstat's state letters: qw, hqw, r, t, Rr, s, dr, Eqw..."""
    if "E" in code:
        return JobState.FAILED
    if "h" in code or "s" in code or "S" in code or "T" in code:
        return JobState.HELD
    if "d" in code:
        return JobState.RUNNING  # being deleted
    if "r" in code or "t" in code:
        return JobState.RUNNING
    if "q" in code or "w" in code:
        return JobState.PENDING
    return JobState.UNKNOWN


class GridEngine(ClusterProvider):
    """Grid Engine provider.

    Options: ``queue`` (``-q``), ``project`` (``-P``), ``pe`` (the parallel environment for
    blocks of more than one slot, default ``smp``), ``overrides`` (lines after the ``#$``
    directives). Grid Engine forgets a job when it ends, so a finished block is COMPLETED
    whatever its exit code (CANCELLED if it was cancelled); a job in error state is FAILED.
    """

    name: ClassVar[str] = "gridengine"
    option_names: ClassVar[frozenset[str]] = frozenset({"queue", "project", "pe", "overrides"})
    status_listing: ClassVar[str] = "qstat"
    cancel_tool: ClassVar[str] = "qdel"
    script_extension: ClassVar[str] = "sge"

    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        directives = []
        for key, flag in (("queue", "-q"), ("project", "-P")):
            value = self.option(key)
            if value:
                directives.append(f"#$ {flag} {directive_value(value, self.option_path(key))}\n")
        tasks = self.shape.tasks_per_node
        slots = self.shape.nodes_per_block * (tasks if isinstance(tasks, int) else 1)
        if slots > 1:
            pe = directive_value(self.option("pe", "smp") or "smp", self.option_path("pe"))
            directives.append(f"#$ -pe {pe} {slots}\n")
        base = script_path.rsplit(".", 1)[0]
        return TEMPLATE.substitute(
            jobname=job_name,
            stdout=f"{base}.out",
            stderr=f"{base}.err",
            walltime=self.shape.walltime,
            directives="".join(directives),
            overrides=self.overrides(),
            command=self.launch_command(cmd_string, env),
        )

    def submit_command(self, script_path: str) -> str:
        return f"qsub -terse {shlex.quote(script_path)}"

    def parse_submit_output(self, stdout: str) -> str:
        words = stdout.split()
        if not words or not words[-1].split(".")[0].isdigit():
            raise ExecutionProviderException(f"gridengine: could not find a job id in qsub's output {stdout!r}")
        return words[-1].split(".")[0]  # array jobs print "12.1-4:1"

    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        seen: dict[str, JobState] = {}
        for line in stdout.splitlines():
            parts = line.split()
            if len(parts) >= 5 and parts[0].isdigit():
                seen[parts[0]] = _state(parts[4])
        return seen

