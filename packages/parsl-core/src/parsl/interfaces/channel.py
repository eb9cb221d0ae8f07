"""The channel interface: where a provider runs its scheduler commands (locally, over SSH)."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class Channel(ABC):
    """Run commands and move files on the host where the scheduler lives."""

    @abstractmethod
    def execute_wait(self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Run ``cmd`` and wait for it; return ``(exit_code, stdout, stderr)``. A command that
        outlives ``walltime`` seconds is killed and raises a timeout error."""

    def execute_no_wait(self, cmd: str, walltime: float | None = None, envs: dict[str, str] | None = None) -> Any:
        """Start ``cmd`` without waiting; return a handle to it."""
        raise NotImplementedError(f"{type(self).__name__} cannot run commands without waiting")

    @abstractmethod
    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy a local file into ``dest_dir`` on the channel's host; return the remote path."""

    @abstractmethod
    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """Copy a remote file into a local directory; return the local path."""

    @property
    @abstractmethod
    def script_dir(self) -> str:
        """Directory on the channel's host where submit scripts are written."""

    def close(self) -> None:
        """Release the channel's connections. Idempotent."""
