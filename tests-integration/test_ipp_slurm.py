"""The IPyParallelExecutor with libsubmit's Slurm provider under the real local Slurm
(slurmctld + slurmd on 127.0.0.1, started by tests-integration/services/slurm/start.sh):
engines run as Slurm job steps (srun launcher), connect back to the controller on loopback,
and go away when the kernel is cleaned up. Skips with the reason when Slurm is not there."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, wait_gone, wait_until


def _slurm_missing() -> str | None:
    try:
        import libsubmit.providers.slurm.slurm  # noqa: F401
    except ImportError:
        return "libsubmit's Slurm provider is not installed"
    if shutil.which("sinfo") is None or shutil.which("sbatch") is None:
        return "Slurm is not installed (run tests-integration/services/slurm/start.sh as root)"
    try:
        r = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 15 s"
    if r.returncode != 0 or not any(s.rstrip("*") in {"idle", "mix", "alloc"} for s in r.stdout.split()):
        return f"the Slurm service is not running (sinfo: {(r.stderr or r.stdout).strip() or 'no nodes'})"
    return None


pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("ipp_stack")]


@pytest.fixture(autouse=True)
def _slurm_up() -> None:
    why = _slurm_missing()  # asked when the test runs: the shared Slurm service may come and go
    if why:
        pytest.skip(why)


def _squeue_jobs(name_part: str) -> list[str]:
    r = subprocess.run(["squeue", "--noheader", "--format=%i %j"], capture_output=True, text=True, timeout=15)
    return [line.split()[0] for line in r.stdout.splitlines() if name_part in line]


def _slurm_site(name: str, block: dict, **execution: object) -> dict:
    return {"site": name, "auth": {"channel": "local"}, "execution": {"executor": "ipp", "provider": "slurm", "block": block, **execution}}


def test_ipp_engines_in_a_slurm_block() -> None:
    from parsl import App, DataFlowKernel

    site = _slurm_site("Slurm_IPP", {"nodes": 1, "taskBlocks": 2, "initBlocks": 1, "minBlocks": 1, "maxBlocks": 1, "walltime": "00:05:00", "options": {"partition": "debug"}})
    dfk = DataFlowKernel(config=config(site))
    ex = dfk.executors["Slurm_IPP"]
    ex.wait_for_engines(2, timeout=120)

    @App("python", dfk)
    def where():
        import os

        return os.getpid(), os.environ.get("SLURM_JOB_ID"), os.environ.get("SLURM_PROCID")

    @App("bash", dfk)
    def step(stdout=None):
        return "echo job $SLURM_JOB_ID"

    got = [where() for _ in range(8)]
    results = [f.result(timeout=120) for f in got]
    job_ids = {r[1] for r in results}
    assert len(job_ids) == 1 and None not in job_ids  # one block = one Slurm job
    assert {r[2] for r in results} <= {"0", "1"}
    (job,) = job_ids
    assert list(ex.blocks.values()) == [job]
    assert step(stdout="step.out").result(timeout=60) == 0
    assert open("step.out").read().strip() == f"job {job}"
    engines = list(ex.engine_pids().values())
    controller = ex.controller.pid
    dfk.cleanup()
    assert wait_gone([*engines, controller], timeout=60) == []
    assert wait_until(lambda: job not in _squeue_jobs(""), 60), "the block's Slurm job is still queued"


def test_refused_blocks_are_capped_and_fail_the_task_with_slurms_message(caplog: pytest.LogCaptureFixture) -> None:
    """Slurm refuses every block (no such partition): each waiting task fails with Slurm's own
    message, and after max_block_failures refusals sbatch is not called again, however many
    tasks come."""
    from parsl import App, DataFlowKernel
    from parsl.executors.errors import ScalingFailed

    site = _slurm_site(
        "Refused",
        {"initBlocks": 0, "minBlocks": 0, "maxBlocks": 1, "walltime": "00:05:00", "options": {"partition": "no-such-partition"}},
        options={"strategy_interval": 0.2},
    )
    dfk = DataFlowKernel(config=config(site))

    @App("python", dfk)
    def never() -> int:
        return 1

    for _ in range(6):
        with pytest.raises(ScalingFailed, match="Invalid partition name specified"):
            never().result(timeout=30)
    dfk.cleanup()
    refused = [r for r in caplog.records if r.levelname == "WARNING" and "could not be submitted" in r.getMessage()]
    assert len(refused) == 3 and "3 blocks in a row failed to start" in caplog.text
