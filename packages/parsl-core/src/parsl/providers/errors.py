"""Upstream's ``parsl.providers.errors``: the provider errors of ``libsubmit.error``."""
from typing import Any

from .._lazy import Target, table_attr

_TABLE: dict[str, Target | str] = {
    name: Target("libsubmit.error", name, "libsubmit")
    for name in ("ExecutionProviderException", "ScaleOutFailed", "SchedulerMissingArgs", "ScriptPathError", "SubmitException", "ChannelRequired")
}


def __getattr__(name: str) -> Any:
    return table_attr(__name__, name, _TABLE)
