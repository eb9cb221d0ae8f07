"""The data manager: stages files in and out through staging providers (upstream's contract,
:class:`~parsl.interfaces.Staging`).

::

    app(inputs=[File('https://h/x')], outputs=[File('ftp://h/y')])   (kernel: stage_task)
      │  executor chosen at submit ─▶ its storage_access, else the parsl.staging plugin
      │                               named by the URL scheme (from_site_data(site's data))
      ├─ input:  provider.stage_in  ─▶ DataFuture ─▶ a dependency of the task
      │          provider.replace_task ─▶ the task's function fetches first (on the worker)
      └─ output: provider.stage_out ─▶ future ─▶ the output's DataFuture resolves after it
                 provider.replace_task_stage_out ─▶ the task's function pushes after it ran
    blocking transfers (``transfer``) run on the manager's own threads (``max_threads``)

    File.stage_in() / stage_out()  (0.5.0, explicit) ─▶ the same providers, for one site
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..app.futures import DataFuture
from ..dataflow.lean_future import LeanFuture
from ..errors import PluginNotFound
from ..interfaces.staging import Staging
from .errors import StagingError
from .files import File

if TYPE_CHECKING:
    from ..dataflow.dflow import DataFlowKernel
    from ..executors.threads import ThreadPoolExecutor
    from ..interfaces import ParslExecutor


def needs_staging(inputs: Any, outputs: Any) -> bool:
    """Whether an app's ``inputs=`` / ``outputs=`` hold a File (or a DataFuture of one)
    that lives elsewhere than the local filesystem."""
    for group in (inputs, outputs):
        if group and isinstance(group, (list, tuple)):
            for item in group:
                f = item.file_obj if isinstance(item, DataFuture) else item
                if isinstance(f, File) and f.is_remote:
                    return True
    return False


def _staged_file(file: File) -> File:
    """The task an explicit stage-in runs on a worker: the fetch happens in its wrapper."""
    return file


class DataManager:
    """Moves files for one kernel. ``working_dir`` is where staged copies land when neither the
    executor nor its 0.5.0 site (``data.working_dir``) says; ``max_threads`` bounds the
    transfers that run at once on the submitting side."""

    def __init__(self, dfk: DataFlowKernel | None = None, max_threads: int = 8, working_dir: str | None = None) -> None:
        self.dfk = dfk
        self.max_threads = max_threads
        self.working_dir = working_dir
        self._pool: ThreadPoolExecutor | None = None
        self._providers: dict[tuple[str, str], Staging] = {}
        self._futures: dict[tuple[str, str], DataFuture] = {}
        self._stage_outs: dict[str, DataFuture] = {}
        self._lock = threading.Lock()

    # -- where a task runs and what it may use ---------------------------------------------

    def executor(self, label: str) -> ParslExecutor | None:
        return self.dfk.executors.get(label) if self.dfk is not None else None

    def site_data(self, label: str) -> Mapping[str, Any]:
        """The 0.5.0 ``data`` block of the executor's site (empty if none)."""
        return self.dfk.config.site_data.get(label, {}) if self.dfk is not None else {}

    def working_dir_for(self, label: str) -> str | None:
        """Where files staged for ``label``'s tasks land (seen from where those tasks run)."""
        ex = self.executor(label)
        return (ex.working_dir if ex is not None else None) or self.site_data(label).get("working_dir") or self.working_dir

    def local_path_for(self, label: str, file: File) -> str:
        wd = self.working_dir_for(label)
        return os.path.join(wd, file.filename) if wd else file.filename

    def stages_on_workers(self, label: str) -> bool:
        """True when ``label``'s tasks do not see this process's files: staging happens inside
        each task, on the worker."""
        ex = self.executor(label)
        return bool(ex is not None and ex.stage_on_workers)

    def _label(self, site: str | None) -> str:
        if self.dfk is None:
            return site or "local"
        if site is not None:
            self.dfk.check_sites([site], "stage_in/stage_out")
            return site
        return next(iter(self.dfk.executors))

    def provider_for(self, label: str, file: File, out: bool = False) -> Staging:
        """The first of the executor's ``storage_access`` that can move ``file`` (that way),
        else the staging plugin registered for its URL scheme."""
        ex = self.executor(label)
        explicit = ex.storage_access if ex is not None else None
        if explicit is not None:
            for candidate in explicit:
                if (candidate.can_stage_out(file) if out else candidate.can_stage_in(file)):
                    return candidate
            names = ", ".join(type(c).__name__ for c in explicit) or "none"
            raise StagingError(
                file.url, "out" if out else "in",
                f"executor {label!r} has no storage_access provider for the {file.scheme!r} scheme (it has: {names})",
            )
        key = (label, file.scheme)
        p = self._providers.get(key)
        if p is None:
            from .. import plugins

            try:
                cls = plugins.get("staging", file.scheme)  # PluginNotFound lists what is installed
            except PluginNotFound as e:
                if e.install_hint is None:
                    e.args = (
                        f"{e.args[0]}; a File with the {file.scheme!r} scheme needs a staging provider: give one in the "
                        "executor's storage_access=[...], or install a distribution that registers it in the 'parsl.staging' entry-point group",
                    )
                raise
            p = self._providers[key] = cls.from_site_data(self.site_data(label))
        if not (p.can_stage_out(file) if out else p.can_stage_in(file)):
            raise StagingError(file.url, "out" if out else "in", f"the {file.scheme!r} staging plugin ({type(p).__name__}) cannot stage files {'out' if out else 'in'}")
        return p

    # -- blocking transfers, run on the manager's threads ----------------------------------

    def transfer(self, file: File, direction: str, fn: Callable[[], Any], after: Future[Any] | None = None) -> LeanFuture:
        """Run ``fn()`` (one blocking transfer of ``file``) on the manager's threads, after
        ``after`` succeeds if given; the future fails with a :class:`StagingError` naming the
        file if the transfer (or ``after``) fails."""
        out = LeanFuture()

        def run() -> None:
            if not out.set_running_or_notify_cancel():
                return
            try:
                fn()
            except StagingError as e:
                out.set_exception(e)
            except Exception as e:
                err = StagingError(file.url, direction, f"{type(e).__name__}: {e}")
                err.__cause__ = e
                out.set_exception(err)
            else:
                out.set_result(file)

        def start(parent: Future[Any] | None) -> None:
            if parent is not None:
                exc = parent.exception() if not parent.cancelled() else StagingError(file.url, direction, "its producing task was cancelled")
                if exc is not None:
                    out.set_exception(exc)
                    return
            self._threads().submit(run)

        if after is None:
            start(None)
        else:
            after.add_done_callback(start)
        return out

    def _threads(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                from ..executors.threads import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=self.max_threads, thread_name_prefix="parsl-staging", label="_parsl_staging")
            return self._pool

    # -- the kernel's hook -----------------------------------------------------------------

    def stage_task(
        self, label: str, func: Callable[..., Any], kwargs: dict[str, Any], found: list[Future[Any]], app_fu: Future[Any], tid: int | None = None
    ) -> tuple[Callable[..., Any], dict[str, Any], list[DataFuture]]:
        """Stage a task's remote ``inputs=`` in and its remote ``outputs=`` out on executor
        ``label``: returns the (maybe wrapped) function, the kwargs with each remote File
        bound to its local path (or replaced by the DataFuture of its staged copy, which is
        appended to ``found``), and the DataFutures of the outputs."""
        inputs = kwargs.get("inputs")
        outputs = list(kwargs.get("outputs") or ())
        if kwargs.get("_parsl_staging_inhibit"):  # a staging task of an upstream-style provider
            return func, kwargs, [DataFuture(app_fu, o, tid=tid) for o in outputs]
        kwargs = dict(kwargs)
        if inputs:
            new_inputs: list[Any] = []
            for item in inputs:
                file, parent = (item.file_obj, item) if isinstance(item, DataFuture) else (item, None)
                if not (isinstance(file, File) and file.is_remote):
                    new_inputs.append(item)
                    continue
                replacement, func = self._stage_in_one(label, file, parent, func)
                if isinstance(replacement, Future) and replacement is not parent:
                    found.append(replacement)
                new_inputs.append(replacement)
            kwargs["inputs"] = type(inputs)(new_inputs) if isinstance(inputs, (list, tuple)) else new_inputs
        dfs: list[DataFuture] = []
        if outputs:
            bound_outputs: list[Any] = []
            for o in outputs:
                if not (isinstance(o, File) and o.is_remote):
                    bound_outputs.append(o)
                    dfs.append(DataFuture(app_fu, o, tid=tid))
                    continue
                copy = o.cleancopy()
                p = self.provider_for(label, copy, out=True)
                done = p.stage_out(self, label, copy, app_fu)
                func = p.replace_task_stage_out(self, label, copy, func) or func
                bound = o.with_local_path(copy.local_path or self.local_path_for(label, o))
                bound_outputs.append(bound)
                df = DataFuture(done if done is not None else app_fu, bound, tid=tid)
                self._stage_outs[o.url] = df
                dfs.append(df)
            kwargs["outputs"] = bound_outputs
        return func, kwargs, dfs

    def _stage_in_one(self, label: str, file: File, parent: Future[Any] | None, func: Callable[..., Any]) -> tuple[Any, Callable[..., Any]]:
        cached = self._cached(file, label)
        if cached is not None:
            return cached, func
        copy = file.cleancopy()
        p = self.provider_for(label, copy)
        fut = p.stage_in(self, label, copy, parent)
        func = p.replace_task(self, label, copy, func) or func
        staged = file.with_local_path(copy.local_path) if copy.local_path else file
        if fut is None:
            return staged, func
        df = DataFuture(fut, staged)
        self._futures[(file.url, label)] = df
        return df, func

    def _cached(self, file: File, label: str) -> DataFuture | None:
        """A stage-in of the same URL for the same executor, still valid: running, or done
        and its copy still on disk (re-checked on every hit)."""
        df = self._futures.get((file.url, label))
        if df is None or self.stages_on_workers(label):
            return None
        if not df.done():
            return df
        if df.exception() is None and os.path.exists(df.result()):
            return df
        return None

    # -- 0.5.0 explicit staging ------------------------------------------------------------

    def stage_in(self, file: File | str, site: str | None = None) -> DataFuture:
        """Transport ``file`` to where ``site``'s apps run (default: the first executor); the
        DataFuture resolves to the File of the staged copy."""
        if not isinstance(file, File):
            file = File(file)
        label = self._label(site)
        if not file.is_remote:
            return self._done(file)
        cached = self._cached(file, label)
        if cached is not None:
            return cached
        copy = file.cleancopy()
        p = self.provider_for(label, copy)
        fut = p.stage_in(self, label, copy, None)
        staged = file.with_local_path(copy.local_path) if copy.local_path else file
        if fut is None:
            return self._on_executor(label, p.replace_task(self, label, copy, _staged_file), staged, file.url)
        df = DataFuture(fut, staged)
        self._futures[(file.url, label)] = df
        return df

    def stage_out(self, file: File | str, site: str | None = None) -> DataFuture:
        """Transport a locally produced ``file`` to where its URL points. If an app already
        stages this file out (it was in its ``outputs=``), that stage-out's DataFuture."""
        if not isinstance(file, File):
            file = File(file)
        if not file.is_remote:
            return self._done(file)
        existing = self._stage_outs.get(file.url)
        if existing is not None:
            return existing
        label = self._label(site)
        copy = file.cleancopy()
        if file.local_path:
            copy.local_path = file.local_path
        p = self.provider_for(label, copy, out=True)
        produced = LeanFuture()
        produced.set_result(None)
        fut = p.stage_out(self, label, copy, produced)
        bound = file.with_local_path(copy.local_path or self.local_path_for(label, file))
        if fut is None:
            df = self._on_executor(label, p.replace_task_stage_out(self, label, copy, _staged_file), bound)
        else:
            df = DataFuture(fut, bound)
        self._stage_outs[file.url] = df
        return df

    def _on_executor(self, label: str, wrapped: Callable[..., Any] | None, file: File, remember: str | None = None) -> DataFuture:
        """A lone staging step for a provider that stages only inside tasks: ``wrapped`` (the
        provider's wrapper around a do-nothing task) run on the executor itself."""
        ex = self.executor(label)
        if wrapped is None or ex is None:
            return self._done(file)
        df = DataFuture(ex.submit(wrapped, file), file)
        if remember is not None:
            self._futures[(remember, label)] = df
        return df

    @staticmethod
    def _done(file: File) -> DataFuture:
        done = LeanFuture()
        done.set_result(file)
        return DataFuture(done, file, take_parent_file=True)

    def get_data_future(self, file: File, site: str | None = None) -> DataFuture | None:
        return self._futures.get((file.url, self._label(site)))

    def set_data_future(self, file: File, df: DataFuture, site: str | None = None) -> None:
        self._futures[(file.url, self._label(site))] = df

    def shutdown(self) -> None:
        """Wait for the transfers under way (stage-outs of finished apps included)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown()

