"""Errors raised by apps, at their documented 0.5.0 import path ``parsl.app.errors``."""
from __future__ import annotations

import traceback
from types import TracebackType
from typing import Any, Sequence

from ..errors import ParslError

__all__ = [
    "AppBadFormatting",
    "AppException",
    "AppFailure",
    "AppTimeout",
    "BadStdStreamFile",
    "BashAppNoReturn",
    "BashExitFailure",
    "DependencyError",
    "InvalidAppTypeError",
    "JoinError",
    "MissingOutputs",
    "NotFutureError",
    "PropagatedException",
    "ParslError",
    "RemoteExceptionWrapper",
    "UnkeyableArgument",
]


class NotFutureError(ParslError, TypeError):
    """A non future item was passed to a function that expected a future.

    This is basically a type error.
    """


class InvalidAppTypeError(ParslError, ValueError):
    """An invalid app type was requested from the @App decorator."""


class AppException(ParslError):
    """An error raised during execution of an app.

    What this exception contains depends entirely on context
    """


class _ReasonExit:
    """Mixin for the errors documented as carrying ``reason``, ``exitcode`` and ``retries``."""

    def __init__(self, reason: str, exitcode: int, retries: int | None = None) -> None:
        self.reason = reason
        self.exitcode = exitcode
        self.retries = retries
        super().__init__(reason, exitcode, retries)  # type: ignore[call-arg]

    def __str__(self) -> str:
        return f"{self.reason} (exit code {self.exitcode})" if self.exitcode is not None else self.reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.exitcode, self.retries))


class AppBadFormatting(_ReasonExit, ParslError):
    """An error raised during formatting of a bash function.

    Contains: reason(string) exitcode(int) retries(int/None)
    """


class AppFailure(_ReasonExit, AppException):
    """An error raised during execution of an app.

    Contains: reason(string) exitcode(int) retries(int/None)
    """


class BashExitFailure(AppFailure):
    """A bash app's command exited with a non-zero code (the modern name; an AppFailure)."""


class AppTimeout(_ReasonExit, AppException):
    """An error raised during execution of an app when it exceeds its allotted walltime.

    Contains: reason(string) exitcode(int) retries(int/None)
    """


class BashAppNoReturn(_ReasonExit, AppException, ValueError):
    """Bash app returned no string (also a ``ValueError``, which upstream raises then).

    Contains: reason(string) exitcode(int) retries(int/None)
    """


class MissingOutputs(ParslError):
    """Error raised at the end of app execution due to missing output files.

    Contains: reason(string) outputs(List of strings/files..)
    """

    def __init__(self, reason: str, outputs: Sequence[Any]) -> None:
        self.reason = reason
        self.outputs = list(outputs)
        super().__init__(reason, self.outputs)

    def __str__(self) -> str:
        return f"{self.reason}: {', '.join(str(o) for o in self.outputs)}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.reason, self.outputs))


class BadStdStreamFile(ParslError):
    """Error raised due to bad filepaths specified for STDOUT/ STDERR.

    Contains: reason(string) outputs(List of strings/files..) exception object
    """

    def __init__(self, outputs: Any, exception: BaseException) -> None:
        self.outputs = outputs
        self.exception = exception
        self.reason = f"bad stdout/stderr file {outputs!r}: {type(exception).__name__}: {exception}"
        super().__init__(outputs, exception)

    def __str__(self) -> str:
        return self.reason

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.outputs, self.exception))


class PropagatedException(ParslError):
    """A task failed because futures it waited for failed (base of :class:`DependencyError`
    and :class:`JoinError`).

    Contains: ``dependent_exceptions`` (the parents' exceptions), ``dependent_tasks`` (their
    task ids, None for futures that are not tasks), ``reason`` (string) and ``outputs``; and,
    in today's upstream shape, ``dependent_exceptions_tids`` (pairs of an exception and a
    description of the future that raised it: ``"task 3"``, or the repr of a future that is
    not a task) and ``task_id`` (the task that could not run).

    Both constructors work: ``DependencyError(exceptions, reason, outputs, dependent_tasks)``
    (0.5.0) and ``DependencyError([(exception, description), ...], task_id)`` (upstream).
    """

    _failure = "Failure"

    def __init__(
        self,
        dependent_exceptions: Sequence[Any],
        reason: str | int | None = None,
        outputs: Sequence[Any] | None = None,
        dependent_tasks: Sequence[int | None] | None = None,
        *,
        descriptions: Sequence[str] | None = None,
        task_id: int | None = None,
    ) -> None:
        pairs = list(dependent_exceptions)
        if isinstance(reason, int) or (reason is None and pairs and all(isinstance(p, tuple) and len(p) == 2 for p in pairs)):
            # the upstream form: ([(exception, description), ...], task_id)
            task_id = reason if isinstance(reason, int) else task_id
            excs = [e for e, _ in pairs]
            descriptions = [str(d) for _, d in pairs]
            reason = f"{self._failure} for task {task_id}"
        else:
            excs = pairs
        self.dependent_exceptions: list[BaseException] = excs
        self.dependent_tasks = list(dependent_tasks) if dependent_tasks is not None else [None] * len(excs)
        if descriptions is None:
            descriptions = [f"task {tid}" if tid is not None else "a future" for tid in self.dependent_tasks]
        self.dependent_exceptions_tids: list[tuple[BaseException, str]] = list(zip(excs, descriptions, strict=True))
        self.task_id = task_id
        self.reason = str(reason) if reason is not None else f"{self._failure} for task {task_id}"
        self.outputs = list(outputs or [])
        super().__init__(self.dependent_exceptions, self.reason, self.outputs)
        # where the failure started: parents that failed on their own, or the roots named by
        # parents that themselves failed with a DependencyError
        self.root_tasks: list[int | None] = []
        self.root_exceptions: list[BaseException] = []
        for tid, e in zip(self.dependent_tasks, self.dependent_exceptions, strict=True):
            if isinstance(e, PropagatedException):
                pairs = list(zip(e.root_tasks, e.root_exceptions, strict=True))
            else:
                pairs = [(tid, e)]
            for rt, re_ in pairs:
                if not any(re_ is seen for seen in self.root_exceptions):
                    self.root_tasks.append(rt)
                    self.root_exceptions.append(re_)
        if self.root_exceptions:
            self.__cause__ = self.root_exceptions[0]

    def __str__(self) -> str:
        parents = ", ".join(
            f"{d} ({type(e).__name__})" for e, d in self.dependent_exceptions_tids
        )
        roots = ", ".join(
            f"task {tid} ({type(e).__name__}: {e})" if tid is not None else f"{type(e).__name__}: {e}"
            for tid, e in zip(self.root_tasks, self.root_exceptions, strict=True)
        )
        return f"{self.reason}; failed dependencies: {parents}; root cause: {roots}"

    def __reduce__(self) -> tuple[Any, ...]:
        descriptions = [d for _, d in self.dependent_exceptions_tids]
        return (_rebuild_dependency_error, (type(self), self.dependent_exceptions, self.reason, self.outputs, self.dependent_tasks, descriptions, self.task_id))


def _rebuild_dependency_error(
    cls: type[PropagatedException],
    excs: list[BaseException],
    reason: str,
    outputs: list[Any],
    tasks: list[int | None],
    descriptions: list[str],
    task_id: int | None,
) -> PropagatedException:
    return cls(excs, reason, outputs, tasks, descriptions=descriptions, task_id=task_id)


class DependencyError(PropagatedException):
    """Error raised when an app cannot run because apps it depends on failed.

    Contains: ``dependent_exceptions``, ``dependent_tasks``, ``reason``, ``outputs``,
    ``dependent_exceptions_tids`` and ``task_id`` (see :class:`PropagatedException`).
    """

    _failure = "Dependency failure"


class JoinError(PropagatedException):
    """A join app's task failed because futures its function returned failed (upstream's
    ``parsl.dataflow.errors.JoinError``); ``dependent_exceptions_tids`` holds their
    exceptions and descriptions."""

    _failure = "Join failure"


class UnkeyableArgument(ParslError, ValueError, TypeError):
    """A cached app was called with an argument the memoizer cannot turn into a key (a
    ``ValueError``, as upstream's is, and a ``TypeError``, as ours always was)."""

    def __init__(self, argument: str, type_name: str, detail: str = "") -> None:
        self.argument = argument
        self.type_name = type_name
        exclude = (
            "pass it by keyword and exclude it with ignore_for_cache=[<its name>]"
            if argument.startswith("args[")
            else f"exclude it with ignore_for_cache=[{argument!r}]"
        )
        msg = (
            f"cannot compute a cache key for argument {argument!r} of type {type_name}"
            f"{': ' + detail if detail else ''}; register a key function with "
            f"parsl.dataflow.memoization.id_for_memo.register({type_name}) or {exclude}"
        )
        super().__init__(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.argument, self.type_name))


class _RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in another process."""

    def __init__(self, tb: str) -> None:
        self.tb = tb

    def __str__(self) -> str:
        return self.tb


class RemoteExceptionWrapper:
    """Carries an exception raised in another process, with its traceback as text.

    :meth:`get_exception` returns the original exception with the remote traceback chained as
    its ``__cause__``; if the exception itself cannot be unpickled on this side, an
    :class:`AppException` describing it is returned instead.
    """

    def __init__(self, e_type: type[BaseException], e_value: BaseException, traceback_obj: TracebackType | None) -> None:
        self.e_type_name = f"{e_type.__module__}.{e_type.__qualname__}"
        self.e_value = e_value
        self.tb_text = "".join(traceback.format_exception(e_type, e_value, traceback_obj))

    def get_exception(self) -> BaseException:
        exc = self.e_value
        if not isinstance(exc, BaseException):
            exc = AppException(f"{self.e_type_name}: {exc!r}")
        exc.__cause__ = _RemoteTraceback(f'\n"""\n{self.tb_text}"""')
        return exc

    def reraise(self) -> None:
        raise self.get_exception()
