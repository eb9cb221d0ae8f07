"""How a block starts its IPython Parallel engines: the one-line command its launcher runs
``taskBlocks`` times, and the environment the block needs for it.

The engine connection file holds the controller's key, so it never goes on a command line
(process listings are world-readable). With a provider that passes an environment to its
blocks, the file travels in the block's environment (``PARSL_IPP_ENGINE_JSON``, exported by
the block's private script; nodes need no shared file system) and each engine copies it into
a 0600 file of its own; otherwise the command names a 0600 copy under the 0700 run directory,
which the nodes must then share.
"""
from __future__ import annotations

import os
import shlex
import sys

DEFAULT_ENGINE_FILE = "~/.ipython/profile_default/security/ipcontroller-engine.json"
#: the block environment variable that carries the engine connection file (key included)
ENGINE_JSON_VAR = "PARSL_IPP_ENGINE_JSON"
#: the block environment variable that names the block its engines belong to
BLOCK_VAR = "PARSL_IPP_BLOCK"


def default_engine_command(in_container: bool, controller_timeout: float) -> str:
    """This interpreter's engine, under the watchdog that ends it (and its block) once the
    controller has been unreachable ``controller_timeout`` seconds (:mod:`.engine`). In a
    container this interpreter's path means nothing: the image's ``python3`` runs it."""
    python = "python3" if in_container else shlex.quote(sys.executable)
    return f"{python} -m parsl_executors.ipp.engine --controller-timeout={controller_timeout:g} --"


def engine_launch(
    engine_json: str, engine_dir: str, files: str, engine_command: str, *, nanny: bool, controller_misses: int, shared_file: str | None,
) -> tuple[str, dict[str, str]]:
    """The command that starts one engine in ``engine_dir``, and the block environment it needs.

    ``engine_json`` is the connection file's content; ``files`` the directory each engine
    writes its copy to (made 0700). With ``shared_file`` (a provider that passes no
    environment), the content is written there (0600) and the command names it."""
    if shared_file is None:
        env = {ENGINE_JSON_VAR: engine_json}
        fetch = (
            f'f=$(mktemp {shlex.quote(files)}/engine-XXXXXXXX.json) && printf %s "${ENGINE_JSON_VAR}" > "$f" && '
            f"unset {ENGINE_JSON_VAR} && "
        )
    else:
        env = {}
        os.makedirs(os.path.dirname(shared_file), mode=0o700, exist_ok=True)
        fd = os.open(shared_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(engine_json)
        fetch = f"f={shlex.quote(shared_file)} && "
    script = (
        f"mkdir -p -m 700 {shlex.quote(files)} && cd {shlex.quote(engine_dir)} && {fetch}"
        f"exec {engine_command} --file=\"$f\" --log-level=WARN --IPEngine.enable_nanny={nanny} "
        f"--IPEngine.max_heartbeat_misses={controller_misses}"
    )
    return f"/bin/bash -c {shlex.quote(script)}", env
