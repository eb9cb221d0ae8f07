"""A local stand-in for a cloud VM: the instance's boot script (its user data) runs as a bash
process group on this machine, so a test sees the block's workers really start and stop.

::

    LocalVM(script).start() ─▶ bash <script> (own process group, PATH=<stub dir>:$PATH)
        the script's final `shutdown -h now` runs the stub, which only records the halt
    waiter thread: process exit ─▶ on_halt(exit code)   (the cloud's "instance halted")
    kill() ─▶ SIGKILL to the group                       (the cloud terminated the instance)

The stub directory comes first on PATH and start() checks that `shutdown` resolves to the stub
before anything runs, so the boot script can never halt the machine running the tests.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
from pathlib import Path
from typing import Callable

_STUB = "#!/bin/sh\n# stand-in for the VM's shutdown: the boot script ends, the process exits\necho \"shutdown $*\" >> \"$(dirname \"$0\")/halts.log\"\nexit 0\n"


class LocalVM:
    def __init__(self, name: str, script: str, workdir: Path, on_halt: Callable[[int], None] | None = None) -> None:
        self.name = name
        self.script = script
        self.dir = Path(workdir) / name
        self.on_halt = on_halt
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None
        self.halted = threading.Event()

    def start(self) -> LocalVM:
        stubs = self.dir / "bin"
        stubs.mkdir(parents=True, exist_ok=True)
        for tool in ("shutdown", "poweroff", "halt"):
            (stubs / tool).write_text(_STUB)
            (stubs / tool).chmod(0o755)
        env = dict(os.environ, PATH=f"{stubs}:{os.environ.get('PATH', '/usr/bin:/bin')}")
        if shutil.which("shutdown", path=env["PATH"]) != str(stubs / "shutdown"):
            raise RuntimeError("the shutdown stub does not come first on PATH; refusing to run a boot script")
        path = self.dir / "user-data.sh"
        path.write_text(self.script)
        with open(self.dir / "console.log", "wb") as log:
            self.proc = subprocess.Popen(["/bin/bash", str(path)], cwd=self.dir, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        threading.Thread(target=self._wait, name=f"vm-{self.name}", daemon=True).start()
        return self

    def _wait(self) -> None:
        assert self.proc is not None
        self.returncode = self.proc.wait()
        self.halted.set()
        if self.on_halt is not None:
            self.on_halt(self.returncode)

    @property
    def running(self) -> bool:
        return self.proc is not None and not self.halted.is_set()

    @property
    def console(self) -> str:
        try:
            return (self.dir / "console.log").read_text()
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """The cloud deleted the instance: end the whole process group."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.halted.wait(10)
