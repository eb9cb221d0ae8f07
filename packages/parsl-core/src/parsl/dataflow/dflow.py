"""The DataFlowKernel: turns app calls into tasks and runs each when its dependencies are met.

::

    user script                    DataFlowKernel                           executors
    ───────────                    ──────────────                           ─────────
    app(*a, **kw) ──submit_app──▶  TaskRecord(pending) + AppFuture
         ◀──────── AppFuture       │ futures in a / kw / inputs=[...]?
                                   ├─ none ───────────────▶ _launch
                                   └─ some: callback on each; the last one done ─▶ _launch
                                   _launch: parents failed? ─▶ dep_fail (DependencyError)
                                            cached?        ─▶ memo_done
                                            else ─▶ executor.submit(func, *args) ──▶ runs
                                   _exec_done ◀────────────────────── executor future done
                                     failed & retries left ─▶ submit again
                                     else ─▶ AppFuture.set_result / set_exception
                                             (which wakes the dependants' callbacks)

Every state change goes through :func:`parsl.dataflow.states.next_state`. Callbacks that
complete futures can cascade (a chain of cache hits, a chain of dependency failures); a
per-thread trampoline turns that recursion into a loop. The kernel owns no subsystem: the
executors, the memoizer and the data manager arrive through :mod:`parsl.interfaces`.
"""
from __future__ import annotations

import atexit
import concurrent.futures
import itertools
import logging
import os
import random
import threading
import time
import uuid
from collections import deque
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..app.errors import DependencyError, JoinError, RemoteExceptionWrapper, UnkeyableArgument
from ..app.futures import DataFuture
from ..config import Config
from ..data_provider.data_manager import needs_staging
from ..errors import ConfigurationError, WorkflowAborted
from ..interfaces import ExecutorContext, Memoizer, MonitoredCall, ParslExecutor
from ..interfaces.task_feed import pack_launch as _pack_launch
from . import exit_signals as _signals
from . import loader
from .dependencies import describe, failed_parents
from .dependency_resolvers import DependencyResolver, gather_call, normalise_inputs, unwrap_call
from .dflow_050 import DFK050Methods
from .error import KernelClosed
from .failures import charge_failure, memoize_failure
from .futures import AppFuture
from .kernel_setup import apply_dfk_keywords, default_memoizer, peek_count, resolve_config, start_monitor, start_run_log
from .loader import DataFlowKernelLoader as DataFlowKernelLoader  # upstream's path
from .monitor_hooks import record_edges, try_ended
from .rundir import make_rundir
from .shutdown import shutdown_executors
from .states import Event, States
from .std_paths import default_std_autopath, resolve_auto_streams
from .stragglers import STRAGGLER_GRACE, claim_stragglers, wait_bounded
from .taskrecord import TaskRecord

if TYPE_CHECKING:
    from ..app.app import AppBase
    from ..data_provider.data_manager import DataManager

logger = logging.getLogger("parsl.dataflow")

_INTERNAL = "_parsl_internal"
_time = time.time
_WAIT_REPORT_SECONDS = 10.0


class DataFlowKernel(DFK050Methods):
    """The DataFlowKernel adds dependency awareness to an existing executor.

    It is responsible for managing futures, such that when dependencies are resolved, pending
    tasks move to the runnable state.

    Keyword arguments given here override the same options in ``config``.

    KWargs:
        config (dict | Config): a 0.5.0 config dict or a typed :class:`~parsl.config.Config`
        executors (list of executors): instead of a config
        lazyErrors (bool): Default=True, allow workflow to continue on app failures (``lazy_fail`` is the same switch)
        appCache (bool): Enable caching of apps
        rundir (str): Path to run directory. Defaults to ``./runinfo/NNN``
        retries (int): Default=0, the number of retry attempts in case of failure
        checkpointFiles (list of str): checkpoint files or directories to load
        checkpointMode (None, 'dfk_exit', 'task_exit', 'periodic', 'manual')
        checkpointPeriod (str): "HH:MM:SS" between checkpoints in periodic mode
        data_manager (DataManager): User created DataManager
        dependency_resolver (DependencyResolver): which futures are dependencies (:mod:`parsl.dataflow.dependency_resolvers`)
    """

    #: seconds :meth:`cleanup` gives the executors, together, to shut down
    executor_shutdown_timeout: float = 30.0

    def __init__(
        self,
        config: Config | dict[str, Any] | None = None,
        executors: Sequence[ParslExecutor] | None = None,
        lazyErrors: bool | None = None,
        appCache: bool | None = None,
        rundir: str | None = None,
        retries: int | None = None,
        checkpointFiles: Sequence[str] | None = None,
        checkpointMode: str | None = None,
        data_manager: DataManager | None = None,
        *,
        lazy_fail: bool | None = None,
        checkpointPeriod: str | None = None,
        memoizer: Memoizer | None = None,
        dependency_resolver: DependencyResolver | None = None,
    ) -> None:
        cfg = apply_dfk_keywords(
            resolve_config(config, executors),
            lazyErrors=lazyErrors,
            lazy_fail=lazy_fail,
            appCache=appCache,
            retries=retries,
            checkpointFiles=checkpointFiles,
            checkpointMode=checkpointMode,
            checkpointPeriod=checkpointPeriod,
            memoizer=memoizer,
            data_manager=data_manager,
            dependency_resolver=dependency_resolver,
        )
        self._config = cfg

        self.run_dir = os.path.abspath(rundir) if rundir else make_rundir(cfg.run_dir)
        if rundir:
            os.makedirs(self.run_dir, mode=0o700, exist_ok=True)
        self.run_id = str(uuid.uuid4())
        self._log_detach = start_run_log(self.run_dir, cfg.initialize_logging)
        ignored = cfg.ignored_upstream_settings()
        if ignored:
            logger.info("upstream Config settings with no effect here: %s (scaling is set on each executor)", ", ".join(ignored))

        self.lazy_fail = cfg.lazy_errors
        self.retries = cfg.retries
        self.dependency_resolver = cfg.resolver
        self._retry_handler = cfg.retry_handler
        #: how long cleanup waits, once nothing else runs, for tasks blocked on futures
        #: that nothing in this kernel will complete; then they fail (UnfinishableTask)
        self.straggler_grace = STRAGGLER_GRACE
        self._closing = False
        self._idle = threading.Event()
        self._lift_apps: dict[str, AppBase] = {}
        self.memoizer: Memoizer = cfg.memoizer if cfg.memoizer is not None else default_memoizer(cfg)  # an empty one is falsy
        try:
            self.memoizer.start(self.run_dir)  # loads checkpointFiles: may refuse them
        except BaseException:
            self._stop_logging()
            raise
        self._memo_enabled = cfg.app_cache
        try:
            self._monitor = start_monitor(cfg.monitoring, self.run_id, self.run_dir)
            self._feed = self._monitor.feed if self._monitor is not None else None
        except BaseException:
            self.memoizer.close()
            self._stop_logging()
            raise

        self._ids = itertools.count()
        self._tasks: dict[int, TaskRecord] = {}
        self._dep_lock = threading.Lock()
        self._tls = threading.local()
        self._aborted: WorkflowAborted | None = None
        self.closed = False
        self._cleanup_lock = threading.Lock()

        self.executors: dict[str, ParslExecutor] = {}
        context = ExecutorContext(
            run_id=self.run_id, run_dir=self.run_dir, settings={"controller": dict(cfg.controller or {})}, monitor=self._monitor
        )
        started: list[ParslExecutor] = []
        try:
            for ex in cfg.executors:
                if ex.label == _INTERNAL:
                    raise ConfigurationError(f"the executor label {_INTERNAL!r} is reserved", "executors")
                ex.start(context)
                started.append(ex)
                self.executors[ex.label] = ex
        except BaseException:
            for ex in started:
                ex.shutdown(block=False)
            self.memoizer.close()
            if self._monitor is not None:
                self._monitor.close()
            self._stop_logging()
            raise
        self._context = context
        self._choices = list(self.executors.values())
        self._site_cache: dict[tuple[str, ...], list[ParslExecutor]] = {}
        self._internal: ParslExecutor | None = None
        self._data_manager = cfg.data_manager
        if self._data_manager is not None and self._data_manager.dfk is None:
            self._data_manager.dfk = self  # a DataManager made before its kernel

        self._usage = None
        self._failed = itertools.count()
        if cfg.usage_tracking or os.environ.get("PARSL_TRACKING"):
            from ..usage_tracking import UsageTracker, resolve

            endpoint = resolve(bool(cfg.usage_tracking))
            if endpoint is not None:
                self._usage = UsageTracker(endpoint, self.run_id, len(self.executors))
                self._usage.start()

        logger.info(
            "DataFlowKernel started: run dir %s, executors %s, lazy errors %s, retries %d",
            self.run_dir,
            ", ".join(f"{k}={type(v).__name__}" for k, v in self.executors.items()),
            self.lazy_fail,
            self.retries,
        )
        atexit.register(self._atexit)
        _signals.install()
        loader._became_live(self)

    # -- public API ------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """Returns the fully initialized config that the DFK is actively using. DO NOT update."""
        return self._config

    @property
    def data_manager(self) -> DataManager:
        dm = self._data_manager
        if dm is None:
            from ..data_provider.data_manager import DataManager

            dm = self._data_manager = DataManager(self)
        return dm

    def check_sites(self, sites: Sequence[str], app_name: str = "app") -> list[ParslExecutor]:
        """The executors for ``sites``; a ConfigurationError lists the configured ones."""
        key = tuple(sites)
        exs = self._site_cache.get(key)
        if exs is None:
            # the internal executor's label is accepted, as upstream's staging providers use it
            unknown = [s for s in key if s not in self.executors and s != _INTERNAL]
            if unknown:
                raise ConfigurationError(
                    f"app {app_name} names unknown site(s) {', '.join(map(repr, unknown))}; "
                    f"configured sites: {', '.join(map(repr, self.executors))}",
                    "sites",
                )
            exs = self._site_cache[key] = [self.executors[s] if s != _INTERNAL else self._internal_executor() for s in key]
        return exs

    def submit(
        self,
        func: Callable[..., Any],
        /,
        *args: Any,
        parsl_sites: str | Sequence[str] = "all",
        fn_hash: str | None = None,
        cache: bool = False,
        **kwargs: Any,
    ) -> AppFuture:
        """Add task to the dataflow system (the 0.5.0 low-level entry; apps call
        :meth:`submit_app`). Returns the call's AppFuture (its DataFutures are on
        ``.outputs``)."""
        from ..app.app import PythonApp

        app = PythonApp(func, self, walltime=None, sites=parsl_sites, cache=cache)
        if fn_hash is not None:
            app._fn_hash = fn_hash
        return self.submit_app(app, args, kwargs)

    def submit_app(self, app: AppBase, args: tuple[Any, ...], kwargs: dict[str, Any]) -> AppFuture:
        """Create the task for one call of ``app``; return its AppFuture at once."""
        if self._aborted is not None:
            raise self._aborted
        if self.closed:
            raise KernelClosed("this DataFlowKernel has been cleaned up; load a new one to run more apps")
        sites = app.sites
        if sites is not None and sites not in self._site_cache:
            self.check_sites(sites, app.func_name)
        tid = next(self._ids)
        fu = AppFuture(tid=tid)
        kind = app.kind
        outputs = kwargs.get("outputs")
        if outputs:
            fu._outputs = [DataFuture(fu, o, tid=tid) for o in outputs]
        cache = app.cache and self._memo_enabled
        func = app.executable if "walltime" not in kwargs else app.executable_for(kwargs)
        record = TaskRecord(
            tid,
            func,
            app.func_name,
            app.fn_hash if cache else "",
            args,
            kwargs,
            fu,
            sites,
            cache,
            app.ignore_for_cache,
            kind == "join",
            self,
            app.internal,
        )
        fu.task_record = record
        if kind == "bash":
            record.bash = True
            defaults = app.std_defaults()
            if defaults or "stdout" in kwargs or "stderr" in kwargs:
                resolve_auto_streams(record, defaults, self._std_autopath)
            fu.stdout, fu.stderr = app.std_streams(kwargs)
        if "inputs" in kwargs:
            normalise_inputs(kwargs)
        found = gather_call(self.dependency_resolver, args, kwargs)
        if (outputs or kwargs.get("inputs")) and kind != "join" and needs_staging(kwargs.get("inputs"), outputs):
            # remote files are staged where the task runs, so its executor is chosen now
            record.sites = (self._pick_executor(sites).label,)
            self.check_sites(record.sites)
            record.func, record.kwargs, fu._outputs = self.data_manager.stage_task(record.sites[0], record.func, kwargs, found, fu, tid)
        self._tasks[tid] = record
        feed = self._feed
        if feed is not None:  # monitoring: held until its row is written (feed.hold, inline)
            record.log = feed
            record.submitted = _time()
            feed.unpublished[tid] = record
            if found:
                record_edges(feed, tid, found)
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("task %d %s submitted with %d dependencies", tid, app.func_name, len(found))
        if found:
            record.depends = found
            record.pending = len(found) + 1
            cb = partial(self._dep_done, record)
            for f in found:
                f.add_done_callback(cb)
            self._dep_done(record, None)
        else:
            self._schedule(record)
        return fu

    def wait_for_current_tasks(self) -> None:
        """Wait until every task submitted so far (and any they submit) has finished."""
        start = time.monotonic()
        stop_display = self._progress_display()
        try:
            while True:
                outstanding = [f for r in list(self._tasks.values()) if (f := r.app_fu) is not None]
                if not outstanding:
                    return
                _, not_done = concurrent.futures.wait(outstanding, timeout=_WAIT_REPORT_SECONDS)
                if not_done:
                    logger.info("waiting for %d outstanding tasks (%.0f s so far)", len(not_done), time.monotonic() - start)
        finally:
            if stop_display is not None:
                stop_display()

    def _progress_display(self) -> Callable[[], None] | None:
        """Start the monitor's progress display while tasks are outstanding; return its stop."""
        return self._monitor.progress_display() if self._monitor is not None and self._tasks else None

    def checkpoint(self) -> str | None:
        """Checkpoint the dfk incrementally: every completed, cached task not yet checkpointed
        is written. Returns the checkpoint directory."""
        return self.memoizer.checkpoint()

    def load_checkpoints(self, checkpointDirs: Sequence[str] | None) -> Mapping[str, Any]:
        """Load checkpoints from the given run or checkpoint directories into the memoizer."""
        return self.memoizer.load_checkpoints(list(checkpointDirs or []))

    def cleanup(self, wait: bool = True) -> None:
        """DataFlowKernel cleanup: wait for outstanding tasks (or, with ``wait=False``, fail
        those not yet running), write the final checkpoint, shut every executor down and stop
        the run log. Idempotent; also runs at interpreter exit.

        Executors shut down in parallel, bounded by :attr:`executor_shutdown_timeout` seconds
        in total (default 30): past it, cleanup returns and names the executors still busy.
        Tasks whose workers can never start fail (executors cap failed block starts), so
        ``wait=True`` waits only for tasks that are running or can run."""
        with self._cleanup_lock:
            if self.closed:
                return
            if wait:
                self._closing = True
                stop_display = self._progress_display()
                try:
                    wait_bounded(self)
                finally:
                    if stop_display is not None:
                        stop_display()
            else:
                self._fail_pending(KernelClosed("the DataFlowKernel was cleaned up before this task could run"))
            self.closed = True
        loader._closed(self)
        try:
            self.memoizer.close()
        except Exception:
            logger.exception("closing the memoizer failed")
        shutdown_executors([*self.executors.values(), *([self._internal] if self._internal else [])], self.executor_shutdown_timeout)
        if self._data_manager is not None:
            self._data_manager.shutdown()
        if self._monitor is not None:
            try:
                self._monitor.close()
            except Exception:
                logger.exception("closing the monitor failed")
        failed = peek_count(self._failed)
        logger.info("DataFlowKernel cleaned up: %d tasks submitted, %d failed", self.task_count, failed)
        if self._usage is not None:
            self._usage.end(self.task_count, failed)
        self._stop_logging()
        atexit.unregister(self._atexit)

    @property
    def task_count(self) -> int:
        """Tasks submitted so far."""
        return peek_count(self._ids)

    @property
    def tasks(self) -> Mapping[int, TaskRecord]:
        """The records of the tasks not finished yet, by id (read-only; upstream's
        ``dfk.tasks``)."""
        return MappingProxyType(self._tasks)

    def __enter__(self) -> DataFlowKernel:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        """Leaving ``with parsl.load(config):`` as ``Config.exit_mode`` says: ``"cleanup"``
        and ``"wait"`` clean up, which waits for the outstanding tasks (nothing is dropped;
        tasks that can never finish fail after a bounded wait); ``"skip"`` leaves the kernel
        as it is (it is cleaned up at interpreter exit)."""
        if self._config.exit_mode == "skip":
            logger.info("leaving the kernel's with-block: exit_mode 'skip', no cleanup")
            return
        self.cleanup()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "live"
        return f"<DataFlowKernel {state} run_dir={self.run_dir!r} executors={list(self.executors)}>"

    # -- the task life-cycle ---------------------------------------------------------------

    def _dep_done(self, record: TaskRecord, _fut: Any) -> None:
        with self._dep_lock:
            record.pending -= 1
            if record.pending != 0:
                return
        self._schedule(record)

    def _schedule(self, record: TaskRecord) -> None:
        """Launch ``record`` now, or after the launch this thread is already doing."""
        tls = self._tls
        q = getattr(tls, "q", None)
        if q is not None:
            q.append(record)
            return
        tls.q = q = deque((record,))
        try:
            while q:
                self._launch(q.popleft())
        finally:
            tls.q = None

    def _launch(self, record: TaskRecord) -> None:
        if record.state is not States.pending:
            return
        fu = record.app_fu
        if fu is None:  # it has already ended
            return
        if fu.cancelled():
            # the user cancelled it before it could run: it ends without running
            record.on(Event.fail)
            self._tasks.pop(record.id, None)
            record.depends = None
            return
        try:
            deps = record.depends
            if deps:
                failed = failed_parents(deps)
                if failed:
                    record.on(Event.dep_fail)
                    exc = DependencyError(
                        [e for _, e in failed],
                        f"Dependency failure for task {record.id} ({record.func_name})",
                        record.kwargs.get("outputs"),
                        dependent_tasks=[getattr(f, "tid", None) for f, _ in failed],
                        descriptions=[describe(f, self) for f, _ in failed],
                        task_id=record.id,
                    )
                    self._finish(record, exc=exc)
                    return
                record.args, record.kwargs = unwrap_call(self.dependency_resolver, record.args, record.kwargs)
                record.depends = None
            if self._aborted is not None:
                record.on(Event.fail)
                self._finish(record, exc=self._aborted)
                return
            if record.cache:
                try:
                    hit = self.memoizer.lookup(record)
                except UnkeyableArgument as e:
                    record.on(Event.fail)
                    self._finish(record, exc=e)
                    return
                if hit is not None:
                    record.on(Event.memo_hit)
                    if logger.isEnabledFor(logging.DEBUG):
                        logger.debug("task %d %s: cache hit", record.id, record.func_name)
                    self._finish(record, result=hit.value, exc=hit.exception)
                    return
            record.on(Event.launch)
            self._send(record)
        except BaseException as e:  # an error of ours must fail the task, never lose it
            logger.exception("launching task %d failed", record.id)
            if record.app_fu is not None and not record.app_fu.done():
                record.state = States.failed
                self._finish(record, exc=e)

    def _send(self, record: TaskRecord) -> None:
        ex = self._internal_executor() if record.join or record.internal else self._pick_executor(record.sites)
        record.executor = ex
        log = record.log
        func = record.func
        if log is not None:  # monitoring: this try is launched (in the order task_feed needs)
            record.try_no = tries = record.fail_count
            record.launched = now = _time()
            if record.id not in log.unpublished:  # its row is out: a live view needs the launch now
                log.launches.append(_pack_launch(record.id, tries, log.codes[ex.label], now))
            if not ex.times_runs:
                func = MonitoredCall(func, record.bash)  # noted where and when it ran, on the worker
        try:
            fut = ex.submit(func, *record.args, **record.kwargs)
        except Exception as e:
            logger.error("task %d could not be submitted to executor %s: %s", record.id, ex.label, e)
            record.on(Event.fail)
            self._finish(record, exc=e)
            return
        record.exec_fu = fut
        fut.add_done_callback(partial(self._exec_done, record))

    def _lift(self, fut: AppFuture, op: str, operand: Any) -> AppFuture:
        """``fut[operand]`` / ``getattr(fut, operand)`` as a new task on the internal threads."""
        app = self._lift_apps.get(op)
        if app is None:
            from .lifting import lifting_app

            app = self._lift_apps[op] = lifting_app(op, self)
        return self.submit_app(app, (fut, operand), {})

    def _std_autopath(self, record: TaskRecord, kw: str) -> str:
        make = self._config.std_autopath
        return make(record, kw) if make is not None else default_std_autopath(self.run_dir, record, kw)

    def _exec_done(self, record: TaskRecord, fut: concurrent.futures.Future[Any]) -> None:
        exc: BaseException | None
        try:
            result = fut.result()
            exc = None
        except BaseException as e:
            exc, result = e, None
        if isinstance(result, RemoteExceptionWrapper):
            exc, result = result.get_exception(), None
        if record.log is not None:  # monitoring: where and when this try ran, for its row
            if getattr(fut, "parsl_started", None) is not None and not record.bash:
                record.run = fut  # a python app on this process's threads: the future has it
            else:
                result = try_ended(record, fut, result, exc)
        record.exec_fu = None
        if exc is not None:
            record.fail_count += 1
            exc = self._charge_failure(record, exc)
            if record.fail_cost <= self.retries and self._aborted is None and not self.closed:
                record.on(Event.retry)
                logger.info("task %d %s failed (%s: %s); retry %d of %d", record.id, record.func_name, type(exc).__name__, exc, record.fail_count, self.retries)
                self._send(record)
                return
            record.on(Event.fail)
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("task %d %s failed: %r", record.id, record.func_name, exc)
            self._memoize_failure(record, exc)
            self._finish(record, exc=exc)
            return
        if record.join:
            self._join(record, result)
            return
        record.on(Event.succeed)
        if record.cache:
            try:
                self.memoizer.update(record, result)
            except Exception:
                logger.exception("could not memoize the result of task %d", record.id)
        self._finish(record, result=result)

    def _join(self, record: TaskRecord, inner: Any) -> None:
        if isinstance(inner, concurrent.futures.Future):
            futures = [inner]
        elif isinstance(inner, (list, tuple)) and all(isinstance(f, concurrent.futures.Future) for f in inner):
            futures = list(inner)
        else:
            record.on(Event.fail)
            self._finish(record, exc=TypeError(f"join app {record.func_name} must return a future or a list of futures, not {type(inner).__name__}"))
            return
        record.on(Event.join)
        record.depends = futures  # what it waits for now (read by the straggler check)
        remaining = [len(futures)]
        lock = threading.Lock()

        def one_done(_f: Any) -> None:
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            failed = failed_parents(futures)
            if failed:
                if not self._claim(record, Event.fail):
                    return
                exc = JoinError(
                    [e for _, e in failed],
                    f"Join failure for task {record.id} ({record.func_name}): futures it returned failed",
                    dependent_tasks=[getattr(f, "tid", None) for f, _ in failed],
                    descriptions=[describe(f, self) for f, _ in failed],
                    task_id=record.id,
                )
                self._memoize_failure(record, exc)
                self._finish(record, exc=exc)
                return
            if not self._claim(record, Event.succeed):
                return
            value = futures[0].result() if isinstance(inner, concurrent.futures.Future) else [f.result() for f in futures]
            if record.cache:
                self.memoizer.update(record, value)
            self._finish(record, result=value)

        if not futures:
            record.on(Event.succeed)
            self._finish(record, result=[])
            return
        for f in futures:
            f.add_done_callback(one_done)

    def _finish(self, record: TaskRecord, result: Any = None, exc: BaseException | None = None) -> None:
        self._tasks.pop(record.id, None)
        if self._closing and not self._tasks:
            self._idle.set()
        record.depends = None
        # the future keeps its record (fut.task_record); the arguments are not needed any
        # more, and dropping the record's link back to the future breaks the cycle, so both
        # are freed by reference counting once the script drops the future
        record.args = ()
        record.func = None  # type: ignore[assignment]
        fu = record.app_fu
        if fu is None:
            return
        record.app_fu = None  # type: ignore[assignment]
        if fu.cancelled():
            return
        if exc is None:
            fu.set_result(result)
            return
        fu.set_exception(exc)
        next(self._failed)
        if record.log is not None:
            record.log.failed(record.id, exc)
        if not self.lazy_fail and record.state is States.failed and self._aborted is None:
            self._abort(record, exc)

    def _charge_failure(self, record: TaskRecord, exc: BaseException) -> BaseException:
        return charge_failure(record, exc, self._retry_handler, self.retries)

    def _memoize_failure(self, record: TaskRecord, exc: BaseException) -> None:
        if record.cache:
            memoize_failure(self.memoizer, record, exc)

    def _claim(self, record: TaskRecord, event: Event) -> bool:
        """Apply ``event`` unless the task already ended (callbacks and the straggler check
        may race to end a waiting task)."""
        with self._dep_lock:
            if record.state.final:
                return False
            record.on(event)
            return True

    def _fail_stragglers(self, waited: float) -> int:
        """Fail every task still blocked on a future nothing in this kernel will complete."""
        victims = claim_stragglers(self, waited)
        for record, exc in victims:
            self._finish(record, exc=exc)
        return len(victims)

    def _abort(self, record: TaskRecord, exc: BaseException) -> None:
        aborted = WorkflowAborted(record.id, exc)
        with self._dep_lock:
            if self._aborted is not None:
                return
            self._aborted = aborted
        logger.error("%s", aborted)
        self._fail_pending(aborted)

    def _fail_pending(self, exc: BaseException) -> None:
        """Fail every task still waiting for its dependencies."""
        victims: list[TaskRecord] = []
        with self._dep_lock:
            for r in list(self._tasks.values()):
                if r.state is States.pending and r.pending > 0:
                    r.pending = -1  # its last dependency will no longer launch it
                    victims.append(r)
        for r in victims:
            r.on(Event.fail)
            self._finish(r, exc=exc)

    # -- helpers ---------------------------------------------------------------------------

    def _pick_executor(self, sites: tuple[str, ...] | None) -> ParslExecutor:
        choices = self._choices if sites is None else self._site_cache[sites]
        return choices[0] if len(choices) == 1 else random.choice(choices)

    def _internal_executor(self) -> ParslExecutor:
        ex = self._internal
        if ex is None:
            from ..executors.threads import ThreadPoolExecutor

            with self._cleanup_lock:
                if self._internal is None:
                    new = ThreadPoolExecutor(
                        max_workers=self._config.internal_tasks_max_threads, thread_name_prefix="parsl-internal", label=_INTERNAL
                    )
                    new.start(self._context)
                    self._internal = new
                ex = self._internal
        return ex

    def _atexit(self) -> None:
        from .exit_policy import exit_without_cleanup

        exit_without_cleanup(self)

    def _stop_logging(self) -> None:
        detach = self._log_detach
        if detach is not None:
            self._log_detach = None
            detach()

