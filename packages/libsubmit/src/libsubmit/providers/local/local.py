"""Local provider: each block is a bash process group on this machine.

::

    submit(cmd, env) ─▶ write <script_dir>/<job>.sh (0700 in a 0700 dir: env exports + launcher-wrapped cmd)
                ─▶ LocalChannel.execute_no_wait("bash <job>.sh") ─▶ Popen, own process group
                   stdout/stderr ─▶ <job>.out / <job>.err;  job id = str(pid)
    status(ids) ─▶ Popen.poll(): running → RUNNING, 0 → COMPLETED, else FAILED
                   (CANCELLED once cancel() ended it)
    cancel(ids) ─▶ SIGTERM to the whole group, grace period, SIGKILL to what is left

All bookkeeping is under one lock, so submit/status/cancel may come from several threads.
Blocks still running when the interpreter exits are cancelled by an atexit hook (registered at
the first submit), so a forgotten provider leaves no orphaned process group behind.
"""
from __future__ import annotations

import atexit
import itertools
import os
import subprocess
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import Channel, JobState, SiteSpec

from ...channels.local.local import LocalChannel, kill_process_group
from ...error import ChannelRequired
from ..base import BlockProvider, validate_job_name
from ..private_files import private_dir, write_private

__all__ = ["Local"]

_counter = itertools.count()
_live: weakref.WeakSet[Local] = weakref.WeakSet()
_hook_lock = threading.Lock()
_hook_registered = False


def _cancel_all_at_exit() -> None:
    for provider in list(_live):
        provider.cancel_grace = min(provider.cancel_grace, 1.0)
        provider.shutdown()


def _track(provider: Local) -> None:
    global _hook_registered
    with _hook_lock:
        _live.add(provider)
        if not _hook_registered:
            atexit.register(_cancel_all_at_exit)
            _hook_registered = True


@dataclass
class _LocalJob:
    name: str
    proc: subprocess.Popen[Any]
    script: str
    cancelled: bool = False


class Local(BlockProvider):
    """Run blocks as local process groups (0.5.0: ``Local(config, channel_script_dir=None,
    channel=None)``; modern: ``Local(channel=LocalChannel(), nodes_per_block=1,
    tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=10, walltime="00:10:00")``).

    ``cancel_grace`` is how long a cancelled block gets between SIGTERM and SIGKILL.
    """

    name: ClassVar[str] = "local"
    option_names: ClassVar[frozenset[str]] = frozenset()

    def __init__(
        self,
        config: Mapping[str, Any] | SiteSpec | None = None,
        channel_script_dir: str | None = None,
        channel: Channel | None = None,
        *,
        cancel_grace: float = 5.0,
        **kwargs: Any,
    ) -> None:
        if channel is None and channel_script_dir is not None:
            channel = LocalChannel(scriptDir=channel_script_dir)
        super().__init__(config, channel, **kwargs)
        if not isinstance(self.channel, LocalChannel):
            raise ChannelRequired(
                f"the local provider runs blocks as local processes and needs a LocalChannel, got {type(self.channel).__name__}",
                f"{self.site.path}.auth.channel" if self.site else "Local.channel",
            )
        self.local_channel: LocalChannel = self.channel
        if cancel_grace < 0:
            raise ConfigurationError(f"must not be negative, got {cancel_grace}", "Local.cancel_grace")
        self.cancel_grace = cancel_grace
        self._jobs: dict[str, _LocalJob] = {}
        self._lock = threading.Lock()

    @property
    def channels_required(self) -> bool:
        return False

    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str:
        """Start one block running ``cmd_string`` through the launcher; return its job id
        (the pid of the block's process group leader). ``blocksize`` is not used locally.
        The script (mode 0700) and its output files (0600) go into the channel's script
        directory, made 0700: ``env`` is exported in the script, never put on a command line."""
        validate_job_name(job_name)
        name = f"{job_name}.{os.getpid()}.{next(_counter)}"
        script_dir = private_dir(self.local_channel.script_dir)
        script = os.path.join(script_dir, f"{name}.sh")
        write_private(script, self.script_text(cmd_string, env), 0o700)
        base = os.path.join(script_dir, name)
        write_private(f"{base}.out", b"", 0o600)
        write_private(f"{base}.err", b"", 0o600)
        with open(f"{base}.out", "wb") as out, open(f"{base}.err", "wb") as err:
            proc = self.local_channel.execute_no_wait(f"exec bash {_q(script)}", stdout=out, stderr=err)
        job_id = str(proc.pid)
        _track(self)
        with self._lock:
            self._jobs[job_id] = _LocalJob(name, proc, script)
        return job_id

    def script_text(self, cmd_string: str, env: Mapping[str, str] | None = None) -> str:
        """The script a block runs (pure)."""
        return "#!/bin/bash\n" + self.launch_command(cmd_string, env)

    def _state(self, job: _LocalJob) -> JobState:
        rc = job.proc.poll()
        if rc is None:
            return JobState.RUNNING
        if job.cancelled:
            return JobState.CANCELLED
        return JobState.COMPLETED if rc == 0 else JobState.FAILED

    def status(self, job_ids: Sequence[str]) -> list[JobState]:
        """The state of each block; ``UNKNOWN`` for ids this provider did not start."""
        with self._lock:
            return [self._state(self._jobs[j]) if j in self._jobs else JobState.UNKNOWN for j in job_ids]

    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """End each block's whole process group (SIGTERM, then SIGKILL after
        ``cancel_grace`` s). ``True`` where a running block was ended."""
        with self._lock:
            jobs = [self._jobs.get(j) for j in job_ids]
        results = []
        for job in jobs:
            if job is None:
                results.append(False)
                continue
            running = job.proc.poll() is None
            if running:
                job.cancelled = True
            # also reaps stragglers of a block whose leader already exited
            kill_process_group(job.proc, self.cancel_grace if running else 0.0)
            results.append(running)
        return results

    @property
    def current_capacity(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if j.proc.poll() is None)

    def shutdown(self) -> None:
        """Cancel every block still running. Idempotent."""
        with self._lock:
            ids = list(self._jobs)
        self.cancel(ids)

    def wait(self, job_id: str, timeout: float | None = None) -> JobState:
        """Wait for a block to end (for tests and scripts); return its final state."""
        with self._lock:
            job = self._jobs[job_id]
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            job.proc.wait(timeout=None if deadline is None else max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        return self._state(job)


def _q(s: str) -> str:
    import shlex

    return shlex.quote(s)
