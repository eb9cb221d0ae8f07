"""LocalChannel: run commands in a local bash, each in its own process group.

::

    provider ── execute_wait(cmd, walltime) ──▶ bash -c cmd   (new session / process group)
             ◀── (exit_code, stdout, stderr) ──┘   on timeout: SIGTERM then SIGKILL to the
                                                     whole group, ChannelTimeout raised
    provider ── execute_no_wait(cmd) ─────────▶ subprocess.Popen (own process group); the
                                                  caller owns it (poll / kill its group)
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from typing import Any, Mapping

from parsl.interfaces import Channel

from ..errors import ChannelExecFailed, ChannelTimeout, FileCopyException

__all__ = ["LocalChannel", "kill_process_group"]


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_process_group(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """End the process group that ``proc`` leads (it was started in a new session, so the
    group id is its pid): SIGTERM, up to ``grace`` seconds for the leader to exit, then SIGKILL
    to whatever is left of the group. Reaps the leader."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


class LocalChannel(Channel):
    """Run commands on this machine.

    Args:
        userhome: working directory of the commands (default ``.``, made absolute now).
        envs: environment variables added to every command.
        scriptDir: directory where providers write their scripts (default ``./scripts``,
            made absolute now; created when first needed). ``channel_script_dir`` and
            ``script_dir`` are accepted as other spellings.
    """

    hostname = "localhost"

    def __init__(
        self,
        userhome: str = ".",
        envs: Mapping[str, str] | None = None,
        scriptDir: str | None = None,
        **kwargs: Any,
    ) -> None:
        script_dir = scriptDir or kwargs.pop("channel_script_dir", None) or kwargs.pop("script_dir", None) or "./scripts"
        # the remaining 0.5.0 auth keys (hostname, username...) mean nothing for a local shell
        unknown = sorted(set(kwargs) - {"hostname", "username", "password", "port", "key_filename", "keyFile", "known_hosts", "accept_unknown_host_keys"})
        if unknown:
            raise TypeError(f"LocalChannel got unexpected keyword arguments: {', '.join(unknown)}")
        self.userhome = os.path.abspath(os.path.expanduser(userhome))
        self.envs: dict[str, str] = {str(k): str(v) for k, v in (envs or {}).items()}
        self._script_dir = os.path.abspath(os.path.expanduser(script_dir))

    def __repr__(self) -> str:
        return f"LocalChannel(userhome={self.userhome!r}, scriptDir={self._script_dir!r})"

    @property
    def script_dir(self) -> str:
        return self._script_dir

    def _env(self, envs: Mapping[str, str] | None) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.envs)
        if envs:
            env.update({str(k): str(v) for k, v in envs.items()})
        return env

    def _popen(self, cmd: str, envs: Mapping[str, str] | None, **kwargs: Any) -> subprocess.Popen[Any]:
        try:
            return subprocess.Popen(
                ["/bin/bash", "-c", cmd],
                cwd=self.userhome,
                env=self._env(envs),
                start_new_session=True,
                **kwargs,
            )
        except OSError as e:
            raise ChannelExecFailed(f"could not start bash for {cmd!r}: {e}") from e

    def execute_wait(self, cmd: str, walltime: float | None = None, envs: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        """Run ``cmd`` with bash and wait; return ``(exit_code, stdout, stderr)``. A command
        running longer than ``walltime`` seconds is killed with its whole process group and
        :class:`ChannelTimeout` is raised."""
        proc = self._popen(cmd, envs, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=walltime)
        except subprocess.TimeoutExpired:
            kill_process_group(proc, grace=1.0)
            proc.communicate()
            raise ChannelTimeout(cmd, float(walltime or 0)) from None
        except BaseException:
            kill_process_group(proc, grace=1.0)
            raise
        return proc.returncode, out, err

    def execute_no_wait(self, cmd: str, walltime: float | None = None, envs: Mapping[str, str] | None = None, **popen_kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``cmd`` with bash in its own process group and return the
        :class:`subprocess.Popen`; the caller owns it. ``popen_kwargs`` (e.g. ``stdout=``)
        go to Popen; stdin is closed."""
        popen_kwargs.setdefault("stdin", subprocess.DEVNULL)
        return self._popen(cmd, envs, **popen_kwargs)

    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy ``source`` into ``dest_dir`` (nothing to do when it is already there);
        return the destination path."""
        dest_dir = os.path.abspath(dest_dir)
        dest = os.path.join(dest_dir, os.path.basename(source))
        if os.path.abspath(source) == dest:
            return dest
        try:
            os.makedirs(dest_dir, exist_ok=True)
            shutil.copyfile(source, dest)
            shutil.copymode(source, dest)
        except OSError as e:
            raise FileCopyException(f"could not copy {source} to {dest_dir}: {e}") from e
        return dest

    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """For a local channel, the same as :meth:`push_file`."""
        return self.push_file(remote_source, local_dir)

    def close(self) -> bool:  # type: ignore[override]
        """Nothing to close; returns ``False`` as in 0.5.0 (nothing was closed)."""
        return False
