"""The app decorators: 0.5.0's ``@App('python'|'bash', dfk, ...)`` / ``@app`` and today's
``@python_app``, ``@bash_app`` and ``@join_app``. Calling an app returns an
:class:`~parsl.dataflow.futures.AppFuture` at once."""
from __future__ import annotations

import functools
import inspect
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..errors import ConfigurationError
from .bash import BashCall
from .errors import InvalidAppTypeError
from .walltime import TimedCall, check_walltime, walltime_parameter

if TYPE_CHECKING:
    from ..dataflow.dflow import DataFlowKernel
    from ..dataflow.futures import AppFuture

_UNSET_SITES = "all"
_CONTAINERS = (list, tuple, set, frozenset, dict)


def _holds_future(value: Any) -> bool:
    if isinstance(value, Future):
        return True
    if isinstance(value, _CONTAINERS):
        return any(_holds_future(v) for v in (value.values() if isinstance(value, dict) else value))
    return False


def defaults_holding_futures(func: Callable[..., Any]) -> tuple[tuple[str, int | None, Any], ...]:
    """``(name, position or None, default)`` for each parameter of ``func`` whose default value
    is or holds a future (checked once, at decoration; cheap when there are none)."""
    defaults = getattr(func, "__defaults__", None) or ()
    kwdefaults = getattr(func, "__kwdefaults__", None) or {}
    if not any(_holds_future(d) for d in defaults) and not any(_holds_future(d) for d in kwdefaults.values()):
        return ()
    out: list[tuple[str, int | None, Any]] = []
    for i, (name, p) in enumerate(inspect.signature(func).parameters.items()):
        if p.default is inspect.Parameter.empty or p.kind is inspect.Parameter.POSITIONAL_ONLY or not _holds_future(p.default):
            continue  # (a positional-only default cannot be passed by name: left to Python)
        out.append((name, i if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD else None, p.default))
    return tuple(out)


def _normalise_sites(sites: str | Sequence[str] | None) -> tuple[str, ...] | None:
    if sites is None or sites == "all":
        return None
    if isinstance(sites, str):
        return (sites,)
    out = tuple(sites)
    if not all(isinstance(s, str) for s in out):
        raise ConfigurationError(f"sites must be 'all' or a list of site names, got {sites!r}", "sites")
    return out or None


class AppBase:
    """This is the base class that defines the two external facing functions that an App
    must define: ``__init__`` (at decoration) and ``__call__`` (at each call)."""

    kind = "python"
    #: runs on the kernel's internal threads (lifted futures) instead of a configured executor
    internal = False

    def __init__(
        self,
        func: Callable[..., Any],
        executor: DataFlowKernel | None = None,
        walltime: float | None = None,
        sites: str | Sequence[str] | None = "all",
        cache: bool = False,
        ignore_for_cache: Sequence[str] | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"an app wraps a function, got {func!r}")
        check_walltime(walltime)
        if executor is not None:
            from ..dataflow.dflow import DataFlowKernel

            if not isinstance(executor, DataFlowKernel):
                raise TypeError(
                    f"the second argument of @App is the DataFlowKernel the app runs on, not {type(executor).__name__}; "
                    "pass executors to DataFlowKernel(executors=[...]) instead"
                )
        self.func = func
        self.data_flow_kernel = executor
        self._takes_walltime, default_walltime = walltime_parameter(func)
        # a walltime is enforced only where the user gave one: to the decorator, as the
        # (numeric) default of the function's own walltime parameter, or at call time
        if walltime is None and isinstance(default_walltime, (int, float)) and not isinstance(default_walltime, bool) and default_walltime > 0:
            walltime = default_walltime
        self.walltime = walltime
        self.sites = _normalise_sites(sites)
        self.cache = bool(cache)
        self.ignore_for_cache = tuple(ignore_for_cache or ())
        self.func_name = getattr(func, "__name__", type(func).__name__)
        self._fn_hash: str | None = None
        functools.update_wrapper(self, func)  # type: ignore[arg-type]
        if executor is not None and self.sites is not None:
            executor.check_sites(self.sites, self.func_name)
        self._future_defaults = defaults_holding_futures(func)
        self.executable = self._make_executable()

    def _make_executable(self) -> Callable[..., Any]:
        return self._timed(self.walltime)

    def _timed(self, walltime: float | None) -> Callable[..., Any]:
        """What an executor runs for a call of this app with ``walltime``."""
        return self.func

    def executable_for(self, kwargs: dict[str, Any]) -> Callable[..., Any]:
        """What an executor runs for a call given ``walltime=`` (removed from ``kwargs`` when
        the function does not take it)."""
        walltime = kwargs["walltime"] if self._takes_walltime else kwargs.pop("walltime")
        return self._timed(check_walltime(walltime))

    @property
    def fn_hash(self) -> str:
        """Hash of the function's body, part of its cache key (computed on first need)."""
        h = self._fn_hash
        if h is None:
            from ..dataflow.memoization import function_hash

            h = self._fn_hash = function_hash(self.func)
        return h

    def _dfk(self) -> DataFlowKernel:
        k = self.data_flow_kernel
        if k is not None and not k.closed:
            return k
        from ..dataflow.loader import current_dfk

        return current_dfk()

    def std_streams(self, kwargs: dict[str, Any]) -> tuple[Any, Any]:
        """The stdout and stderr a call redirects to (bash apps only)."""
        return None, None

    def std_defaults(self) -> dict[str, Any]:
        """The stdout/stderr defaults of the function's signature (bash apps only)."""
        return {}

    def __call__(self, *args: Any, **kwargs: Any) -> AppFuture:
        if self._future_defaults:
            # futures in the function's default values are dependencies too (as upstream
            # resolves them): pass each default the caller did not override explicitly
            n = len(args)
            for name, position, value in self._future_defaults:
                if name not in kwargs and (position is None or position >= n):
                    kwargs[name] = value
        return self._dfk().submit_app(self, args, kwargs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.func_name}>"


class PythonApp(AppBase):
    """Extends AppBase to cover the Python App."""

    def _timed(self, walltime: float | None) -> Callable[..., Any]:
        if walltime is None:
            return self.func
        return TimedCall(self.func, walltime, self.func_name)


class BashApp(AppBase):
    """Extends AppBase to cover the Bash App."""

    kind = "bash"
    #: a command that does not format with the call's arguments fails (0.5.0's ``@App``)
    strict_format = True

    def _bash_call(self) -> Callable[..., Any]:
        defaults: dict[str, Any] = {}
        try:
            for name, p in inspect.signature(self.func).parameters.items():
                if p.default is not inspect.Parameter.empty:
                    defaults[name] = p.default
        except (TypeError, ValueError):
            pass
        self._defaults = defaults
        return self._timed(self.walltime)

    def _timed(self, walltime: float | None) -> Callable[..., Any]:
        return BashCall(self.func, self.func_name, walltime, self._defaults, self.strict_format)

    def std_streams(self, kwargs: dict[str, Any]) -> tuple[Any, Any]:
        defaults = self._defaults
        return kwargs.get("stdout", defaults.get("stdout")), kwargs.get("stderr", defaults.get("stderr"))

    def std_defaults(self) -> dict[str, Any]:
        return self._std_defaults

    def _make_executable(self) -> Callable[..., Any]:
        call = self._bash_call()
        self._std_defaults = {k: v for k, v in self._defaults.items() if k in ("stdout", "stderr") and v is not None}
        return call


class ModernBashApp(BashApp):
    """A bash app of the ``@bash_app`` decorator: a command with literal braces that does not
    format runs as returned (upstream formats nothing)."""

    strict_format = False


class JoinApp(AppBase):
    """An app whose function returns a future (or a list of futures); its own future
    completes with their result(s). It runs on the kernel's internal threads."""

    kind = "join"

    def executable_for(self, kwargs: dict[str, Any]) -> Callable[..., Any]:
        return self.executable  # a join app's own work is only to call other apps


_KINDS = {"python": PythonApp, "bash": BashApp}


def App(
    apptype: str,
    executor: DataFlowKernel | None = None,
    walltime: float | None = None,
    cache: bool = False,
    sites: str | Sequence[str] = "all",
) -> Callable[[Callable[..., Any]], AppBase]:
    """The App decorator function.

    Args:
        apptype (string) : Apptype can be bash/python
        executor : the DataFlowKernel the app runs on (the newest live one if this one has
            been cleaned up, or if None)

    Kwargs:
        walltime (int) : Walltime for app in seconds (enforced only when given), default=None
        sites (strList) : List of site names on which the app could execute, default='all'
        cache (Bool) : Enable caching of the app call, default=False

    Returns: a decorator that turns a function into an app.

    0.5.0 documented ``walltime=60`` but never enforced it for python apps, and real apps run
    for longer: so a walltime is enforced only when given, here or at call time
    (``f(x, walltime=30)``).
    """
    try:
        cls = _KINDS[apptype]
    except (KeyError, TypeError):
        raise InvalidAppTypeError(f"invalid app type {apptype!r}: use 'python' or 'bash'") from None

    def decorator(func: Callable[..., Any]) -> AppBase:
        return cls(func, executor, walltime=walltime, sites=sites, cache=cache)

    return decorator


#: 0.5.0 also spells the decorator in lower case
app = App


def _modern(
    cls: type[AppBase],
    function: Callable[..., Any] | None,
    data_flow_kernel: DataFlowKernel | None,
    cache: bool,
    executors: str | Sequence[str],
    ignore_for_cache: Sequence[str] | None,
) -> Any:
    def decorator(func: Callable[..., Any]) -> AppBase:
        return cls(func, data_flow_kernel, sites=executors, cache=cache, ignore_for_cache=ignore_for_cache)

    if function is not None:
        return decorator(function)
    return decorator


# The modern decorators take exactly upstream Parsl's arguments, so that anything else is a
# TypeError at decoration. A walltime is given per call (``f(x, walltime=30)``) or as the
# default of the function's own ``walltime`` parameter, as upstream documents.


def python_app(
    function: Callable[..., Any] | None = None,
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    executors: str | Sequence[str] = "all",
    ignore_for_cache: Sequence[str] | None = None,
) -> Any:
    """Decorator for a python app; usable bare (``@python_app``) or with options. Returns a
    :class:`PythonApp` (or a decorator that makes one)."""
    return _modern(PythonApp, function, data_flow_kernel, cache, executors, ignore_for_cache)


def bash_app(
    function: Callable[..., Any] | None = None,
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    executors: str | Sequence[str] = "all",
    ignore_for_cache: Sequence[str] | None = None,
) -> Any:
    """Decorator for a bash app; usable bare (``@bash_app``) or with options. Returns a
    :class:`BashApp` (or a decorator that makes one)."""
    return _modern(ModernBashApp, function, data_flow_kernel, cache, executors, ignore_for_cache)


def join_app(
    function: Callable[..., Any] | None = None,
    data_flow_kernel: DataFlowKernel | None = None,
    cache: bool = False,
    ignore_for_cache: Sequence[str] | None = None,
) -> Any:
    """Decorator for a join app: the function returns a future or a list of futures (from
    other apps), and the app's own future completes with their result(s)."""
    return _modern(JoinApp, function, data_flow_kernel, cache, "all", ignore_for_cache)
