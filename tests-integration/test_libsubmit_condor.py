"""The HTCondor provider against a real HTCondor 23 personal pool (in a Debian trixie chroot,
started by tests-integration/services/condor/start.sh; its condor_* commands run as the
unprivileged user parslcondor because HTCondor refuses root's jobs). Scripts and outputs live
in the pool's shared directory, the only host directory the chroot sees."""
from __future__ import annotations

import os
import pathlib
import subprocess
import tempfile
from collections.abc import Iterator

import pytest

STATE = pathlib.Path("/var/tmp/parsl-condor")
SHARE = STATE / "share"
BIN = STATE / "bin"


def _why() -> str | None:
    if not (BIN / "condor_q").exists():
        return "HTCondor is not set up (run tests-integration/services/condor/start.sh as root)"
    try:
        r = subprocess.run([str(BIN / "condor_status"), "-af", "Name"], capture_output=True, text=True, timeout=30, cwd=SHARE)
    except (subprocess.TimeoutExpired, OSError) as e:
        return f"condor_status did not answer: {e}"
    if r.returncode != 0 or not r.stdout.strip():
        return f"the HTCondor pool is not running: {(r.stderr or r.stdout).strip() or 'no slots'}"
    return None


_reason = _why()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_reason is not None, reason=_reason or "")]

from libsubmit.channels.local.local import LocalChannel  # noqa: E402
from libsubmit.error import SubmitException  # noqa: E402
from libsubmit.providers.condor.condor import Condor  # noqa: E402
from parsl.interfaces import ExecutionProvider  # noqa: E402
from parsl.testing.provider_kit import ProviderConformance  # noqa: E402


def _channel(workdir: pathlib.Path) -> LocalChannel:
    scripts = workdir / "scripts"
    scripts.mkdir(exist_ok=True)
    scripts.chmod(0o777)  # the jobs (user parslcondor) write their logs next to the scripts
    return LocalChannel(userhome=str(workdir), envs={"PATH": f"{BIN}:{os.environ['PATH']}"}, scriptDir=str(scripts))


class TestCondorConformance(ProviderConformance):
    poll_timeout = 90.0
    poll_interval = 1.0

    @pytest.fixture
    def workdir(self) -> Iterator[pathlib.Path]:
        d = pathlib.Path(tempfile.mkdtemp(dir=SHARE))
        d.chmod(0o777)
        yield d

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return Condor(channel=_channel(workdir), project="parsl-tests", walltime="00:05:00", launcher="single_node")

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, Condor)
        (_path, job), = provider.companion_files("kit.1.0", "worker", "/tmp/kit.1.0.condor").items()
        return job

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        # a requirements expression HTCondor cannot parse
        return Condor(channel=_channel(workdir), requirements="(Memory >"), SubmitException, "Parse error in expression"
