"""The Torque provider against Slurm's Torque-compatible wrappers (qsub/qstat/qdel from Debian's
slurm-wlm-torque, unpacked into /opt/parsl-slurm-torque by services/slurm/start.sh) on the
real Slurm: there is no Torque/PBS server in Debian. The wrappers ignore ``#PBS -o/-e`` and list
finished jobs (also failed and cancelled ones) as ``C``, as Torque does."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

WRAPPERS = pathlib.Path("/opt/parsl-slurm-torque/usr/bin")


def _why() -> str | None:
    if not (WRAPPERS / "qsub").exists():
        return f"Slurm's Torque wrappers are not in {WRAPPERS} (run tests-integration/services/slurm/start.sh as root)"
    if shutil.which("sinfo") is None:
        return "Slurm is not installed"
    r = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=15)
    if r.returncode != 0 or not r.stdout.strip():
        return f"the Slurm service is not running: {r.stderr.strip()}"
    return None


_reason = _why()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_reason is not None, reason=_reason or "")]

from libsubmit.channels.local.local import LocalChannel  # noqa: E402
from libsubmit.error import SubmitException  # noqa: E402
from libsubmit.providers.torque.torque import Torque  # noqa: E402
from parsl.interfaces import ExecutionProvider, JobState  # noqa: E402
from parsl.testing.provider_kit import ProviderConformance  # noqa: E402


def _channel(workdir: pathlib.Path) -> LocalChannel:
    return LocalChannel(userhome=str(workdir), envs={"PATH": f"{WRAPPERS}:{os.environ['PATH']}"}, scriptDir=str(workdir / "scripts"))


class TestTorqueConformance(ProviderConformance):
    poll_timeout = 60.0

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return Torque(channel=_channel(workdir), queue="debug", walltime="00:05:00")

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, Torque)
        return provider.script_text("kit.1.0", "worker", 1, "/tmp/kit.1.0.pbs")

    def check_failed_state(self, state: JobState) -> None:
        # Torque's qstat shows every finished job as C
        assert state is JobState.COMPLETED

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        return Torque(channel=_channel(workdir), queue="no-such-queue"), SubmitException, "Invalid partition name specified"
