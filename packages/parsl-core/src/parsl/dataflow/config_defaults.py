"""0.5.0's ``parsl.dataflow.config_defaults``: a config dict with its defaults filled in.

``update_config(config, rundir)`` returns a copy of a 0.5.0 config dict in which every key the
0.5.0 guide gives a default for is set (``globals``, each site's ``execution.block``); the dict
given is not modified. ``recursive_update(template, userdata)`` is the merge it uses.
"""
from __future__ import annotations

import copy
from typing import Any, Mapping

from ..config_dict import BLOCK_DEFAULTS

GLOBALS_DEFAULTS: dict[str, Any] = {
    "lazyErrors": True,
    "retries": 0,
    "appCache": True,
    "memoize": True,
    "checkpointMode": None,
    "checkpointFiles": [],
    "usageTracking": False,
}


def recursive_update(template: Mapping[str, Any], userdata: Mapping[str, Any]) -> dict[str, Any]:
    """``template`` updated with ``userdata``, nested dicts merged key by key."""
    out = copy.deepcopy(dict(template))
    for key, value in userdata.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = recursive_update(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def update_config(config: Mapping[str, Any], rundir: str) -> dict[str, Any]:
    """``config`` with the 0.5.0 defaults filled in, ``globals.runDir`` set to ``rundir``."""
    out = recursive_update({"globals": {**GLOBALS_DEFAULTS, "runDir": rundir}, "controller": {}}, config)
    for site in out.get("sites") or []:
        if isinstance(site, dict) and isinstance(site.get("execution"), dict):
            execution = site["execution"]
            if execution.get("executor") != "threads":
                execution["block"] = recursive_update(BLOCK_DEFAULTS, execution.get("block") or {})
    return out


__all__ = ["recursive_update", "update_config"]
