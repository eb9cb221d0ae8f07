"""The Slurm provider's pure parts: its script (golden, bash -n), option validation and state
parsing. The real life-cycle runs against a real Slurm in
tests-integration/test_libsubmit_slurm.py."""
from __future__ import annotations

import pathlib
import subprocess

import pytest

from libsubmit.channels.local.local import LocalChannel
from libsubmit.providers.slurm.slurm import Slurm
from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

GOLDEN = pathlib.Path(__file__).parent / "golden" / "slurm.submit"

CORI = {
    "site": "Cori.Remote.IPP",
    "auth": {"channel": "local", "scriptDir": "/global/homes/y/username/parsl_scripts"},
    "execution": {
        "executor": "ipp",
        "provider": "slurm",
        "block": {
            "nodes": 2,
            "taskBlocks": 1,
            "walltime": "00:10:00",
            "initBlocks": 1,
            "minBlocks": 0,
            "maxBlocks": 1,
            "scriptDir": ".",
            "options": {
                "partition": "debug",
                "overrides": "#SBATCH --constraint=haswell\nmodule load python/3.5-anaconda ;\nsource activate /global/homes/y/yadunand/.conda/envs/parsl_env_3.5",
            },
        },
    },
}


def test_050_config_and_golden_script(tmp_path: pathlib.Path) -> None:
    import os

    p = Slurm(config=CORI)
    assert plugins.get("provider", "slurm") is Slurm
    assert p.shape.nodes_per_block == 2 and p.shape.max_blocks == 1
    assert p.options["partition"] == "debug" and p.launcher_name == "srun"
    assert p.channels_required
    text = p.script_text("parsl.auto.1.0", "ipengine --file=x.json", 1, "/scripts/parsl.auto.1.0.submit")
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_keywords_and_channel() -> None:
    p = Slurm(channel=LocalChannel(scriptDir="/tmp/s"), partition="debug", nodes_per_block=1, tasks_per_node="$(($CORES / 2))", walltime="01:00:00")
    text = p.script_text("j", "w", 1, "/tmp/s/j.submit")
    assert "#SBATCH --partition=debug\n" in text and "--ntasks-per-node" not in text.split("srun")[0]
    assert "#SBATCH --time=01:00:00\n" in text


@pytest.mark.parametrize("partition", ["debug\n#SBATCH --uid=0", "a b", "x;y"])
def test_partition_cannot_inject_directives(partition: str) -> None:
    with pytest.raises(ConfigurationError, match="scheduler directive") as info:
        Slurm(partition=partition)  # refused when built, not at the first block
    assert info.value.path == "Slurm.partition"


def test_unknown_option_names_the_key_path() -> None:
    bad = {**CORI, "execution": {**CORI["execution"], "block": {"options": {"partion": "debug"}}}}  # type: ignore[dict-item]
    with pytest.raises(ConfigurationError, match="did you mean 'partition'") as info:
        Slurm(config=bad)
    assert info.value.path == "config.execution.block.options.partion"
    with pytest.raises(ConfigurationError, match="expected a string"):
        Slurm(partition=3)


def test_parse_squeue_and_sbatch() -> None:
    p = Slurm()
    out = "12 PD\n13 R\n14 CD\n15 CA\n16 F\n17 TO\n18 CG\n19 NF\n20 ZZ\n"
    assert p.parse_status_output(out) == {
        "12": JobState.PENDING, "13": JobState.RUNNING, "14": JobState.COMPLETED, "15": JobState.CANCELLED,
        "16": JobState.FAILED, "17": JobState.TIMEOUT, "18": JobState.RUNNING, "19": JobState.FAILED, "20": JobState.UNKNOWN,
    }
    assert p.parse_submit_output("42\n") == "42"
    assert p.parse_submit_output("42;cluster\n") == "42"


def test_hung_scheduler_command_times_out(tmp_path: pathlib.Path) -> None:
    """A scheduler command that hangs is killed after cmd_timeout (here a fake sbatch that
    sleeps, put first on PATH: it stands for a controller that never answers)."""
    from libsubmit.channels.errors import ChannelTimeout

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sbatch").write_text("#!/bin/bash\nsleep 300\n")
    (bindir / "sbatch").chmod(0o755)
    import os
    import time

    ch = LocalChannel(envs={"PATH": f"{bindir}:{os.environ['PATH']}"}, scriptDir=str(tmp_path / "s"))
    p = Slurm(channel=ch, cmd_timeout=1)
    t0 = time.monotonic()
    with pytest.raises(ChannelTimeout):
        p.submit("true", 1)
    assert time.monotonic() - t0 < 10


def test_bad_provider_values_are_refused_at_construction() -> None:
    """A partition that would end the directive line, or a timeout given as a string, is
    refused when the provider is built, not at the first block."""
    from libsubmit.providers.local.local import Local
    from libsubmit.providers.slurm.slurm import Slurm
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match=r"Slurm\.partition: 'debug;rm' cannot go into a scheduler directive"):
        Slurm(partition="debug;rm")
    with pytest.raises(ConfigurationError, match=r"Slurm\.cmd_timeout: must be a number"):
        Slurm(cmd_timeout="30")
    with pytest.raises(ConfigurationError, match=r"Local\.max_blocks: must be an integer"):
        Local(max_blocks=None)
