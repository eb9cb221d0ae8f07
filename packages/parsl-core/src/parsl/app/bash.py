"""Bash apps: the function returns a command line; the command runs in ``/bin/bash``.

The returned string is formatted (PEP 3101) with the call's positional arguments and all its
named arguments (defaults of the function's signature included), so ``{0}``,
``{outputs[0]}`` and ``{inputs[1]}`` work. For apps of the modern ``@bash_app`` decorator a
command that does not format (literal braces: ``awk '{print $1}'``, ``${HOME}``) runs as
returned, as upstream runs every command; ``@App('bash')`` apps fail with AppBadFormatting.
The string is shell code: a value put into it is
interpreted by bash (``;``, ``$(...)``, quotes), so quote untrusted values with
:func:`shlex.quote`, or return a list instead: the argv form runs the program without a
shell and without formatting, each element one argument exactly as given
(``return ["grep", "-c", pattern, path]``); a missing program gives exit code 127. The result of a successful run is the exit code 0;
failures raise the documented errors:

* no string returned → :class:`BashAppNoReturn`
* the format fails → :class:`AppBadFormatting`
* stdout/stderr cannot be opened → :class:`BadStdStreamFile`
* walltime exceeded → :class:`AppTimeout`: the command gets SIGTERM and 0.4 s of grace, then
  everything it started is SIGKILLed, also processes that left its process group
  (``setsid``) or were orphaned (see :mod:`parsl.app.proc_tree`)
* non-zero exit → :class:`AppFailure` (a :class:`BashExitFailure`) with ``exitcode``
  (126: not executable, 127: command not found)
* an ``outputs`` file missing afterwards → :class:`MissingOutputs`
"""
from __future__ import annotations

import os
import secrets
import subprocess
import threading
from typing import IO, Any, Callable

from .errors import AppBadFormatting, AppTimeout, BadStdStreamFile, BashAppNoReturn, BashExitFailure, MissingOutputs
from .proc_tree import TOKEN_VAR, kill_tree

_EXIT_REASONS = {126: "command found but not executable", 127: "command not found"}
#: seconds between SIGTERM and SIGKILL when a command is stopped
KILL_GRACE = 0.4

# commands running right now (each leads its own session; value: its tree token), so that an
# exiting driver can take them down with it instead of leaving them orphaned
_running: dict[subprocess.Popen[bytes], str] = {}
_running_lock = threading.Lock()


def kill_running(grace: float = 0.0) -> int:
    """Kill every bash-app command still running, with everything it started; return how
    many commands there were."""
    with _running_lock:
        procs = list(_running.items())
    for proc, token in procs:
        kill_tree(proc, token, grace)
    return len(procs)


def _open_stream(spec: Any, what: str) -> IO[bytes] | None:
    if spec is None:
        return None
    mode = "a"
    path = spec
    if isinstance(spec, tuple):
        if len(spec) != 2 or spec[1] not in ("w", "a"):
            raise BadStdStreamFile(spec, ValueError(f"{what} as a tuple must be (path, 'w'|'a')"))
        path, mode = spec
    try:
        path = os.fspath(path)
    except TypeError as e:
        raise BadStdStreamFile(spec, e) from None
    if not path:
        raise BadStdStreamFile(spec, ValueError(f"empty {what} path"))
    try:
        return open(path, mode + "b")
    except (OSError, ValueError) as e:  # ValueError: an embedded NUL byte
        raise BadStdStreamFile(path, e) from None


class BashCall:
    """What an executor runs for one bash-app call (picklable, so remote executors can too)."""

    __slots__ = ("defaults", "func", "name", "strict_format", "walltime")

    def __init__(
        self, func: Callable[..., Any], name: str, walltime: float | None, defaults: dict[str, Any], strict_format: bool = True
    ) -> None:
        self.func = func
        self.name = name
        self.walltime = walltime
        self.defaults = defaults
        self.strict_format = strict_format

    def __reduce__(self) -> tuple[Any, ...]:
        return (BashCall, (self.func, self.name, self.walltime, self.defaults, self.strict_format))

    def __call__(self, *args: Any, **kwargs: Any) -> int:
        named = {**self.defaults, **kwargs}
        cmd: str | list[str] = self.func(*args, **kwargs)
        if isinstance(cmd, (list, tuple)):
            # the argv form: no shell, no formatting; each element is one argument as it is
            if not cmd or not all(isinstance(a, (str, os.PathLike)) for a in cmd):
                raise BashAppNoReturn(f"bash app {self.name} returned a list that is not a non-empty list of strings: {cmd!r}", None)  # type: ignore[arg-type]
            cmd = [os.fspath(a) for a in cmd]
        elif not isinstance(cmd, str) or not cmd.strip():
            raise BashAppNoReturn(f"bash app {self.name} returned {type(cmd).__name__} {cmd!r}, not a command string or argument list", None)  # type: ignore[arg-type]
        else:
            try:
                cmd = cmd.format(*args, **named)
            except (IndexError, KeyError, ValueError, AttributeError) as e:
                if self.strict_format:
                    raise AppBadFormatting(
                        f"bash app {self.name}: formatting the command failed with {type(e).__name__}: {e} "
                        "(literal braces must be doubled, e.g. ${{HOME}})",
                        None,  # type: ignore[arg-type]
                    ) from None
                # a modern app's command with literal braces: it runs as returned
        stdout = _open_stream(named.get("stdout"), "stdout")
        try:
            stderr = _open_stream(named.get("stderr"), "stderr")
        except BaseException:
            if stdout is not None:
                stdout.close()
            raise
        try:
            rc = self._run(cmd, stdout, stderr, self.walltime)
        finally:
            for s in (stdout, stderr):
                if s is not None:
                    s.close()
        if rc != 0:
            reason = _EXIT_REASONS.get(rc, "command exited with a non-zero code")
            raise BashExitFailure(f"bash app {self.name} failed: {reason}", rc)
        missing = [o for o in named.get("outputs") or () if not os.path.exists(os.fspath(o))]
        if missing:
            raise MissingOutputs(f"bash app {self.name} did not create its outputs", missing)
        return 0

    def _run(self, cmd: str | list[str], stdout: IO[bytes] | None, stderr: IO[bytes] | None, walltime: float | None) -> int:
        token = secrets.token_hex(12)
        shell = isinstance(cmd, str)
        try:
            proc = subprocess.Popen(
                cmd,
                shell=shell,
                executable="/bin/bash" if shell else None,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
                close_fds=True,
                env={**os.environ, TOKEN_VAR: token},
            )
        except FileNotFoundError:  # the argv form's program does not exist (bash says 127)
            return 127
        except PermissionError:
            return 126
        with _running_lock:
            _running[proc] = token
        try:
            return proc.wait(timeout=walltime)
        except subprocess.TimeoutExpired:
            kill_tree(proc, token, KILL_GRACE)
            raise AppTimeout(f"bash app {self.name} exceeded its walltime of {walltime} s", -1) from None
        except BaseException:
            kill_tree(proc, token, KILL_GRACE)
            raise
        finally:
            with _running_lock:
                _running.pop(proc, None)


def __getattr__(name: str) -> Any:
    # today's upstream path of the class: parsl.app.bash.BashApp (app.py imports this module)
    if name == "BashApp":
        from .app import BashApp

        return BashApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
