"""The Turbine (swift_t) executor end to end with Debian's Open MPI
(tests-integration/services/mpi/start.sh) and the real one-node Slurm
(tests-integration/services/slurm/start.sh): 10,000 tasks across 4 local ranks, and a block
started by srun inside a Slurm job whose MPI hello-world app runs 4 ranks through nested srun
(PMIx)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _mpi_missing() -> str | None:
    if shutil.which("mpiexec") is None:
        return "Open MPI is not installed (run tests-integration/services/mpi/start.sh as root)"
    try:
        import mpi4py  # noqa: F401

        import libsubmit  # noqa: F401
    except ImportError as e:
        return f"{e.name} is not installed: pip install 'parsl-executors[mpi]' libsubmit"
    return None


def _slurm_missing() -> str | None:
    if shutil.which("sinfo") is None:
        return "Slurm is not installed (run tests-integration/services/slurm/start.sh as root)"
    r = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t"], capture_output=True, text=True, timeout=15)
    if r.returncode != 0 or not any(s.rstrip("*~#") in {"idle", "mix", "alloc", "plnd"} for s in r.stdout.split()):
        return f"the Slurm service is not running (sinfo: {(r.stderr or r.stdout).strip() or 'no nodes'})"
    return None


@pytest.fixture
def in_tmp(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    why = _mpi_missing()
    if why:
        pytest.skip(why)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _procs_of(ex: Any) -> list[int]:
    return [int(j) for j in ex.blocks.values() if j.isdigit()] + [pid for _h, pid in ex.ranks().values() if pid]


def _gone(pids: list[int], timeout: float = 20.0) -> list[int]:
    import time

    import psutil

    def alive(p: int) -> bool:
        try:
            return psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if alive(p)]


def test_ten_thousand_tasks_across_four_ranks(in_tmp: Any) -> None:
    from parsl import DataFlowKernel, python_app
    from parsl_executors.swift_t import TurbineExecutor

    ex = TurbineExecutor()
    dfk = DataFlowKernel(executors=[ex])

    @python_app(data_flow_kernel=dfk)
    def square(x: int) -> tuple[int, int]:
        import os

        return x * x, os.getpid()

    futs = [square(i) for i in range(10_000)]
    results = [f.result(timeout=300) for f in futs]
    assert [r for r, _pid in results] == [i * i for i in range(10_000)]
    workers = {pid for (_b, r), (_h, pid) in ex.ranks().items() if r != 0}
    used = {pid for _r, pid in results}
    assert used <= workers and len(used) == 3  # every worker rank took tasks (pull)
    procs = _procs_of(ex)
    dfk.cleanup()
    assert _gone(procs) == []


def test_slurm_block_with_srun_runs_an_mpi_hello_world_of_four_ranks(in_tmp: Any) -> None:
    why = _slurm_missing()
    if why:
        pytest.skip(why)
    from parsl import App, DataFlowKernel

    site = {
        "site": "mpi_slurm",
        "auth": {"channel": "local", "scriptDir": str(in_tmp / "scripts")},
        "execution": {
            "executor": "swift_t",
            "provider": "slurm",
            "block": {
                "nodes": 1,
                # a string: the provider then asks for no --ntasks-per-node, which the 2-CPU
                # node could not grant; srun overcommits the 4 ranks instead
                "taskBlocks": "4",
                "initBlocks": 1, "minBlocks": 1, "maxBlocks": 1, "walltime": "00:05:00",
                "options": {"partition": "debug", "overrides": "export SLURM_OVERCOMMIT=1"},
            },
        },
    }
    dfk = DataFlowKernel(config={"sites": [site], "globals": {"lazyErrors": True}})
    ex = dfk.executors["mpi_slurm"]
    hello_world = "from mpi4py import MPI; c = MPI.COMM_WORLD; got = c.gather((c.Get_rank(), c.Get_size())); got and print(got)"

    @App("python", dfk)
    def where() -> tuple[str | None, str | None]:
        import os

        return os.environ.get("SLURM_JOB_ID"), os.environ.get("PARSL_MPI_PREFIX")

    @App("bash", dfk)
    def hello(stdout: Any = None, stderr: Any = None, parsl_resource_specification: Any = {"num_ranks": 4}) -> str:  # noqa: B006
        return "echo $PARSL_MPI_PREFIX; $PARSL_MPI_PREFIX " + sys.executable + f" -c '{hello_world}'"

    try:
        job, prefix = where().result(timeout=180)
        assert job is not None and prefix is None  # a rank inside the Slurm job; no prefix for an ordinary task
        out = in_tmp / "hello.out"
        assert hello(stdout=str(out), stderr=str(in_tmp / "hello.err")).result(timeout=180) == 0
        first, second = out.read_text().splitlines()
        assert first.startswith("srun --overlap --nodes=1 --ntasks=4 --ntasks-per-node=4 --nodelist=")
        assert second == "[(0, 4), (1, 4), (2, 4), (3, 4)]"
        assert len(ex.ranks()) == 4
        (script,) = (in_tmp / "scripts").glob("*.submit")
        assert "srun --ntasks=$WORKERCOUNT" in script.read_text()  # the block's ranks were started by srun
    finally:
        dfk.cleanup()
    assert _job_ended(str(job)), f"Slurm job {job} of the block still runs after cleanup"


def _job_ended(job: str, timeout: float = 60.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = subprocess.run(["squeue", "--noheader", "--states=all", "--format=%i %t"], capture_output=True, text=True, timeout=15)
        states = [line.split()[1] for line in r.stdout.splitlines() if line.split()[0] == job]
        if not states or states[0] in {"CA", "CD", "F", "TO"}:
            return True
        time.sleep(0.5)
    return False
