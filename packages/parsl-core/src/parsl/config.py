"""The typed configuration of a workflow.

``Config`` is frozen and validated when built; a wrong value raises
:class:`~parsl.errors.ConfigurationError` naming the field. 0.5.0 dict configs are validated
and translated into a ``Config`` by :mod:`parsl.config_dict`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from .dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER, DependencyResolver
from .errors import ConfigurationError
from .interfaces import Memoizer, Monitor, ParslExecutor, parse_walltime

CHECKPOINT_MODES = (None, "task_exit", "periodic", "dfk_exit", "manual")


def _default_executors() -> tuple[ParslExecutor, ...]:
    from .executors.threads import ThreadPoolExecutor

    return (ThreadPoolExecutor(max_workers=4),)


@dataclass(frozen=True)
class Config:
    """Everything a DataFlowKernel needs to know.

    Args:
        executors: where apps run; labels must be unique (they are the site names apps
            refer to). Default: one :class:`~parsl.executors.threads.ThreadPoolExecutor`
            of 4 threads.
        lazy_errors: keep running unaffected apps after a failure (default); when False the
            first failure stops the workflow.
        retries: how many times a failed app is run again.
        app_cache: global switch for app caching (and so checkpointing).
        checkpoint_files: checkpoint or run directories whose results to reuse.
        checkpoint_mode: None, ``'task_exit'``, ``'periodic'``, ``'dfk_exit'`` or ``'manual'``.
        checkpoint_period: ``"HH:MM:SS"`` between checkpoints in periodic mode.
        run_dir: where numbered run directories are made.
        memoizer: a custom :class:`~parsl.interfaces.Memoizer`.
        initialize_logging: write ``<run_dir>/parsl.log``.
        usage_tracking: opt in to anonymous usage statistics (off by default).
        monitoring: record every task's transitions, where it ran, and block events, for
            ``parsl status`` / ``parsl report`` / ``parsl web``: True loads the ``sqlite``
            monitoring plugin (``pip install parsl-monitoring``; it writes
            ``<run dir>/monitoring.db``); a :class:`~parsl.interfaces.Monitor` is used as given.
            Off by default, and free when off.
        controller: the 0.5.0 ``controller`` block, for executors that use one (ipp).
        site_data: per-site ``data`` blocks of a 0.5.0 config (working_dir, globus).
        dependency_resolver: which futures in an app call are its dependencies: None or
            :data:`~parsl.dataflow.dependency_resolvers.SHALLOW_DEPENDENCY_RESOLVER` (futures
            passed directly as arguments and the items of ``inputs=``, as 0.5.0 and upstream
            Parsl do) or :data:`~parsl.dataflow.dependency_resolvers.DEEP_DEPENDENCY_RESOLVER`
            (also futures nested in lists, tuples, sets and dicts).
    """

    executors: Sequence[ParslExecutor] = field(default_factory=_default_executors)
    lazy_errors: bool = True
    retries: int = 0
    app_cache: bool = True
    checkpoint_files: Sequence[str] = ()
    checkpoint_mode: str | None = None
    checkpoint_period: str | None = None
    run_dir: str = "runinfo"
    memoizer: Memoizer | None = None
    data_manager: Any = None
    initialize_logging: bool = True
    usage_tracking: bool = False
    monitoring: bool | Monitor = False
    controller: Mapping[str, Any] | None = None
    site_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    dependency_resolver: DependencyResolver | None = None

    def __post_init__(self) -> None:
        executors = self.executors
        if isinstance(executors, ParslExecutor):
            executors = (executors,)
        if not isinstance(executors, (list, tuple)) or not executors:
            raise ConfigurationError("must be a non-empty list of executors", "executors")
        labels: set[str] = set()
        for i, ex in enumerate(executors):
            if not isinstance(ex, ParslExecutor):
                raise ConfigurationError(f"{ex!r} is not a ParslExecutor", f"executors[{i}]")
            if ex.label in labels:
                raise ConfigurationError(f"duplicate executor label {ex.label!r}; labels must be unique", f"executors[{i}].label")
            labels.add(ex.label)
        object.__setattr__(self, "executors", tuple(executors))
        for name in ("lazy_errors", "app_cache", "initialize_logging", "usage_tracking"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"must be True or False, got {getattr(self, name)!r}", name)
        if not isinstance(self.retries, int) or isinstance(self.retries, bool) or self.retries < 0:
            raise ConfigurationError(f"must be a non-negative integer, got {self.retries!r}", "retries")
        if self.checkpoint_mode not in CHECKPOINT_MODES:
            raise ConfigurationError(
                f"must be one of {', '.join(repr(m) for m in CHECKPOINT_MODES)}; got {self.checkpoint_mode!r}", "checkpoint_mode"
            )
        if self.checkpoint_period is not None:
            try:
                seconds = parse_walltime(self.checkpoint_period)
            except ConfigurationError as e:
                raise ConfigurationError(e.message, "checkpoint_period") from None
            if seconds <= 0:
                raise ConfigurationError("must be longer than 00:00:00", "checkpoint_period")
        if self.checkpoint_mode == "periodic" and self.checkpoint_period is None:
            object.__setattr__(self, "checkpoint_period", "00:30:00")
        files = self.checkpoint_files
        if isinstance(files, str) or not isinstance(files, (list, tuple)):
            raise ConfigurationError(f"must be a list of paths, got {files!r}", "checkpoint_files")
        object.__setattr__(self, "checkpoint_files", tuple(files))
        if not isinstance(self.run_dir, str) or not self.run_dir:
            raise ConfigurationError(f"must be a non-empty path, got {self.run_dir!r}", "run_dir")
        if not isinstance(self.monitoring, (bool, Monitor)):
            raise ConfigurationError(f"must be True, False or a parsl.interfaces.Monitor, got {self.monitoring!r}", "monitoring")
        if self.memoizer is not None and not isinstance(self.memoizer, Memoizer):
            raise ConfigurationError(f"{self.memoizer!r} is not a Memoizer", "memoizer")
        if self.dependency_resolver is not None and not isinstance(self.dependency_resolver, DependencyResolver):
            raise ConfigurationError(
                f"{self.dependency_resolver!r} is not a DependencyResolver; use SHALLOW_DEPENDENCY_RESOLVER or "
                "DEEP_DEPENDENCY_RESOLVER from parsl.dataflow.dependency_resolvers",
                "dependency_resolver",
            )

    @property
    def resolver(self) -> DependencyResolver:
        """The dependency resolver in effect (shallow when none was given)."""
        return self.dependency_resolver or SHALLOW_DEPENDENCY_RESOLVER

    def with_(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
