"""A minimal real ExecutionProvider for the executor's own tests: each block is a bash
process group on this machine running the command ``blocksize`` times in parallel.

It exists so that parsl-executors can be tested without libsubmit installed (plugins do not
depend on each other); the end-to-end tests under tests-integration use libsubmit's Local
provider.
"""
from __future__ import annotations

import itertools
import os
import signal
import subprocess
from typing import Sequence

from parsl.interfaces import ExecutionProvider, JobState


class ProcessBlocks(ExecutionProvider):
    def __init__(self, log_dir: str) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._ids = itertools.count()
        self.cancelled: set[str] = set()

    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto") -> str:
        job_id = str(next(self._ids))
        script = f"for i in $(seq 1 {int(blocksize)}); do {cmd_string} & done; wait"
        with open(os.path.join(self.log_dir, f"block-{job_id}.log"), "ab") as log:
            self.procs[job_id] = subprocess.Popen(
                ["/bin/bash", "-c", script], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
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

    def close(self) -> None:
        self.cancel([j for j, p in self.procs.items() if p.poll() is None])
