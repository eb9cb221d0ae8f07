"""The Slurm provider against a real Slurm (slurmctld + slurmd + munge on 127.0.0.1, started
by tests-integration/services/slurm/start.sh). Skips when ``sinfo`` gets no answer.

Slurm keeps finished jobs listed (MinJobAge), so "a job that vanishes from the queue becomes
terminal" is exercised for real by the Grid Engine and Cobalt tests, whose schedulers forget
a job as soon as it ends."""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import time

import pytest

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import ProviderConformance, wait_for_state


def _slurm_answers() -> str | None:
    if shutil.which("sinfo") is None:
        return "Slurm is not installed (run tests-integration/services/slurm/start.sh as root)"
    try:
        r = subprocess.run(["sinfo", "--noheader", "--Node", "--format=%t"], capture_output=True, text=True, timeout=15)
    except subprocess.TimeoutExpired:
        return "sinfo did not answer within 15 s"
    states = r.stdout.split()
    if r.returncode != 0 or not any(s.rstrip("*") in {"idle", "mix", "alloc"} for s in states):
        return f"the Slurm service is not running (sinfo: {(r.stderr or r.stdout).strip() or 'no nodes'}); start tests-integration/services/slurm/start.sh"
    return None


_why = _slurm_answers()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_why is not None, reason=_why or "")]

from libsubmit.channels.local.local import LocalChannel  # noqa: E402
from libsubmit.error import SchedulerCommandFailed, SubmitException  # noqa: E402
from libsubmit.providers.slurm.slurm import Slurm  # noqa: E402


def _slurm(workdir: pathlib.Path, **kwargs: object) -> Slurm:
    kwargs.setdefault("walltime", "00:05:00")
    channel = kwargs.pop("channel", None) or LocalChannel(userhome=str(workdir), scriptDir=str(workdir / "scripts"))
    return Slurm(channel=channel, **kwargs)  # type: ignore[arg-type]


class TestSlurmConformance(ProviderConformance):
    """The kit's life-cycle through sbatch/squeue/scancel, with the srun launcher."""

    poll_timeout = 60.0

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return _slurm(workdir, partition="debug")

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, Slurm)
        return provider.script_text("kit.1.0", "worker", 1, "/tmp/kit.1.0.submit")

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        return _slurm(workdir, partition="no-such-partition"), SubmitException, "Invalid partition name specified"


def test_pending_then_running_then_completed(tmp_path: pathlib.Path) -> None:
    """An exclusive block holds the only node, so a second block pends until it is cancelled."""
    p = _slurm(tmp_path, overrides="#SBATCH --exclusive", launcher="single_node")
    blocker = p.submit(f"touch {tmp_path}/blocker; sleep 300", 1, "blocker")
    wait_for_state(p, blocker, lambda s: s is JobState.RUNNING, 60)
    waiter = p.submit(f"echo done > {tmp_path}/waiter", 1, "waiter")
    time.sleep(2)
    assert p.status([waiter]) == [JobState.PENDING]
    assert p.current_capacity == 2
    assert p.cancel([blocker]) == [True]
    seen = wait_for_state(p, waiter, lambda s: s.terminal, 60)
    assert seen[-1] is JobState.COMPLETED and JobState.PENDING in seen[:1]
    assert (tmp_path / "waiter").read_text() == "done\n"
    assert p.status([blocker]) == [JobState.CANCELLED]


def test_stderr_tail_of_a_failed_block(tmp_path: pathlib.Path) -> None:
    p = _slurm(tmp_path, launcher="single_node")
    job = p.submit("echo 'worker: image not found' >&2; exit 3", 1, "failing")
    wait_for_state(p, job, lambda s: s.terminal, 60)
    assert "worker: image not found" in p.stderr_tail(job)
    assert p.stderr_tail("999999999") == ""


def test_srun_launcher_starts_tasks_per_node(tmp_path: pathlib.Path) -> None:
    p = _slurm(tmp_path, tasks_per_node=2)  # srun is the default launcher
    job = p.submit(f'echo "task $SLURM_PROCID" >> {tmp_path}/tasks', 1, "srun")
    assert wait_for_state(p, job, lambda s: s.terminal, 60)[-1] is JobState.COMPLETED
    assert sorted((tmp_path / "tasks").read_text().splitlines()) == ["task 0", "task 1"]


def test_srun_mpi_launcher_runs_under_slurm(tmp_path: pathlib.Path) -> None:
    p = _slurm(tmp_path, launcher="srun_mpi", tasks_per_node=1)
    job = p.submit(f'echo "nodes=$NODES_PER_WORKER step=$SLURM_STEP_ID" >> {tmp_path}/mpi', 1, "srunmpi")
    assert wait_for_state(p, job, lambda s: s.terminal, 60)[-1] is JobState.COMPLETED
    assert (tmp_path / "mpi").read_text().startswith("nodes=1 step=")


def test_scheduler_down_gives_the_scheduler_message(tmp_path: pathlib.Path) -> None:
    conf = tmp_path / "slurm.conf"
    text = pathlib.Path("/etc/slurm/slurm.conf").read_text().replace("SlurmctldPort=6817", "SlurmctldPort=6899")
    conf.write_text(text + "MessageTimeout=1\n")
    ch = LocalChannel(envs={"SLURM_CONF": str(conf)}, scriptDir=str(tmp_path / "scripts"))
    p = _slurm(tmp_path, channel=ch, cmd_timeout=60)
    with pytest.raises(SubmitException, match="Unable to contact slurm controller") as info:
        p.submit("true", 1, "down")
    assert info.value.exit_code != 0 and "sbatch" in info.value.command
    with pytest.raises(SchedulerCommandFailed, match="Unable to contact slurm controller"):
        p.status(["1"])


def test_050_config_dict_submits(tmp_path: pathlib.Path) -> None:
    config = {
        "site": "slurm.local",
        "auth": {"channel": "local", "scriptDir": str(tmp_path / "scripts")},
        "execution": {
            "executor": "ipp",
            "provider": "slurm",
            "block": {"nodes": 1, "taskBlocks": 1, "walltime": "00:02:00", "options": {"partition": "debug"}},
        },
    }
    p = Slurm(config)
    job = p.submit(f"echo from-dict > {tmp_path}/dict", 1)
    assert wait_for_state(p, job, lambda s: s.terminal, 60)[-1] is JobState.COMPLETED
    assert (tmp_path / "dict").read_text() == "from-dict\n"
