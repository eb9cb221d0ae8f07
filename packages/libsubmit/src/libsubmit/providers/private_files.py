"""Block scripts are private: they may carry secrets (an executor's connection key, passed as
``env=``), so they live in a directory only the owner can enter and are readable only by
the owner.

::

    private_dir(d)            mkdir 0700 (or tighten an existing one we own; refuse another uid's)
    write_private(path, text) created 0700 (scripts) / 0600 (logs), never group/world readable
    env_exports(env)          "export NAME='value'" lines for the top of a block script
"""
from __future__ import annotations

import logging
import os
import re
import shlex
import stat
from typing import Mapping

from parsl.errors import ConfigurationError

from ..error import ScriptPathError

__all__ = ["env_exports", "private_dir", "write_private"]

logger = logging.getLogger(__name__)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def private_dir(path: str) -> str:
    """Create ``path`` with mode 0700 (parents as needed), or make an existing directory we
    own 0700. A directory owned by another user is refused: it could read or swap our
    scripts."""
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        st = os.stat(path)
    except OSError as e:
        raise ScriptPathError(path, e) from e
    if not stat.S_ISDIR(st.st_mode):
        raise ScriptPathError(path, "it is not a directory")
    if st.st_uid != os.getuid():
        raise ScriptPathError(path, f"the directory belongs to uid {st.st_uid}, not to this user; scripts hold secrets, choose a directory of your own")
    if stat.S_IMODE(st.st_mode) & 0o077:
        os.chmod(path, 0o700)
        logger.info("script directory %s made private (mode 0700): block scripts hold connection keys", path)
    return path


def write_private(path: str, text: str | bytes, mode: int = 0o700) -> None:
    """Write ``path`` so that only the owner can read it (``mode`` 0700 for scripts, 0600
    for other files); an existing file is replaced, never reused with its old mode."""
    data = text.encode() if isinstance(text, str) else text
    try:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
        try:
            os.fchmod(fd, mode)  # whatever the umask
            os.write(fd, data)
        finally:
            os.close(fd)
    except OSError as e:
        raise ScriptPathError(path, e) from e


def env_exports(env: Mapping[str, str] | None) -> str:
    """Bash ``export`` lines for ``env`` (names checked, values shell-quoted)."""
    lines = []
    for name, value in (env or {}).items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ConfigurationError(f"{name!r} is not a valid environment variable name", "env")
        lines.append(f"export {name}={shlex.quote(str(value))}\n")
    return "".join(lines)
