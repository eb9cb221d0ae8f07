"""Providers and launchers under today's upstream names and keywords (``parsl.providers``,
``parsl.launchers``): the launcher classes emit what the pure functions emit, the providers
translate upstream keywords into the same scripts, and a LocalProvider block with
``worker_init`` runs for real."""
from __future__ import annotations

import pathlib
import subprocess

import pytest

from libsubmit import launchers
from libsubmit.channels.local.local import LocalChannel
from parsl.errors import ConfigurationError
from parsl.interfaces import JobState, Launcher

CMD = "worker --url 'tcp://127.0.0.1:5000'"


@pytest.mark.parametrize(
    ("cls", "func"),
    [
        ("SingleNodeLauncher", launchers.singleNodeLauncher),
        ("SrunLauncher", launchers.srunLauncher),
        ("SrunMPILauncher", launchers.srunMpiLauncher),
        ("AprunLauncher", launchers.aprunLauncher),
        ("MpiExecLauncher", launchers.mpiexecLauncher),
        ("MpiRunLauncher", launchers.mpirunLauncher),
        ("JsrunLauncher", launchers.jsrunLauncher),
        ("GnuParallelLauncher", launchers.gnuParallelLauncher),
        ("SimpleLauncher", launchers.simpleLauncher),
    ],
)
def test_launcher_classes_are_the_functions(cls: str, func: object) -> None:
    from parsl import launchers as upstream

    obj = getattr(upstream, cls)()
    assert isinstance(obj, Launcher) and isinstance(obj, upstream.Launcher)
    assert obj(CMD, 2, 3) == func(CMD, 2, nodes_per_block=3)  # type: ignore[operator]  (the 0.5.0 functions take walltime third)


def test_overrides_go_on_the_tool_command_line() -> None:
    from parsl.launchers import MpiExecLauncher, SrunLauncher

    assert "srun --ntasks=$WORKERCOUNT --ntasks-per-node=$TASKS_PER_NODE --nodes=2 -l --cpu-bind=cores bash -c" in SrunLauncher(overrides="--cpu-bind=cores")(CMD, 1, 2)
    assert "mpiexec -n $WORKERCOUNT --bind-to core bash -c" in MpiExecLauncher(overrides="--bind-to core")(CMD, 1, 1)
    with pytest.raises(ConfigurationError, match="overrides"):
        SrunLauncher(overrides="a\nb")(CMD, 1, 1)


def test_wrapped_launcher_prefixes_the_command(tmp_path: pathlib.Path) -> None:
    from parsl.launchers import WrappedLauncher

    script = WrappedLauncher(prepend="env FOO=bar")("printenv FOO > out.txt", 1, 1)
    subprocess.run(["bash", "-c", script], cwd=tmp_path, check=True, timeout=30)
    assert (tmp_path / "out.txt").read_text() == "bar\n"


def test_slurm_provider_keywords() -> None:
    from parsl.launchers import SrunLauncher
    from parsl.providers import SlurmProvider

    p = SlurmProvider(
        partition="debug",
        account="proj1",
        qos="high",
        constraint="haswell",
        nodes_per_block=2,
        cores_per_node=16,
        mem_per_node=8,
        init_blocks=1,
        min_blocks=0,
        max_blocks=4,
        walltime="01:00:00",
        scheduler_options="#SBATCH --gres=gpu:1",
        worker_init="module load python",
        exclusive=False,
        launcher=SrunLauncher(),
        cmd_timeout=20,
    )
    text = p.script_text("job", CMD, 1, "/scripts/job.submit")
    for line in ("#SBATCH --partition=debug", "#SBATCH --account=proj1", "#SBATCH --qos=high", "#SBATCH --constraint=haswell",
                 "#SBATCH --cpus-per-task=16", "#SBATCH --mem=8g", "#SBATCH --gres=gpu:1", "#SBATCH --nodes=2",
                 "#SBATCH --time=01:00:00", "module load python"):
        assert line + "\n" in text
    assert "--exclusive" not in text
    assert text.index("module load python") < text.index("srun ")
    assert (p.shape.init_blocks, p.shape.min_blocks, p.shape.max_blocks) == (1, 0, 4)
    assert p.cmd_timeout == 20
    # upstream's defaults: exclusive nodes, one block at most, the single-node launcher
    d = SlurmProvider()
    assert "#SBATCH --exclusive\n" in d.script_text("job", CMD, 1, "/scripts/job.submit")
    assert d.shape.max_blocks == 1 and d.launcher_name == "single_node"


def test_directive_values_are_checked() -> None:
    from parsl.providers import SlurmProvider

    with pytest.raises(ConfigurationError, match="qos"):
        SlurmProvider(qos="x\n#SBATCH --evil")


def test_other_scheduler_providers_take_upstream_keywords() -> None:
    from parsl.providers import CobaltProvider, CondorProvider, GridEngineProvider, TorqueProvider

    t = TorqueProvider(account="a", queue="q", scheduler_options="#PBS -l gpus=1", worker_init="source env.sh", nodes_per_block=2)
    text = t.script_text("job", CMD, 1, "/scripts/job.pbs")
    assert "#PBS -l gpus=1\n" in text and "source env.sh\n" in text and "aprun " in text
    g = GridEngineProvider(queue="all.q", worker_init="ulimit -n 4096", walltime="00:05:00")
    assert "ulimit -n 4096\n" in g.script_text("job", CMD, 1, "/scripts/job.sge")
    c = CobaltProvider(queue="debug", account="proj", worker_init="module load x")
    assert "module load x" in c.script_text("job", CMD, 1, "/scripts/job.cobalt")
    h = CondorProvider(cores_per_slot=4, mem_per_slot=2, environment={"A": "1"}, project="p", requirements="OpSys == \"LINUX\"",
                       worker_init="echo setup", transfer_input_files=["in.dat"])
    submit = h.script_text("job", CMD, 1, "/scripts/job.condor")
    assert "request_cpus = 4\n" in submit and "request_memory = 2048\n" in submit and "environment = \"A='1'\"\n" in submit
    assert "transfer_input_files = in.dat\n" in submit and '+ProjectName = "p"' in submit
    assert "echo setup" in h.companion_files("job", CMD, "/scripts/job.condor")["/scripts/job.sh"]
    with pytest.raises(ConfigurationError, match="environment"):
        CondorProvider(environment={"A": 'x"y'})


def test_local_provider_runs_worker_init_for_real(tmp_path: pathlib.Path) -> None:
    from parsl.launchers import SingleNodeLauncher
    from parsl.providers import LocalProvider

    p = LocalProvider(
        channel=LocalChannel(userhome=str(tmp_path), scriptDir=str(tmp_path / "scripts")),
        worker_init=f"export GREETING=hello; cd {tmp_path}",
        launcher=SingleNodeLauncher(),
        init_blocks=1,
        max_blocks=2,
        move_files=False,
    )
    job = p.submit('echo "$GREETING" >> out.txt', 1)
    try:
        assert p.wait(job, timeout=30) is JobState.COMPLETED
    finally:
        p.shutdown()
    assert (tmp_path / "out.txt").read_text() == "hello\n"
    assert p.shape.max_blocks == 2


def test_ssh_channel_refuses_unsupported_auth() -> None:
    pytest.importorskip("paramiko")
    from parsl.channels import SSHChannel

    with pytest.raises(ConfigurationError, match="GSSAPI"):
        SSHChannel("127.0.0.1", gssapi_auth=True)
