"""The root of every error Parsl raises, and the errors of configuration and plugins.

App errors live in :mod:`parsl.app.errors`, executor errors in :mod:`parsl.executors.errors`
(their documented 0.5.0 import paths); all of them derive from :class:`ParslError`.
"""
from __future__ import annotations

from typing import Iterable, Sequence


class ParslError(Exception):
    """Base class for all exceptions.

    Only to be invoked when a more specific error is not available.
    """


class ConfigurationError(ParslError, ValueError):
    """A configuration is invalid. ``path`` names the offending key, e.g.
    ``sites[0].execution.block.maxBlocks``."""

    def __init__(self, message: str, path: str | None = None) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


class NoDataFlowKernelError(ParslError, RuntimeError):
    """An app was called while no DataFlowKernel is loaded."""


class WorkflowAborted(ParslError):
    """The workflow stopped at its first failure because lazy failure is off
    (``lazy_fail=False`` / ``lazyErrors: False``). ``first_failure`` is the exception of the
    task that stopped it and ``task_id`` that task's id."""

    def __init__(self, task_id: int, first_failure: BaseException) -> None:
        self.task_id = task_id
        self.first_failure = first_failure
        super().__init__(
            f"workflow stopped: task {task_id} failed with "
            f"{type(first_failure).__name__}: {first_failure} "
            "(lazy failure is off; set lazy_fail=True / lazyErrors=True to keep going)"
        )


class PluginError(ParslError, LookupError):
    """Base of the plugin registry's errors."""


class PluginNotFound(PluginError):
    """No plugin of this kind has this name. The message lists what is installed and, where
    the name is one a known distribution provides, the ``pip install`` line that adds it."""

    def __init__(
        self,
        kind: str,
        name: str,
        installed: Sequence[str],
        suggestion: str | None = None,
        install_hint: str | None = None,
    ) -> None:
        self.kind = kind
        self.name = name
        self.installed = list(installed)
        self.suggestion = suggestion
        self.install_hint = install_hint
        parts = [f"no {kind} plugin named {name!r}"]
        if install_hint:
            parts.append(f"it is provided by another distribution; install it with: {install_hint}")
        if suggestion:
            parts.append(f"did you mean {suggestion!r}?")
        parts.append("installed: " + (", ".join(sorted(self.installed)) or "none"))
        super().__init__("; ".join(parts))


class PluginDependencyMissing(PluginError, ImportError):
    """A plugin is installed but an optional dependency it needs is not. The message holds the
    exact ``pip install 'dist[extra]'`` line."""

    def __init__(self, feature: str, module: str, distribution: str, extra: str | None) -> None:
        self.feature = feature
        self.module = module
        self.distribution = distribution
        self.extra = extra
        target = f"{distribution}[{extra}]" if extra else distribution
        self.pip_line = f"pip install '{target}'"
        ImportError.__init__(
            self,
            f"{feature} needs the module {module!r}, which is not installed; install it with: {self.pip_line}",
            name=module,
        )


class PluginTypeError(PluginError, TypeError):
    """A plugin was found but is not of the type its group requires."""

    def __init__(self, kind: str, name: str, obj: object, expected: Iterable[type]) -> None:
        names = " or ".join(t.__name__ for t in expected)
        super().__init__(f"{kind} plugin {name!r} resolved to {obj!r}, which is not a {names}")


#: upstream's name for the error of a missing optional dependency
OptionalModuleMissing = PluginDependencyMissing
