"""The knobs a 0.5.0 site may set on the IPython Parallel executor (``execution.options``),
checked by name and type."""
from __future__ import annotations

from typing import Any

from parsl.errors import ConfigurationError
from parsl.interfaces import reject_unknown_keys
from parsl.interfaces.site import SiteSpec

#: ``execution.options`` keys a 0.5.0 site may give this executor, with their types
SITE_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "engine_dir": str,
    "engine_command": str,
    "engine_nanny": bool,
    "max_idletime": (int, float),
    "strategy_interval": (int, float),
    "strategy_threshold": int,
    "flow_control": bool,
    "heartbeat_period": (int, float),
    "heartbeat_threshold": (int, float),
}


def site_options(site: SiteSpec) -> dict[str, Any]:
    """The executor's own knobs from a 0.5.0 site's ``execution.options``, checked by name and
    type (provider options live in ``execution.block.options``)."""
    options = dict(site.execution.get("options") or {})
    where = f"{site.path}.execution.options"
    reject_unknown_keys(options, SITE_OPTIONS, where, owner="the ipp executor")
    for key, value in options.items():
        kind = SITE_OPTIONS[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            raise ConfigurationError(f"expected {kind if isinstance(kind, type) else ' or '.join(k.__name__ for k in kind)}, got {value!r}", f"{where}.{key}")
    return options
