"""The IPython Parallel executor (``parsl-executors[ipp]``), one module per part:

- :mod:`.executor`: :class:`IPyParallelExecutor`, which ties the parts together;
- :mod:`.tasks`: the tasks in flight and their futures;
- :mod:`.engines`: the engines seen (host, pid, block), lost or released;
- :mod:`.controller`: the ipcontroller (own, reused, or a user's cluster) and its client;
- :mod:`.launch`: the command that starts a block's engines;
- :mod:`.options`: a 0.5.0 site's ``execution.options``;
- run elsewhere: :mod:`.worker` (on the engines), :mod:`.engine` (an engine under a
  watchdog) and :mod:`.guard` (keeps the controller from outliving the script).

Names resolve lazily: an engine that imports :mod:`.worker` loads nothing else.
"""
import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..errors import EngineLost
    from .controller import Controller, ControllerError
    from .executor import IPyParallelExecutor
    from .launch import DEFAULT_ENGINE_FILE, ENGINE_JSON_VAR

_LAZY = {
    "IPyParallelExecutor": "parsl_executors.ipp.executor",
    "Controller": "parsl_executors.ipp.controller",
    "ControllerError": "parsl_executors.ipp.controller",
    "EngineLost": "parsl_executors.errors",
    "DEFAULT_ENGINE_FILE": "parsl_executors.ipp.launch",
    "ENGINE_JSON_VAR": "parsl_executors.ipp.launch",
}

__all__ = ["Controller", "ControllerError", "DEFAULT_ENGINE_FILE", "ENGINE_JSON_VAR", "EngineLost", "IPyParallelExecutor"]


def __getattr__(name: str) -> Any:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(target), name)
