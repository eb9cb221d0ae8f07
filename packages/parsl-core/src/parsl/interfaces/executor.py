"""The executor interface: what the DataFlowKernel needs from anything that runs tasks.

::

    DataFlowKernel ──start(ExecutorContext)──▶ executor      (once, before the first task)
                   ──submit(func, *a, **kw)──▶ executor ──▶ Future (concurrent.futures.Future)
                   ◀──────── result / exception on that future
                   ──scale_out(n) / scale_in(n)─▶ (blocks; only when scaling_enabled)
                   ──shutdown()──────────────▶ (idempotent)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping, Sequence

if TYPE_CHECKING:
    from .monitoring import Monitor
    from .staging import Staging


@dataclass(frozen=True)
class ExecutorContext:
    """Everything an executor learns from the kernel, handed over once in
    :meth:`ParslExecutor.start`: the run id and the run directory (where it may keep its own
    files under ``<run_dir>/<label>/``), plus settings shared by the workflow, and the
    workflow's :class:`~parsl.interfaces.Monitor` (None when monitoring is off), to which an
    executor reports block and worker events."""

    run_id: str
    run_dir: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    monitor: Monitor | None = None


class ParslExecutor(ABC):
    """Define the strict interface for all Executor classes.

    Only :meth:`submit` and :meth:`shutdown` must be written; scaling is optional and is
    announced by :attr:`scaling_enabled`. ``label`` names the executor: it is the site name
    that ``sites=[...]`` on an app refers to.
    """

    label: str = "executor"
    #: set by :meth:`start`; ``None`` before the executor is started
    context: ExecutorContext | None = None
    #: whether the executor runs its workers in a site's ``container`` (through
    #: :class:`~parsl.interfaces.ContainerEngine`); a site with a container on an executor
    #: that does not is a configuration error, never silently ignored
    supports_containers: ClassVar[bool] = False
    #: staging providers for this executor's tasks, tried in order (upstream's
    #: ``storage_access``); ``None``: the ``parsl.staging`` plugin named by each URL scheme
    storage_access: Sequence[Staging] | None = None
    #: where files staged for this executor's tasks land, as its workers see it (``None``:
    #: the task's current directory)
    working_dir: str | None = None
    #: ``True`` when the workers do not share the submitting process's filesystem: staging
    #: providers then move files inside each task, on the worker (an executor opts in)
    stage_on_workers: bool = False
    #: ``True`` when the executor runs tasks on threads of the submitting process and, while the
    #: workflow is monitored (``context.monitor`` set), notes on each future it returns, before
    #: completing it, the attributes ``parsl_started``, ``parsl_ended`` (``time.time()``) and
    #: ``parsl_thread`` (the thread's name); the kernel then sends its tasks bare instead of
    #: through :class:`~parsl.interfaces.MonitoredCall`
    times_runs: ClassVar[bool] = False

    def start(self, context: ExecutorContext) -> None:
        """Start the executor. Called once by the kernel before the first submit."""
        self.context = context

    @abstractmethod
    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``func(*args, **kwargs)`` somewhere; return a future for its result."""

    @property
    def scaling_enabled(self) -> bool:
        """Whether :meth:`scale_out` / :meth:`scale_in` do anything."""
        return False

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Add ``blocks`` blocks of workers; return their block ids."""
        raise NotImplementedError(f"{type(self).__name__} cannot scale out")

    def scale_in(self, blocks: int = 1) -> list[str]:
        """Release ``blocks`` blocks of workers; return their block ids."""
        raise NotImplementedError(f"{type(self).__name__} cannot scale in")

    def status(self) -> list[Any]:
        """The provider's state of each block this executor holds (0.5.0's
        ``executor.status()``); empty for an executor without blocks."""
        return []

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished (used by block scaling)."""
        return 0

    @abstractmethod
    def shutdown(self, block: bool = True) -> None:
        """Stop the executor and release everything it started. Must be idempotent."""

    def __enter__(self) -> ParslExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.shutdown()
