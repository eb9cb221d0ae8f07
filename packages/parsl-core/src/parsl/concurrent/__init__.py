"""A ``concurrent.futures.Executor`` over a DataFlowKernel (upstream's
``parsl.concurrent.ParslPoolExecutor``), for code written against the standard interface.

::

    pool.submit(fn, *a) ──▶ python app of fn (one per function) ──▶ kernel ──▶ AppFuture
    pool.map(fn, *its)  ──▶ one submit per item, results in order
    pool.shutdown()     ──▶ cleans up the kernel the pool made (not one it was given)
"""
from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    from ..app.app import PythonApp
    from ..config import Config
    from ..dataflow.dflow import DataFlowKernel
    from ..dataflow.futures import AppFuture

__all__ = ["ParslPoolExecutor"]


class ParslPoolExecutor(concurrent.futures.Executor):
    """Run functions as Parsl tasks. Give ``config`` (the pool starts and owns a kernel) or
    ``dfk`` (a kernel the caller manages); ``executors`` picks the executors the tasks may
    use (``"all"`` by default)."""

    def __init__(self, config: Config | None = None, dfk: DataFlowKernel | None = None, executors: str | Sequence[str] = "all") -> None:
        from ..dataflow.dflow import DataFlowKernel

        if (config is None) == (dfk is None):
            raise ValueError("give ParslPoolExecutor exactly one of config= or dfk=")
        self._owns = dfk is None
        self.dfk: DataFlowKernel = DataFlowKernel(config=config) if dfk is None else dfk
        self.executors = executors
        self._apps: dict[Callable[..., Any], PythonApp] = {}

    def get_app(self, fn: Callable[..., Any]) -> PythonApp:
        """The python app that runs ``fn`` (made once per function)."""
        app = self._apps.get(fn)
        if app is None:
            from ..app.app import PythonApp

            app = self._apps[fn] = PythonApp(fn, self.dfk, walltime=None, sites=self.executors)
        return app

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> AppFuture:
        """Run ``fn`` with these arguments as a task; return its AppFuture (futures among the
        arguments are dependencies, as for any app)."""
        return self.get_app(fn)(*args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Clean up the kernel if the pool made it (``wait=False`` fails tasks not yet
        started instead of waiting for them)."""
        if self._owns:
            self.dfk.cleanup(wait=wait and not cancel_futures)
