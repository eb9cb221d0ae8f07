"""Parsl: parallel scripting in Python.

Annotate functions as apps; each call returns a future at once; futures passed between apps
form a dependency graph that the DataFlowKernel runs in parallel::

    import parsl
    from parsl import python_app

    @python_app
    def double(x):
        return 2 * x

    with parsl.load():                # local threads by default
        print(double(double(3)).result())

Importing this package is cheap and inert: names are loaded on first use, no plugin or
optional dependency is imported, no thread is started and no file is touched.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "App": "parsl.app.app",
    "app": "parsl",  # the parsl.app subpackage, which is callable as the decorator
    "python_app": "parsl.app.app",
    "bash_app": "parsl.app.app",
    "join_app": "parsl.app.app",
    "AppFuture": "parsl.dataflow.futures",
    "DataFuture": "parsl.app.futures",
    "DataFlowKernel": "parsl.dataflow.dflow",
    "ThreadPoolExecutor": "parsl.executors.threads",
    "File": "parsl.data_provider.files",
    "Config": "parsl.config",
    "set_stream_logger": "parsl.log_utils",
    "set_file_logger": "parsl.log_utils",
    "load": "parsl.dataflow.loader",
    "dfk": "parsl.dataflow.loader",
    "clear": "parsl.dataflow.loader",
    "wait_for_current_tasks": "parsl.dataflow.loader",
    "AUTO_LOGNAME": "parsl.dataflow.std_paths",
}
# classes from plugin distributions: reachable as parsl.<Name>
_PLUGIN_EXPORTS = {
    "IPyParallelExecutor": "parsl.executors.ipp",
    "TurbineExecutor": "parsl.executors.swift_t",
    "HighThroughputExecutor": "parsl.executors",
}
# ...and part of `from parsl import *` (0.5.0's __all__ has it) when their distribution is installed
_STAR_PLUGIN_EXPORTS = {"IPyParallelExecutor": "parsl_executors"}


def _star_names() -> list[str]:
    from importlib.util import find_spec

    extra = [name for name, dist_module in _STAR_PLUGIN_EXPORTS.items() if find_spec(dist_module) is not None]
    return sorted([*_EXPORTS, *extra])


def __getattr__(name: str) -> Any:
    if name == "__all__":  # computed on first use: `import parsl` itself looks for nothing
        names = globals()["__all__"] = _star_names()
        return names
    target = _EXPORTS.get(name) or _PLUGIN_EXPORTS.get(name)
    if target is not None:
        module = importlib.import_module(target)
        value = importlib.import_module("parsl.app") if name == "app" else getattr(module, name)
        globals()[name] = value
        return value
    if name == "__version__":
        from importlib import metadata

        try:
            version = metadata.version("parsl-core")
        except metadata.PackageNotFoundError:
            version = "0+unknown"
        globals()["__version__"] = version
        return version
    raise AttributeError(f"module 'parsl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS) | set(_PLUGIN_EXPORTS) | {"__version__"})
