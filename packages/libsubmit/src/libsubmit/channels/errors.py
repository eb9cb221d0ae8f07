"""Errors raised by channels (0.5.0 import path ``libsubmit.channels.errors``)."""
from __future__ import annotations

from parsl.errors import ParslError

__all__ = [
    "AuthException",
    "BadHostKeyException",
    "BadPermsScriptPath",
    "BadScriptPath",
    "ChannelError",
    "ChannelExecFailed",
    "ChannelTimeout",
    "FileCopyException",
    "FileExists",
    "SSHException",
    "UnknownHostKey",
]


class ChannelError(ParslError):
    """Base class of every channel error. ``hostname`` says where it happened."""

    def __init__(self, message: str, hostname: str = "localhost") -> None:
        self.hostname = hostname
        self.message = message
        super().__init__(f"{hostname}: {message}")


class ChannelTimeout(ChannelError, TimeoutError):
    """A command outlived its walltime; the caller is no longer blocked by it."""

    def __init__(self, cmd: str, walltime: float, hostname: str = "localhost", outcome: str = "was killed") -> None:
        self.cmd = cmd
        self.walltime = walltime
        super().__init__(f"command {cmd!r} did not finish within {walltime:g} s and {outcome}", hostname)


class ChannelExecFailed(ChannelError):
    """The channel could not run a command at all (as opposed to the command failing)."""


class AuthException(ChannelError):
    """Authentication to the remote host failed."""


class SSHException(ChannelError):
    """The SSH connection failed (unreachable host, protocol error)."""


class BadHostKeyException(ChannelError):
    """The host presented a key that differs from the one in known_hosts."""


class UnknownHostKey(ChannelError):
    """The host's key is not in known_hosts and accepting unknown keys was not asked for."""


class BadScriptPath(ChannelError):
    """The script directory on the channel's host is not usable."""


class BadPermsScriptPath(BadScriptPath):
    """No permission to create or write the script directory."""


class FileExists(ChannelError, FileExistsError):
    """Copying a file would overwrite another one."""


class FileCopyException(ChannelError, OSError):
    """Copying a file to or from the channel's host failed."""
