"""Support for the executor's own tests: process accounting, a monitor that records block
events, and a minimal real ExecutionProvider whose blocks are bash process groups on this
machine running the command ``blocksize`` times in parallel.

It exists so that parsl-executors can be tested without libsubmit installed (plugins do not
depend on each other); the end-to-end tests under tests-integration use libsubmit's Local
provider.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
import time
from typing import Mapping, Sequence

from parsl.interfaces import ExecutionProvider, JobState, Monitor


class ProcessBlocks(ExecutionProvider):
    passes_env = True  # env goes into the block's process environment, never its argv

    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ids = itertools.count()
        self.cancelled: set[str] = set()

    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str:
        job_id = str(next(self._ids))
        script = f"for i in $(seq 1 {int(blocksize)}); do {cmd_string} & done; wait"
        with open(os.path.join(self.log_dir, f"block-{job_id}.log"), "ab") as log:
            self.procs[job_id] = subprocess.Popen(
                ["/bin/bash", "-c", script], env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return job_id

    def status(self, job_ids: Sequence[str]) -> list[JobState]:
        out = []
        for j in job_ids:
            p = self.procs[j]
            rc = p.poll()
            if rc is None:
                out.append(JobState.RUNNING)
            elif j in self.cancelled:
                out.append(JobState.CANCELLED)
            else:
                out.append(JobState.COMPLETED if rc == 0 else JobState.FAILED)
        return out

    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        out = []
        for j in job_ids:
            p = self.procs.get(j)
            if p is None:
                out.append(False)
                continue
            self.cancelled.add(j)
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    p.wait(3)
                    break
                except subprocess.TimeoutExpired:
                    continue
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out.append(True)
        return out

    def stderr_tail(self, job_id: str, max_bytes: int = 2000) -> str:
        with open(os.path.join(self.log_dir, f"block-{job_id}.log"), "rb") as f:
            return f.read()[-max_bytes:].decode("utf-8", "replace")

    def close(self) -> None:
        self.cancel([j for j, p in self.procs.items() if p.poll() is None])


def alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie counts as gone)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], timeout: float = 15.0) -> list[int]:
    """The pids still alive after waiting up to ``timeout`` seconds for them to end."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if alive(p)]
    return left


class Recorder(Monitor):
    """A monitor that keeps the block events it is told, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, str, str, str]] = []

    def start(self, run_id: str, run_dir: str) -> None:
        pass

    def block_event(self, executor: str, block_id: str, event: str, detail: str = "") -> None:
        self.events.append((executor, block_id, event, detail))

    def of(self, block_id: str) -> list[str]:
        return [e for _, b, e, _ in self.events if b == block_id]
