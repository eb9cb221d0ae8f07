"""Bash-app std streams given as ``parsl.AUTO_LOGNAME``: each becomes a path of its own in
the run directory, chosen by ``Config.std_autopath`` or by default::

    <run_dir>/task_logs/0000/task_0007_hello.stdout          (task 7 of app hello)
    <run_dir>/task_logs/0001/task_12345_hello_mylabel.stderr (label="mylabel" given)

Up to 10 000 tasks share a directory; the kernel creates it. (A path the script names itself
must be in an existing directory, as in 0.5.0: otherwise BadStdStreamFile.) The stream keywords are left out of the cache key (the
path holds the task id, so a cached call would otherwise never match).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .taskrecord import TaskRecord

#: ``stdout=parsl.AUTO_LOGNAME`` asks for a path made by ``Config.std_autopath`` (upstream's value)
AUTO_LOGNAME = -1
STREAMS = ("stdout", "stderr")


def default_std_autopath(run_dir: str, record: TaskRecord, kw: str) -> str:
    label = record.kwargs.get("label")
    name = f"task_{record.id:04d}_{record.func_name}{'' if label is None else f'_{label}'}.{kw}"
    return os.path.join(run_dir, "task_logs", f"{record.id // 10000:04d}", name)


def _is_auto(spec: Any) -> bool:
    return type(spec) is int and spec == AUTO_LOGNAME


def resolve_auto_streams(record: TaskRecord, defaults: dict[str, Any], make_path: Callable[[TaskRecord, str], str]) -> None:
    """Replace each AUTO_LOGNAME stream of ``record`` (given as a keyword, or the default of
    the app's signature; alone or as the path of a ``(path, mode)`` pair) by its path."""
    kwargs = record.kwargs
    for kw in STREAMS:
        spec = kwargs.get(kw, defaults.get(kw))
        if _is_auto(spec):
            kwargs[kw] = path = os.fspath(make_path(record, kw))
        elif isinstance(spec, tuple) and len(spec) == 2 and _is_auto(spec[0]):
            path = os.fspath(make_path(record, kw))
            kwargs[kw] = (path, spec[1])
        else:
            continue
        parent = os.path.dirname(path)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if kw not in record.ignore_for_cache:
            record.ignore_for_cache = (*record.ignore_for_cache, kw)
