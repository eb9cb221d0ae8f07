"""Channels: where a provider runs its scheduler commands and puts its scripts.

``LocalChannel`` runs them in a local shell; ``SshChannel`` and ``SshILChannel`` (extra
``ssh``: ``pip install 'libsubmit[ssh]'``) run them on a login node over SSH. The SSH classes
are imported lazily, so ``import libsubmit.channels`` never needs paramiko. Today's upstream
names are ``SSHChannel`` (its keywords) and ``SSHInteractiveLoginChannel`` (``SshILChannel``).
"""
from __future__ import annotations

from typing import Any

from .channel_base import Channel
from .local.local import LocalChannel

__all__ = ["Channel", "LocalChannel", "SSHChannel", "SSHInteractiveLoginChannel", "SshChannel", "SshILChannel"]


def __getattr__(name: str) -> Any:
    if name == "SshChannel":
        from .ssh.ssh import SshChannel

        return SshChannel
    if name == "SSHChannel":
        from .ssh.ssh import SSHChannel

        return SSHChannel
    if name in ("SshILChannel", "SSHInteractiveLoginChannel"):
        from .ssh_il.ssh_il import SshILChannel

        return SshILChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
