"""Errors raised by providers and launchers (their 0.5.0 import path is ``libsubmit.error``).

Every error derives from :class:`parsl.errors.ParslError`; scheduler failures carry the
scheduler's own message and exit code.
"""
from __future__ import annotations

from parsl.errors import ConfigurationError, ParslError

__all__ = [
    "BadLauncher",
    "ChannelRequired",
    "CloudAPIError",
    "ConfigurationError",
    "ExecutionProviderException",
    "OptionalModuleMissing",
    "ScaleOutFailed",
    "SchedulerCommandFailed",
    "SchedulerMissingArgs",
    "ScriptPathError",
    "SubmitException",
]


class ExecutionProviderException(ParslError):
    """Base class of every provider error."""


class SchedulerCommandFailed(ExecutionProviderException):
    """A scheduler command (``sbatch``, ``squeue``, ``qdel``...) failed. ``message`` is what
    the scheduler printed on stderr (or stdout when stderr was empty)."""

    def __init__(self, provider: str, command: str, exit_code: int, message: str) -> None:
        self.provider = provider
        self.command = command
        self.exit_code = exit_code
        self.message = message.strip()
        super().__init__(f"{provider}: {command!r} failed with exit code {exit_code}: {self.message or '(no output)'}")


class SubmitException(SchedulerCommandFailed):
    """Submitting a block was refused by the scheduler (bad partition, bad account, scheduler
    down...). ``job_name`` is the name the block was submitted under."""

    def __init__(self, provider: str, job_name: str, command: str, exit_code: int, message: str) -> None:
        self.job_name = job_name
        super().__init__(provider, command, exit_code, message)


class ScaleOutFailed(ExecutionProviderException):
    """The provider could not add a block."""


class SchedulerMissingArgs(ExecutionProviderException, ConfigurationError):
    """A required scheduler option is missing."""


class ScriptPathError(ExecutionProviderException, OSError):
    """The submit script could not be written."""

    def __init__(self, script_path: str, reason: BaseException | str) -> None:
        self.script_path = script_path
        self.reason = reason
        OSError.__init__(self, f"could not write the submit script {script_path}: {reason}")


class BadLauncher(ExecutionProviderException, ConfigurationError):
    """The launcher named in the configuration is not a launcher."""


class ChannelRequired(ExecutionProviderException, ConfigurationError):
    """The provider needs a channel of a kind it was not given."""


# 0.5.0 name
OptionalModuleMissing = ImportError


class CloudAPIError(ExecutionProviderException):
    """A cloud API refused a call. ``code`` and ``message`` are the cloud's own (for example
    ``InvalidAMIID.NotFound`` and its text); ``operation`` says what the provider was doing."""

    def __init__(self, provider: str, operation: str, code: str, message: str) -> None:
        self.provider = provider
        self.operation = operation
        self.code = code
        self.message = message.strip()
        super().__init__(f"{provider}: {operation} failed: {code}: {self.message or '(no message)'}")
