"""0.5.0's app factories (``parsl.app.app_factory``): ``AppFactoryFactory(name).make(kind,
executor, func, **kwargs)`` gives an :class:`AppFactory`, a callable that runs ``func`` as an
app of that kind. Kept for scripts that used them; ``@App`` / ``@python_app`` are the way."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

from .app import AppBase, BashApp, PythonApp
from .errors import InvalidAppTypeError

if TYPE_CHECKING:
    from ..dataflow.dflow import DataFlowKernel
    from ..dataflow.futures import AppFuture


class AppFactory:
    """Makes app calls of ``app_class`` around ``func`` (0.5.0 signature; ``exec_type`` is
    accepted and not needed: ``app_class`` says the kind)."""

    def __init__(
        self,
        app_class: type[AppBase],
        func: Callable[..., Any],
        executor: DataFlowKernel | None = None,
        walltime: float | None = None,
        sites: str | Sequence[str] = "all",
        cache: bool = False,
        exec_type: str = "bash",
    ) -> None:
        self.app_class = app_class
        self.func = func
        self.executor = executor
        self.walltime = walltime
        self.sites = sites
        self.cache = cache
        self.exec_type = exec_type
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self._app = app_class(func, executor, walltime=walltime, sites=sites, cache=cache)

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        return self._app(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<class {self.app_class.__name__}\"{type(self).__name__} for {self.__name__}>"


class AppFactoryFactory:
    """Makes :class:`AppFactory` objects of the kinds ``'bash'`` and ``'python'``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.apps: dict[str, type[AppBase]] = {"bash": BashApp, "python": PythonApp}

    def make(self, kind: str, executor: DataFlowKernel | None, func: Callable[..., Any], **kwargs: Any) -> AppFactory:
        try:
            app_class = self.apps[kind]
        except (KeyError, TypeError):
            raise InvalidAppTypeError(f"invalid app type {kind!r}: use 'python' or 'bash'") from None
        return AppFactory(app_class, func, executor=executor, **kwargs)


__all__ = ["AppFactory", "AppFactoryFactory"]
