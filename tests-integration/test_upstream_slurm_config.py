"""An upstream-style Slurm config against the real Slurm (tests-integration/services/slurm):
``SlurmProvider`` with upstream's keywords and an ``SrunLauncher`` object submits a block that
runs ``worker_init`` and then the workers."""
from __future__ import annotations

import pathlib

import pytest
from test_libsubmit_slurm import _why  # the same service check

pytestmark = [pytest.mark.integration, pytest.mark.skipif(_why is not None, reason=_why or "")]


def test_upstream_slurm_provider_runs_a_block(tmp_path: pathlib.Path) -> None:
    from libsubmit.channels.local.local import LocalChannel
    from parsl.interfaces import JobState
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider
    from parsl.testing.provider_kit import wait_for_state

    provider = SlurmProvider(
        partition="debug",
        nodes_per_block=1,
        init_blocks=1,
        min_blocks=0,
        max_blocks=1,
        walltime="00:05:00",
        launcher=SrunLauncher(overrides="--kill-on-bad-exit=1"),
        worker_init=f"export GREETING=hello-from-init; cd {tmp_path}",
        exclusive=False,
        channel=LocalChannel(userhome=str(tmp_path), scriptDir=str(tmp_path / "scripts")),
    )
    job = provider.submit('echo "$GREETING $SLURM_JOB_ID" >> out.txt', 1, "upstream")
    seen = wait_for_state(provider, job, lambda s: s.terminal, 90)
    assert seen[-1] is JobState.COMPLETED, seen
    assert (tmp_path / "out.txt").read_text() == f"hello-from-init {job}\n"
