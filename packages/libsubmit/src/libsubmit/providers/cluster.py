"""The shared life-cycle of batch-scheduler providers (Slurm, Torque, Cobalt, Grid Engine,
HTCondor): a submit script rendered from a template, and the scheduler's own commands run
through the channel, each with a timeout.

::

    submit(cmd) ─▶ script_text(...)  (pure: template + launcher; golden-tested)
                ─▶ local file ─▶ channel.push_file ─▶ <script_dir>/<job>.<ext>
                ─▶ channel.execute_wait(submit_command, cmd_timeout) ─▶ job id
                   (non-zero exit: SubmitException with the scheduler's message)
    status(ids) ─▶ channel.execute_wait(status_command) ─▶ parse ─▶ JobState per id;
                   a job the scheduler no longer lists is terminal (COMPLETED, or CANCELLED
                   once we cancelled it); terminal states are remembered, not asked again
    cancel(ids) ─▶ channel.execute_wait(cancel_command) ─▶ [True...] or [False...]

A scheduler command that hangs is killed after ``cmd_timeout`` seconds and raises
:class:`~libsubmit.channels.errors.ChannelTimeout`. Bookkeeping is under a lock, so
several threads may call in.
"""
from __future__ import annotations

import itertools
import os
import re
import shlex
import tempfile
import threading
import time
from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import Channel, JobState, SiteSpec

from ..channels.local.local import LocalChannel
from ..error import SchedulerCommandFailed, ScriptPathError, SubmitException
from .base import BlockProvider, validate_job_name
from .private_files import private_dir, write_private

__all__ = ["ClusterProvider", "directive_value"]

_counter = itertools.count()
_SAFE_DIRECTIVE = re.compile(r"^[A-Za-z0-9_.,:@%+=/-]+$")


def directive_value(value: str, where: str) -> str:
    """A value that goes into a scheduler directive line (``#SBATCH --partition=...``): one
    word of safe characters, so it cannot end the line or smuggle in another directive."""
    if not isinstance(value, str) or not _SAFE_DIRECTIVE.match(value):
        raise ConfigurationError(f"{value!r} cannot go into a scheduler directive: use letters, digits and _.,:@%+=/-", where)
    return value


@dataclass
class _Job:
    name: str
    script: str
    state: JobState = JobState.PENDING
    cancelled: bool = False


class ClusterProvider(BlockProvider):
    """Base of the providers that talk to a batch scheduler through a channel.

    ``cmd_timeout`` (seconds, default 30) bounds every scheduler command.
    """

    #: file extension of the submit script
    script_extension: ClassVar[str] = "submit"
    #: options that go into scheduler directive lines (checked at construction)
    directive_options: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        config: Mapping[str, Any] | SiteSpec | None = None,
        channel: Channel | None = None,
        *,
        cmd_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(config, channel, **kwargs)
        if isinstance(cmd_timeout, bool) or not isinstance(cmd_timeout, (int, float)) or not 0 < cmd_timeout <= 86400:
            raise ConfigurationError(f"must be a number of seconds from 0 to 86400, got {type(cmd_timeout).__name__} {cmd_timeout!r}", f"{type(self).__name__}.cmd_timeout")
        self.cmd_timeout = float(cmd_timeout)
        self._jobs: dict[str, _Job] = {}
        self._lock = threading.Lock()
        self._staging: str | None = None
        self._option_path = f"{self.site.path}.execution.block.options" if self.site else type(self).__name__
        for key in self.directive_options:
            if key in self.options:  # checked now, not at the first block
                directive_value(self.options[key], self.option_path(key))

    # ---- what each scheduler defines -------------------------------------------------------
    @abstractmethod
    def script_text(self, job_name: str, cmd_string: str, blocksize: int, script_path: str, env: Mapping[str, str] | None = None) -> str:
        """The submit script for one block (pure; no I/O); ``env`` is exported before the
        launcher."""

    def companion_files(self, job_name: str, cmd_string: str, script_path: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Other files the submit script needs next to it (path on the channel's host to
        text); HTCondor's job executable, for instance. Pure; none by default."""
        return {}

    @abstractmethod
    def submit_command(self, script_path: str) -> str:
        """The shell command that submits ``script_path``."""

    @abstractmethod
    def parse_submit_output(self, stdout: str) -> str:
        """The job id in the submit command's output."""

    #: the shell command that lists the jobs' states (all of them: naming ids makes some
    #: schedulers fail on ids they have already forgotten)
    status_listing: ClassVar[str]
    #: the scheduler's cancel command; the job ids are appended, shell-quoted
    cancel_tool: ClassVar[str]

    def status_command(self, job_ids: Sequence[str]) -> str:
        """The shell command that lists the state of (at least) ``job_ids``."""
        return self.status_listing

    @abstractmethod
    def parse_status_output(self, stdout: str) -> dict[str, JobState]:
        """Job id to state, for every job the status command listed."""

    def find_state(self, seen: Mapping[str, JobState], job_id: str) -> JobState | None:
        """The state of ``job_id`` in a parsed listing (schedulers that abbreviate ids
        override this)."""
        return seen.get(job_id)

    def cancel_command(self, job_ids: Sequence[str]) -> str:
        """The shell command that cancels ``job_ids``."""
        return " ".join([self.cancel_tool, *(shlex.quote(j) for j in job_ids)])

    # ---- the life-cycle ---------------------------------------------------------------------
    def option(self, key: str, default: str | None = None) -> str | None:
        return self.options.get(key, default)

    def option_path(self, key: str) -> str:
        return f"{self._option_path}.{key}"

    def run(self, cmd: str) -> tuple[int, str, str]:
        """Run a scheduler command through the channel, bounded by ``cmd_timeout``."""
        return self.channel.execute_wait(cmd, self.cmd_timeout)

    def _local_script_dir(self) -> str:
        if isinstance(self.channel, LocalChannel):
            return self.channel.script_dir
        if self._staging is None:
            self._staging = tempfile.mkdtemp(prefix=f"libsubmit-{self.name}-")
        return self._staging

    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str:
        """Write the block's submit script (mode 0700, in a 0700 directory: ``env`` is
        exported in it), copy it to the channel's script dir and submit it; return the
        scheduler's job id. A refusal raises :class:`SubmitException` with the scheduler's
        message."""
        validate_job_name(job_name)
        name = f"{job_name}.{int(time.time())}.{next(_counter)}"
        remote_dir = self.channel.script_dir
        if re.search(r"\s", remote_dir):
            raise ConfigurationError(f"the script directory {remote_dir!r} contains white space, which scheduler directives cannot hold", "scriptDir")
        remote_path = f"{remote_dir}/{name}.{self.script_extension}"
        files = {remote_path: self.script_text(name, cmd_string, blocksize, remote_path, env)}
        files.update(self.companion_files(name, cmd_string, remote_path, env))
        local_dir = private_dir(self._local_script_dir())
        local_paths = []
        for path, text in files.items():
            local_path = os.path.join(local_dir, os.path.basename(path))
            write_private(local_path, text, 0o700)
            local_paths.append(local_path)
        if not isinstance(self.channel, LocalChannel):
            q = shlex.quote(remote_dir)
            rc, out, err = self.run(f"mkdir -p {q} && chmod 700 {q}")
            if rc != 0:
                raise ScriptPathError(remote_dir, (err or out).strip())
            for local_path in local_paths:
                self.channel.push_file(local_path, remote_dir)
        cmd = self.submit_command(remote_path)
        rc, out, err = self.run(cmd)
        if rc != 0:
            raise SubmitException(self.name, job_name, cmd, rc, err.strip() or out.strip())
        job_id = self.parse_submit_output(out)
        with self._lock:
            self._jobs[job_id] = _Job(name, remote_path)
        return job_id

    def status(self, job_ids: Sequence[str]) -> list[JobState]:
        """The state of each job. Jobs already seen terminal are not asked about again."""
        ids = [str(j) for j in job_ids]
        with self._lock:
            ask = [j for j in ids if j not in self._jobs or not self._jobs[j].state.terminal]
        seen: dict[str, JobState] = {}
        if ask:
            cmd = self.status_command(ask)
            rc, out, err = self.run(cmd)
            if rc != 0:
                raise SchedulerCommandFailed(self.name, cmd, rc, err.strip() or out.strip())
            seen = self.parse_status_output(out)
            with self._lock:
                for j in ask:
                    job = self._jobs.get(j)
                    state = self.find_state(seen, j)
                    if job is None:
                        continue
                    if state is None:
                        # no longer listed: it ended
                        state = JobState.CANCELLED if job.cancelled else JobState.COMPLETED
                    elif state is JobState.COMPLETED and job.cancelled:
                        # schedulers such as Torque list a cancelled job as completed
                        state = JobState.CANCELLED
                    job.state = state
        with self._lock:
            return [self._jobs[j].state if j in self._jobs else (self.find_state(seen, j) or JobState.UNKNOWN) for j in ids]

    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """Cancel the jobs; all ``True`` if the scheduler accepted, all ``False`` otherwise."""
        ids = [str(j) for j in job_ids]
        if not ids:
            return []
        rc, _out, _err = self.run(self.cancel_command(ids))
        ok = rc == 0
        if ok:
            with self._lock:
                for j in ids:
                    if j in self._jobs:
                        self._jobs[j].cancelled = True
        return [ok] * len(ids)

    @property
    def current_capacity(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if not j.state.terminal)

    def job_name(self, job_id: str) -> str:
        """The unique name a job was submitted under (its script is ``<name>.<ext>``)."""
        with self._lock:
            return self._jobs[job_id].name

    def walltime_seconds(self) -> int:
        from parsl.interfaces import parse_walltime

        return parse_walltime(self.shape.walltime)

    def overrides(self) -> str:
        text = self.option("overrides") or ""
        return text if text.endswith("\n") or not text else text + "\n"
