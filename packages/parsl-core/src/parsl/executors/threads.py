"""The thread pool executor: runs apps on threads of the script's own process.

::

    submit(fn, *a, **kw) ──▶ LeanFuture + (fn, a, kw) ──▶ SimpleQueue ──▶ worker threads
                                                                           │ fn(*a, **kw)
         future.set_result / set_exception ◀───────────────────────────────┘

Workers are started on demand up to ``max_workers``; ``shutdown`` puts one stop marker per
worker and (by default) waits for the queued work to finish. A timed python app stuck in a C
call past its walltime is *abandoned* (see :mod:`parsl.app.walltime`): its future fails at the
deadline, a fresh worker takes its place, and the stuck thread exits once the call returns.
"""
from __future__ import annotations

import itertools
import queue
import threading
import time
from concurrent.futures import InvalidStateError
from typing import Any, Callable, Sequence

from ..app.walltime import set_abandon_hook
from ..dataflow.lean_future import LeanFuture
from ..interfaces import ExecutorContext, ParslExecutor, Staging
from .errors import ExecutorShutdown

_STOP = None
_time = time.time
_pool_ids = itertools.count()


def refuse_container(container: Any, where: str) -> None:
    """Threads run apps inside the script's own process: a ``container`` cannot apply."""
    if container:
        from ..errors import ConfigurationError

        raise ConfigurationError(
            "the threads executor runs apps inside this Python process, so it cannot run them in a "
            "container; use an executor that starts workers (\"executor\": \"ipp\") for this site, or remove \"container\"",
            where,
        )


class ThreadPoolExecutor(ParslExecutor):
    """The thread pool executor.

    Kwargs:
        max_threads (int) : Number of threads (Default=2; today's upstream name)
        max_workers (int) : the same (the 0.5.0 name)
        thread_name_prefix (string) : Thread name prefix
        execution_provider : ignored (threads need no provider)
        config (dict) : a 0.5.0 site dict (``execution.maxThreads``, ``max_workers``, ``options.maxThreads``, ``threadNamePrefix``)
        label (string) : the site name apps refer to in ``sites=[...]``
        storage_access (list of Staging) : staging providers for this executor's tasks, tried in order (default: by URL scheme)
        working_dir (string) : where staged files land (default: the current directory)
    """

    def __init__(
        self,
        max_workers: int | None = None,
        thread_name_prefix: str = "",
        execution_provider: Any = None,
        config: dict[str, Any] | None = None,
        label: str = "threads",
        storage_access: Sequence[Staging] | None = None,
        working_dir: str | None = None,
        *,
        max_threads: int | None = None,
        **kwargs: Any,
    ) -> None:
        if max_workers is not None and max_threads is not None and max_workers != max_threads:
            raise ValueError(f"max_workers={max_workers!r} and max_threads={max_threads!r} name the same setting; give one")
        max_workers = max_workers if max_workers is not None else max_threads if max_threads is not None else 2
        if "container" in kwargs:
            refuse_container(kwargs["container"], "container")
        if config:
            execution = config.get("execution", {}) or {}
            refuse_container(execution.get("container"), "execution.container")
            options = execution.get("options", {}) or {}
            max_workers = options.get("maxThreads", execution.get("maxThreads", execution.get("max_workers", max_workers)))
            thread_name_prefix = options.get("threadNamePrefix", thread_name_prefix)
            label = config.get("site", label)
        if kwargs:
            raise TypeError(f"ThreadPoolExecutor got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or not 1 <= max_workers <= 10_000:
            raise ValueError(f"max_workers must be an integer from 1 to 10000, got {max_workers!r}")
        self.max_workers = max_workers
        self.thread_name_prefix = thread_name_prefix or f"ThreadPool-{next(_pool_ids)}"
        self.label = label
        if storage_access is not None:
            if isinstance(storage_access, Staging) or not all(isinstance(p, Staging) for p in storage_access):
                raise TypeError(f"storage_access must be a list of Staging providers, got {storage_access!r}")
            self.storage_access = list(storage_access)
        self.working_dir = working_dir
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._shutdown = False

    @property
    def max_threads(self) -> int:
        """The number of threads (upstream's name for ``max_workers``)."""
        return self.max_workers

    #: monitored, each future carries ``parsl_started``, ``parsl_ended`` and ``parsl_thread``
    times_runs = True

    def __repr__(self) -> str:
        return f"ThreadPoolExecutor(label={self.label!r}, max_workers={self.max_workers})"

    def start(self, context: ExecutorContext) -> None:
        """Start (again): an executor shut down by one kernel can serve the next one, as
        happens when a notebook cell building a DataFlowKernel is run twice."""
        with self._lock:
            if self._shutdown:
                self._queue = queue.SimpleQueue()
                self._threads = []
                self._idle = threading.Semaphore(0)
                self._shutdown = False
        self.context = context

    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> LeanFuture:
        """Submits work to the thread pool; returns a ``concurrent.futures.Future``."""
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        fut = LeanFuture()
        self._queue.put((fut, func, args, kwargs))
        # hand the item to an idle worker, or start one if the pool is not full
        if not self._idle.acquire(blocking=False) and len(self._threads) < self.max_workers:
            self._add_worker()
        return fut

    def _add_worker(self) -> None:
        with self._lock:
            if len(self._threads) >= self.max_workers or self._shutdown:
                return
            t = threading.Thread(
                target=self._work,
                name=f"{self.thread_name_prefix}_{len(self._threads)}",
                daemon=True,
            )
            self._threads.append(t)
            t.start()

    def _work(self) -> None:
        get = self._queue.get
        idle = self._idle
        me = threading.current_thread()
        slot = _Slot(self, me)
        set_abandon_hook(slot.abandon)
        # monitored: note when and where each task ran, on its future (see ``times_runs``)
        timed = self.context is not None and self.context.monitor is not None
        name = me.name
        while True:
            item = get()
            if item is _STOP:
                return
            fut, func, args, kwargs = item
            item = None
            slot.fut = fut
            if fut.set_running_or_notify_cancel():
                started = _time() if timed else 0.0
                try:
                    result = func(*args, **kwargs)
                except BaseException as e:
                    if not slot.retired:
                        if timed:
                            fut.parsl_started, fut.parsl_ended, fut.parsl_thread = started, _time(), name
                        _settle(fut.set_exception, e)
                else:
                    if not slot.retired:
                        if timed:
                            fut.parsl_started, fut.parsl_ended, fut.parsl_thread = started, _time(), name
                        _settle(fut.set_result, result)
            fut = func = args = kwargs = slot.fut = None
            if slot.retired:
                return  # a fresh worker has taken this one's place
            idle.release()

    def _retire(self, thread: threading.Thread) -> None:
        """``thread`` is stuck in an abandoned call: let a fresh worker take its place."""
        with self._lock:
            if thread in self._threads:
                self._threads.remove(thread)
        self._add_worker()

    def scale_out(self, workers: int = 1) -> list[str]:
        """Not implemented for threads: raises NotImplementedError."""
        raise NotImplementedError("the thread pool executor cannot scale out")

    def scale_in(self, workers: int = 1) -> list[str]:
        """Not implemented for threads: raises NotImplementedError."""
        raise NotImplementedError("the thread pool executor cannot scale in")

    def shutdown(self, block: bool = True) -> None:
        """Stop the workers after the queued work; wait for them if ``block``. Idempotent."""
        with self._lock:
            if self._shutdown:
                threads: list[threading.Thread] = []
            else:
                self._shutdown = True
                threads = list(self._threads)
                for _ in threads:
                    self._queue.put(_STOP)
        if block:
            me = threading.current_thread()
            for t in threads:
                if t is not me:
                    t.join()


def _settle(setter: Callable[[Any], None], value: Any) -> None:
    try:
        setter(value)
    except InvalidStateError:
        pass  # abandoned at its walltime just as it finished: the timeout stands


class _Slot:
    """The task a worker thread is running, for the walltime watchdog's abandon hook."""

    __slots__ = ("fut", "pool", "retired", "thread")

    def __init__(self, pool: ThreadPoolExecutor, thread: threading.Thread) -> None:
        self.pool = pool
        self.thread = thread
        self.fut: LeanFuture | None = None
        self.retired = False

    def abandon(self) -> Callable[[BaseException], None] | None:
        fut = self.fut
        if fut is None or self.retired:
            return None
        self.retired = True  # the worker, once its call returns, leaves the future alone

        def finish(exc: BaseException) -> None:
            _settle(fut.set_exception, exc)
            self.pool._retire(self.thread)

        return finish
