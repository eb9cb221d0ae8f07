"""Channels at today's upstream import path (upstream has deprecated them; scripts that
still use them run): ``from parsl.channels import SSHChannel`` imports it from ``libsubmit``
(``pip install 'libsubmit[ssh]'``)."""
from typing import Any

from .._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {
    "Channel": Target("parsl.interfaces", "Channel"),
    "LocalChannel": Target("libsubmit.channels.local.local", "LocalChannel", "libsubmit"),
    "SSHChannel": Target("libsubmit.channels.ssh.ssh", "SSHChannel", "libsubmit", "ssh"),
    "SSHInteractiveLoginChannel": Target("libsubmit.channels.ssh_il.ssh_il", "SshILChannel", "libsubmit", "ssh"),
    "OAuthSSHChannel": "OAuth SSH logins are not supported; use SSHChannel or SSHInteractiveLoginChannel",
}

__all__ = ["Channel", "LocalChannel", "SSHChannel", "SSHInteractiveLoginChannel"]


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
