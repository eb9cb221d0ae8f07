"""Upstream's ``parsl.channels.errors``: the channel errors of ``libsubmit.channels.errors``."""
from typing import Any

from .._lazy import Target, table_attr

_NAMES = (
    "ChannelError",
    "BadHostKeyException",
    "BadScriptPath",
    "BadPermsScriptPath",
    "FileExists",
    "AuthException",
    "SSHException",
    "FileCopyException",
)
_TABLE: dict[str, Target | str] = {n: Target("libsubmit.channels.errors", n, "libsubmit") for n in _NAMES}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
