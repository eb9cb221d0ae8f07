"""HTCondor provider: ``condor_submit`` to submit, ``condor_q`` for status, ``condor_rm`` to
cancel. Each block is a submit description (``<job>.condor``) plus the bash script it runs
(``<job>.sh``)."""
from __future__ import annotations

import re
import shlex
from string import Template
from typing import ClassVar, Mapping

from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

from ...error import ExecutionProviderException
from ..cluster import ClusterProvider

__all__ = ["Condor"]

SUBMIT = Template("""# HTCondor block ${jobname}
universe = vanilla
executable = ${executable}
output = ${base}.out
error = ${base}.err
log = ${base}.log
getenv = false
should_transfer_files = NO
request_cpus = ${cpus}
${project}${requirements}# the walltime: a block running longer is removed
periodic_remove = (JobStatus == 2) && ((time() - EnteredCurrentStatus) > ${walltime_s})
# keep a finished block listed a while, so its exit code can be read
leave_in_queue = (JobStatus == 4) && ((time() - EnteredCurrentStatus) < 600)
${overrides}queue 1
""")

JOB = Template("""#!/bin/bash
${worker_setup}
${command}""")

#: condor_q's JobStatus numbers
STATES: dict[str, JobState] = {
    "1": JobState.PENDING,
    "2": JobState.RUNNING,
    "3": JobState.CANCELLED,
    "4": JobState.COMPLETED,
    "5": JobState.HELD,
    "6": JobState.RUNNING,
    "7": JobState.HELD,
}


def _classad_string(value: str, where: str) -> str:
    if "\n" in value or '"' in value:
        raise ConfigurationError(f"{value!r} cannot be a ClassAd string (no quotes or newlines)", where)
    return f'"{value}"'


class Condor(ClusterProvider):
    """HTCondor provider (0.5.0: ``Condor(config, channel=None)``).

    Options: ``project`` (``+ProjectName``), ``requirements`` (a ClassAd expression),
    ``workerSetup`` (shell lines run before the workers start), ``overrides`` (lines added to
    the submit description). HTCondor has no walltime: a block running longer than
    ``walltime`` is removed (``periodic_remove``) and then shows as CANCELLED.
    """

    name: ClassVar[str] = "condor"
    option_names: ClassVar[frozenset[str]] = frozenset({"project", "requirements", "workerSetup", "overrides"})
    status_listing: ClassVar[str] = "condor_q -af:j JobStatus ExitCode"
    cancel_tool: ClassVar[str] = "condor_rm"
    script_extension: ClassVar[str] = "condor"

    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        base = script_path.rsplit(".", 1)[0]
        project = self.option("project")
        requirements = self.option("requirements")
        if requirements and "\n" in requirements:
            raise ConfigurationError("must be one line", self.option_path("requirements"))
        tasks = self.shape.tasks_per_node
        return SUBMIT.substitute(
            jobname=job_name,
            executable=f"{base}.sh",
            base=base,
            cpus=tasks if isinstance(tasks, int) else 1,
            project=f"+ProjectName = {_classad_string(project, self.option_path('project'))}\n" if project else "",
            requirements=f"requirements = {requirements}\n" if requirements else "",
            walltime_s=self.walltime_seconds(),
            overrides=self.overrides(),
        )

    def companion_files(self, job_name: str, cmd_string: str, script_path: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
        base = script_path.rsplit(".", 1)[0]
        return {f"{base}.sh": JOB.substitute(worker_setup=self.option("workerSetup") or "", command=self.launch_command(cmd_string, env))}

    def submit_command(self, script_path: str) -> str:
        # condor_submit resolves relative paths from the submit file's directory
        directory, _, name = script_path.rpartition("/")
        return f"cd {shlex.quote(directory or '.')} && condor_submit {shlex.quote(name)}"

    def parse_submit_output(self, stdout: str) -> str:
        m = re.search(r"submitted to cluster (\d+)", stdout)
        if not m:
            raise ExecutionProviderException(f"condor: could not find a cluster id in condor_submit's output {stdout!r}")
        return m.group(1)

    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        seen: dict[str, JobState] = {}
        for line in stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and re.match(r"^\d+\.\d+$", parts[0]):
                state = STATES.get(parts[1], JobState.UNKNOWN)
                if state is JobState.COMPLETED and len(parts) >= 3 and parts[2] not in ("0", "undefined"):
                    state = JobState.FAILED
                seen[parts[0].split(".")[0]] = state
        return seen

