"""The HighThroughputExecutor with libsubmit's Slurm provider under the real local Slurm
(slurmctld + slurmd on 127.0.0.1, started by tests-integration/services/slurm/start.sh): two
blocks whose pools start as job steps through the srun launcher and connect back on loopback,
and a scale 0 -> 4 -> 0 seen in squeue. Skips with the reason when Slurm is not there."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import wait_gone, wait_until
from test_ipp_slurm import _slurm_missing, _squeue_jobs

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("htex_stack")]


@pytest.fixture(autouse=True)
def _slurm_up():
    why = _slurm_missing()
    if why:
        pytest.skip(why)


def _slurm(**kw):
    from libsubmit.providers.slurm.slurm import Slurm

    return Slurm(partition="debug", nodes_per_block=1, tasks_per_node=1, walltime="00:05:00", **kw)


def _ours(ex) -> list[str]:
    return _squeue_jobs(f"parsl.{ex.label}.block")


def test_two_blocks_through_srun(tmp_path) -> None:
    import parsl
    from parsl import python_app
    from parsl.config import Config
    from parsl_executors.htex import HighThroughputExecutor

    ex = HighThroughputExecutor(label="htex_slurm", max_workers_per_node=1, heartbeat_period=1,
                                provider=_slurm(init_blocks=2, min_blocks=2, max_blocks=2))

    @python_app
    def where():
        import os
        import time

        time.sleep(0.2)
        return os.environ.get("SLURM_JOB_ID"), os.environ.get("SLURM_STEP_ID")

    with parsl.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"))):
        ex.wait_for_workers(2, timeout=120)
        results = [f.result(timeout=120) for f in [where() for _ in range(8)]]
        jobs = {r[0] for r in results}
        assert jobs == set(ex.blocks.values()) and len(jobs) == 2  # both blocks ran tasks
        assert all(step is not None for _, step in results)  # inside an srun job step
        pids = [p["pid"] for p in ex.pools] + ex.worker_pids()
    assert wait_gone(pids, timeout=60) == []
    assert wait_until(lambda: not (jobs & set(_squeue_jobs(""))), 60), "the blocks' Slurm jobs are still queued"


def test_scale_0_to_4_to_0(tmp_path) -> None:
    from parsl.interfaces import ExecutorContext
    from parsl_executors.htex import HighThroughputExecutor

    ex = HighThroughputExecutor(label="htex_scale", max_workers_per_node=1, flow_control=False,
                                provider=_slurm(init_blocks=0, min_blocks=0, max_blocks=4))
    ex.start(ExecutorContext("scale", str(tmp_path)))
    try:
        assert ex.blocks == {} and _ours(ex) == []
        added = ex.scale_out(4)
        assert len(added) == 4 and wait_until(lambda: len(_ours(ex)) == 4, 60)
        assert sorted(_ours(ex)) == sorted(ex.blocks.values())
        assert ex.held_blocks() == 4
        ex.wait_for_workers(1, timeout=120)  # the node has 2 cores: some blocks run, the rest wait
        assert sorted(ex.scale_in(4)) == sorted(added)
        assert wait_until(lambda: _ours(ex) == [], 60), subprocess.run(["squeue"], capture_output=True, text=True).stdout
        assert ex.blocks == {}
    finally:
        ex.shutdown()
