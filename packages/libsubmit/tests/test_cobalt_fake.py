"""The Cobalt provider against a FAKE Cobalt (tests/fake_cobalt: a small qsub/qstat/qdel that
behaves like Cobalt's as the provider sees it; there is no Cobalt server in Debian). The jobs
themselves really run, as local process groups."""
from __future__ import annotations

import os
import pathlib

import pytest

from libsubmit.channels.local.local import LocalChannel
from libsubmit.error import SubmitException
from libsubmit.providers.cobalt.cobalt import Cobalt
from parsl import plugins
from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import ProviderConformance

FAKE = pathlib.Path(__file__).parent / "fake_cobalt"
GOLDEN = pathlib.Path(__file__).parent / "golden" / "cobalt.cobalt"


def _channel(workdir: pathlib.Path) -> LocalChannel:
    env = {"PATH": f"{FAKE}:{os.environ['PATH']}", "FAKE_COBALT_DIR": str(workdir / "cobalt-state")}
    return LocalChannel(userhome=str(workdir), envs=env, scriptDir=str(workdir / "scripts"))


class TestCobaltConformance(ProviderConformance):
    poll_timeout = 30.0
    poll_interval = 0.1
    golden_file = GOLDEN

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return Cobalt(channel=_channel(workdir), account="parsl", queue="default", walltime="00:30:00", launcher="single_node")

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, Cobalt)
        return provider.script_text("kit.1.0", "worker --x", 1, "/tmp/kit.1.0.cobalt")

    def check_failed_state(self, state: JobState) -> None:
        # Cobalt forgets a finished job whatever its exit code
        assert state is JobState.COMPLETED

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        return Cobalt(channel=_channel(workdir), queue="no-such-queue"), SubmitException, "queue 'no-such-queue' does not exist"


def test_submit_command_and_050_names() -> None:
    p = Cobalt(account="acct", queue="debug-cache-quad", walltime="01:00:30", nodes_per_block=4)
    assert p.submit_command("/s/j.cobalt") == "qsub -n 4 -t 61 -A acct -q debug-cache-quad -O /s/j --mode script /s/j.cobalt"
    assert plugins.get("provider", "cobalt") is Cobalt
    assert p.parse_status_output("JobID User WallTime Nodes State Location\n====\n12 u 00:10:00 1 queued None\n13 u 00:10:00 1 running x\n14 u 00:10:00 1 user_hold None\n") == {
        "12": JobState.PENDING, "13": JobState.RUNNING, "14": JobState.HELD,
    }
    with pytest.raises(ValueError, match="scheduler directive"):
        Cobalt(queue="q; rm -rf /").submit_command("/s/j.cobalt")
