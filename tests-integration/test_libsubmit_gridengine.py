"""The Grid Engine provider against a real Son of Grid Engine (sge_qmaster + sge_execd on
127.0.0.1, started by tests-integration/services/gridengine/start.sh)."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

SGE = {"SGE_ROOT": "/var/lib/gridengine", "SGE_CELL": "default"}


def _why() -> str | None:
    if shutil.which("qstat") is None or not pathlib.Path(SGE["SGE_ROOT"], SGE["SGE_CELL"], "common", "act_qmaster").exists():
        return "Grid Engine is not installed (run tests-integration/services/gridengine/start.sh as root)"
    try:
        r = subprocess.run(["qstat", "-f", "-q", "all.q"], capture_output=True, text=True, timeout=15, env={**os.environ, **SGE})
    except subprocess.TimeoutExpired:
        return "qstat did not answer within 15 s"
    if r.returncode != 0 or "all.q@" not in r.stdout:
        return f"the Grid Engine service is not running: {(r.stderr or r.stdout).strip()}"
    return None


_reason = _why()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_reason is not None, reason=_reason or "")]

from libsubmit.channels.local.local import LocalChannel  # noqa: E402
from libsubmit.error import SubmitException  # noqa: E402
from libsubmit.providers.gridengine.gridengine import GridEngine  # noqa: E402
from parsl.interfaces import ExecutionProvider, JobState  # noqa: E402
from parsl.testing.provider_kit import ProviderConformance, wait_for_state  # noqa: E402


def _channel(workdir: pathlib.Path) -> LocalChannel:
    return LocalChannel(userhome=str(workdir), envs=SGE, scriptDir=str(workdir / "scripts"))


class TestGridEngineConformance(ProviderConformance):
    poll_timeout = 60.0
    poll_interval = 0.5

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return GridEngine(channel=_channel(workdir), queue="all.q", walltime="00:05:00")

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, GridEngine)
        return provider.script_text("kit.1.0", "worker", 1, "/tmp/kit.1.0.sge")

    def check_failed_state(self, state: JobState) -> None:
        # Grid Engine forgets a finished job whatever its exit code
        assert state is JobState.COMPLETED

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        return GridEngine(channel=_channel(workdir), queue="no-such-queue"), SubmitException, 'unknown queue "no-such-queue"'


def test_two_slot_block_through_the_smp_pe(tmp_path: pathlib.Path) -> None:
    p = GridEngine(channel=_channel(tmp_path), tasks_per_node=2, walltime="00:05:00")
    job = p.submit(f"echo $NSLOTS >> {tmp_path}/slots", 1, "pe")
    assert wait_for_state(p, job, lambda s: s.terminal, 60, 0.5)[-1] is JobState.COMPLETED
    assert (tmp_path / "slots").read_text().split() == ["2", "2"]
