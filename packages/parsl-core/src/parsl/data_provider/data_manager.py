"""The data manager: stages files in and out through the staging plugin of their URL scheme.

::

    File('globus://ep/x') ── stage_in ──▶ staging plugin for 'globus' (parsl-data)
                                          runs on the manager's threads ──▶ DataFuture(File(local copy))
    File('x.txt')         ── stage_in ──▶ already local ──▶ DataFuture resolved at once
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Sequence

from ..app.futures import DataFuture
from ..dataflow.lean_future import LeanFuture
from ..interfaces.staging import Staging
from .files import File

if TYPE_CHECKING:
    from ..dataflow.dflow import DataFlowKernel
    from ..executors.threads import ThreadPoolExecutor


class DataManager:
    """Moves files for one kernel. ``working_dir`` is where staged-in copies land (a site's
    ``data.working_dir`` in a 0.5.0 config)."""

    def __init__(self, dfk: DataFlowKernel | None = None, max_threads: int = 4, working_dir: str | None = None) -> None:
        self.dfk = dfk
        self.max_threads = max_threads
        self.working_dir = working_dir
        self._pool: ThreadPoolExecutor | None = None
        self._stagings: dict[str, Staging] = {}
        self._futures: dict[tuple[str, str | None], DataFuture] = {}
        self._lock = threading.Lock()

    def _site_settings(self, site: str | None) -> dict[str, Any]:
        if self.dfk is None:
            return {}
        data = self.dfk.config.site_data
        if site is not None and site in data:
            return dict(data[site])
        return dict(next(iter(data.values()))) if len(data) == 1 else {}

    def staging_for(self, file: File) -> Staging:
        """The staging plugin for the file's scheme (``parsl.staging`` entry points)."""
        from .. import plugins

        s = self._stagings.get(file.scheme)
        if s is None:
            cls = plugins.get("staging", file.scheme)
            s = self._stagings[file.scheme] = cls()
        return s

    def _run(self, fn: Any, *args: Any) -> LeanFuture:
        with self._lock:
            if self._pool is None:
                from ..executors.threads import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=self.max_threads, thread_name_prefix="parsl-staging", label="_parsl_staging")
        return self._pool.submit(fn, *args)

    def stage_in(self, file: File, site: str | None = None) -> DataFuture:
        """Transport ``file`` to where apps run; the DataFuture resolves to the local File."""
        if not isinstance(file, File):
            file = File(file)
        staging = self.staging_for(file)
        if file.scheme == "file":
            done = LeanFuture()
            done.set_result(file)
            return DataFuture(done, file, take_parent_file=True)
        working_dir = self.working_dir or self._site_settings(site).get("working_dir")
        df = DataFuture(self._run(staging.stage_in, file, working_dir), file, take_parent_file=True)
        self.set_data_future(file, df, site)
        return df

    def stage_inputs(self, inputs: Sequence[Any], found: list[Future[Any]]) -> list[Any]:
        """``inputs`` with each remote File replaced by the DataFuture of its staged copy;
        those DataFutures are appended to ``found`` (the task's dependencies)."""
        staged: list[Any] = []
        for item in inputs:
            if isinstance(item, File) and item.is_remote:
                df = self.stage_in(item, None)
                found.append(df)
                staged.append(df)
            else:
                staged.append(item)
        return staged

    def stage_out(self, file: File, site: str | None = None) -> DataFuture:
        """Transport a locally produced ``file`` to where its URL points."""
        if not isinstance(file, File):
            file = File(file)
        staging = self.staging_for(file)
        working_dir = self.working_dir or self._site_settings(site).get("working_dir")
        return DataFuture(self._run(staging.stage_out, file, working_dir), file)

    def get_data_future(self, file: File, site: str | None = None) -> DataFuture | None:
        return self._futures.get((file.url, site))

    def set_data_future(self, file: File, df: DataFuture, site: str | None = None) -> None:
        self._futures[(file.url, site)] = df

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
