"""The typed configuration of a workflow.

``Config`` is validated when built and again when a kernel loads it (so ``c = Config();
c.retries = 2`` works, as upstream scripts do); a wrong value raises
:class:`~parsl.errors.ConfigurationError` naming the field. 0.5.0 dict configs are validated
and translated into a ``Config`` by :mod:`parsl.config_dict`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from .dataflow.dependency_resolvers import SHALLOW_DEPENDENCY_RESOLVER, DependencyResolver
from .errors import ConfigurationError
from .interfaces import Memoizer, Monitor, ParslExecutor, parse_walltime

if TYPE_CHECKING:
    from .logconfigs.base import LogConfig

CHECKPOINT_MODES = (None, "task_exit", "periodic", "dfk_exit", "manual")
EXIT_MODES = ("cleanup", "skip", "wait")
UPSTREAM_STRATEGIES = ("simple", "htex_auto_scale", "none", None)
#: upstream Config keywords accepted with no effect here, and upstream's defaults for them
UPSTREAM_IGNORED: dict[str, Any] = {
    "strategy": "simple",
    "strategy_period": 5,
    "max_idletime": 120.0,
    "garbage_collect": True,
    "project_name": None,
}


def _default_executors() -> tuple[ParslExecutor, ...]:
    from .executors.threads import ThreadPoolExecutor

    return (ThreadPoolExecutor(max_workers=4),)


#: sane upper bounds: larger values are typos (10**30 retries) or overflow timers
MAX_RETRIES = 10_000
MAX_CHECKPOINT_PERIOD = 365 * 24 * 3600


@dataclass
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
        initialize_logging: write ``<run_dir>/parsl.log`` (True), nothing (False), or what a
            :mod:`parsl.logconfigs` object (``FileLogging``, ``JSONLogging``,
            ``NoopLogging``) sets up.
        usage_tracking: opt in to anonymous usage statistics (off by default; upstream's
            levels 1-3 also opt in).
        retries: with ``retry_handler``, the retry budget: a failed task is run again while
            the summed costs of its failures stay within ``retries``.
        retry_handler: ``f(exception, task_record) -> float``, the cost of one failure
            (default 1 each); if it raises, the task fails with that exception.
        exit_mode: what leaving ``with parsl.load(config):`` does: ``"cleanup"`` (default)
            and ``"wait"`` clean up, which waits for the outstanding tasks; ``"skip"`` does
            nothing (the kernel is cleaned up at interpreter exit).
        std_autopath: ``f(task_record, "stdout"|"stderr") -> path`` for bash-app streams
            given as ``parsl.AUTO_LOGNAME`` (default
            ``<run_dir>/task_logs/NNNN/task_<id>_<name>[_<label>].<stdout|stderr>``).
        internal_tasks_max_threads: threads for join apps and lifted futures.
        strategy, strategy_period, max_idletime, garbage_collect, project_name: upstream's
            keywords, accepted (and checked) so its configs load; scaling is set on each
            executor here (``max_idletime=``, ``strategy_interval=``), finished tasks are
            always dropped, and a kernel logs one line naming any of these set to a value
            other than upstream's default.
        monitoring: record every task's transitions, where it ran, and block events, for
            ``parsl status`` / ``parsl report`` / ``parsl web``: True loads the ``sqlite``
            monitoring plugin (``pip install parsl-monitoring``; it writes
            ``<run dir>/monitoring.db``); a :class:`~parsl.interfaces.Monitor` is used as given.
            Off by default, and free when off.
        controller: the 0.5.0 ``controller`` block, for executors that use one (ipp).
        site_data: per-site ``data`` blocks of a 0.5.0 config (working_dir, globus).
        exit_wait: seconds a script that ends without ``cleanup()`` waits for outstanding
            tasks at exit (default 30); then waiting tasks are failed, running bash
            commands killed and the executors stopped without waiting, with a note on
            stderr. A SIGINT or SIGTERM skips the wait.
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
    initialize_logging: bool | LogConfig = True
    usage_tracking: bool | int = False
    monitoring: bool | Monitor = False
    controller: Mapping[str, Any] | None = None
    site_data: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    retry_handler: Callable[[BaseException, Any], float] | None = None
    exit_mode: str = "cleanup"
    std_autopath: Callable[[Any, str], str] | None = None
    internal_tasks_max_threads: int = 10
    strategy: str | None = "simple"
    strategy_period: float = 5
    max_idletime: float = 120.0
    garbage_collect: bool = True
    project_name: str | None = None
    exit_wait: float = 30.0
    dependency_resolver: DependencyResolver | None = None

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Check every field (again: fields may be assigned after construction); a kernel
        calls this when it loads the config."""
        executors = self.executors
        if executors is None:  # upstream's spelling of "the default"
            executors = _default_executors()
        if isinstance(executors, ParslExecutor):
            executors = (executors,)
        if isinstance(executors, Iterable) and not isinstance(executors, (list, tuple, str, bytes, Mapping)):
            executors = tuple(executors)  # any iterable, as upstream
        if not isinstance(executors, (list, tuple)) or not executors:
            raise ConfigurationError("must be a non-empty list of executors", "executors")
        labels: set[str] = set()
        for i, ex in enumerate(executors):
            if not isinstance(ex, ParslExecutor):
                raise ConfigurationError(f"{ex!r} is not a ParslExecutor", f"executors[{i}]")
            if not isinstance(ex.label, str) or not ex.label.strip():
                raise ConfigurationError(f"must be a non-empty name (apps refer to executors by it), got {ex.label!r}", f"executors[{i}].label")
            if ex.label in labels:
                raise ConfigurationError(f"duplicate executor label {ex.label!r}; labels must be unique", f"executors[{i}].label")
            labels.add(ex.label)
        object.__setattr__(self, "executors", tuple(executors))
        for name in ("lazy_errors", "app_cache"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigurationError(f"must be True or False, got {getattr(self, name)!r}", name)
        self._validate_modern()
        if not isinstance(self.retries, int) or isinstance(self.retries, bool) or not 0 <= self.retries <= MAX_RETRIES:
            raise ConfigurationError(f"must be an integer from 0 to {MAX_RETRIES}, got {self.retries!r}", "retries")
        if isinstance(self.exit_wait, bool) or not isinstance(self.exit_wait, (int, float)) or not 0 <= self.exit_wait <= 86400:
            raise ConfigurationError(f"must be a number of seconds from 0 to 86400, got {self.exit_wait!r}", "exit_wait")
        if self.checkpoint_mode not in CHECKPOINT_MODES:
            raise ConfigurationError(
                f"must be one of {', '.join(repr(m) for m in CHECKPOINT_MODES)}; got {self.checkpoint_mode!r}", "checkpoint_mode"
            )
        if self.checkpoint_period is not None:
            if not isinstance(self.checkpoint_period, str):
                raise ConfigurationError(
                    f'must be an "HH:MM:SS" string, got {type(self.checkpoint_period).__name__} {self.checkpoint_period!r}', "checkpoint_period"
                )
            try:
                seconds = parse_walltime(self.checkpoint_period)
            except ConfigurationError as e:
                raise ConfigurationError(e.message, "checkpoint_period") from None
            if not 0 < seconds <= MAX_CHECKPOINT_PERIOD:
                raise ConfigurationError(f"must be longer than 00:00:00 and at most 8760:00:00 (a year), got {self.checkpoint_period!r}", "checkpoint_period")
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

    def _validate_modern(self) -> None:
        from .logconfigs.base import LogConfig

        if not isinstance(self.initialize_logging, (bool, LogConfig)):
            raise ConfigurationError(
                f"must be True, False or a parsl.logconfigs object (FileLogging, JSONLogging, NoopLogging), got {self.initialize_logging!r}",
                "initialize_logging",
            )
        tracking = self.usage_tracking
        if not isinstance(tracking, (bool, int)) or not 0 <= int(tracking) <= 3:
            raise ConfigurationError(f"must be True/False or a level 0-3, got {tracking!r}", "usage_tracking")
        if self.exit_mode not in EXIT_MODES:
            raise ConfigurationError(f"must be one of {', '.join(map(repr, EXIT_MODES))}; got {self.exit_mode!r}", "exit_mode")
        for name in ("retry_handler", "std_autopath"):
            value = getattr(self, name)
            if value is not None and not callable(value):
                raise ConfigurationError(f"must be a function or None, got {value!r}", name)
        n = self.internal_tasks_max_threads
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigurationError(f"must be a positive integer, got {n!r}", "internal_tasks_max_threads")
        if self.strategy not in UPSTREAM_STRATEGIES:
            raise ConfigurationError(f"must be one of {', '.join(map(repr, UPSTREAM_STRATEGIES))}; got {self.strategy!r}", "strategy")
        for name in ("strategy_period", "max_idletime"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0 or (name == "strategy_period" and v == 0):
                raise ConfigurationError(f"must be a positive number of seconds, got {v!r}", name)
        if not isinstance(self.garbage_collect, bool):
            raise ConfigurationError(f"must be True or False, got {self.garbage_collect!r}", "garbage_collect")

    def ignored_upstream_settings(self) -> list[str]:
        """Upstream keywords set to something other than upstream's default, which have no
        effect here (the kernel logs them once)."""
        return [f"{k}={getattr(self, k)!r}" for k, default in UPSTREAM_IGNORED.items() if getattr(self, k) != default]

    def with_(self, **changes: Any) -> Config:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)
