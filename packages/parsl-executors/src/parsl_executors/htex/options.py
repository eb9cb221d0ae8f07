"""Checked knobs of the high-throughput executor: a 0.5.0 site's ``execution.options`` and a
task's ``parsl_resource_specification``."""
from __future__ import annotations

from typing import Any, Mapping

from parsl.errors import ConfigurationError
from parsl.interfaces import reject_unknown_keys
from parsl.interfaces.site import SiteSpec

_NUM = (int, float)

#: ``execution.options`` keys a 0.5.0 site may give this executor, with their types
SITE_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "cores_per_worker": _NUM,
    "mem_per_worker": _NUM,
    "prefetch_capacity": int,
    "heartbeat_period": _NUM,
    "heartbeat_threshold": _NUM,
    "worker_debug": bool,
    "encrypted": bool,
    "launch_cmd": str,
    "max_idletime": _NUM,
    "strategy_interval": _NUM,
    "strategy_threshold": int,
    "flow_control": bool,
    "block_connect_timeout": _NUM,
}


def _check_type(value: Any, kind: type | tuple[type, ...], where: str) -> None:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigurationError(f"expected {names}, got {value!r}", where)


def site_options(site: SiteSpec) -> dict[str, Any]:
    """The executor's own knobs from a site's ``execution.options``, checked by name and type."""
    options = dict(site.execution.get("options") or {})
    where = f"{site.path}.execution.options"
    reject_unknown_keys(options, SITE_OPTIONS, where, owner="the htex executor")
    for key, value in options.items():
        _check_type(value, SITE_OPTIONS[key], f"{where}.{key}")
    return options


RESOURCE_KEYS = ("cores", "memory", "walltime")


def resource_tuple(spec: Any) -> tuple[float | None, float | None, float | None] | None:
    """``parsl_resource_specification`` ({'cores', 'memory' (MB), 'walltime' (s)}) as the
    ``(cores, memory, walltime)`` a task carries; a clear error for anything else."""
    if spec is None or spec == {}:
        return None
    where = "parsl_resource_specification"
    if not isinstance(spec, Mapping):
        raise ConfigurationError(f"expected a dict with keys {', '.join(RESOURCE_KEYS)}, got {type(spec).__name__}", where)
    reject_unknown_keys(spec, RESOURCE_KEYS, where, owner="the htex executor")
    out: list[float | None] = []
    for key in RESOURCE_KEYS:
        v = spec.get(key)
        if v is not None:
            _check_type(v, _NUM, f"{where}.{key}")
            if v <= 0:
                raise ConfigurationError(f"must be positive, got {v!r}", f"{where}.{key}")
        out.append(v)
    return (out[0], out[1], out[2])
