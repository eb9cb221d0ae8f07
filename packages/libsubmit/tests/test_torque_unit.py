"""The Torque provider's pure parts (its life-cycle runs in tests-integration against Slurm's
Torque wrappers)."""
from __future__ import annotations

import os
import pathlib
import subprocess

from libsubmit.providers.torque.torque import Torque
from parsl import plugins
from parsl.interfaces import JobState

GOLDEN = pathlib.Path(__file__).parent / "golden" / "torque.pbs"


def test_050_config_and_golden_script() -> None:
    config = {
        "site": "torque",
        "execution": {
            "executor": "ipp",
            "provider": "torque",
            "block": {"nodes": 2, "taskBlocks": 4, "walltime": "00:20:00", "options": {"account": "proj1", "queue": "batch", "overrides": "module load python"}},
        },
    }
    p = Torque(config)
    assert plugins.get("provider", "torque") is Torque and p.launcher_name == "single_node"
    text = p.script_text("a-rather-long-job-name.1.0", "worker", 1, "/s/a.pbs")
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_parse_qstat_with_server_suffix_and_truncation() -> None:
    p = Torque()
    out = (
        "Job ID                    Name             User            Time Use S Queue\n"
        "------------------------- ---------------- --------------- -------- - -----\n"
        "12.head                   a                u               00:00:00 Q batch\n"
        "13.head-node.examp        b                u               00:00:01 R batch\n"
        "14                        c                u               00:00:01 C batch\n"
    )
    seen = p.parse_status_output(out)
    assert p.find_state(seen, "12.head") is JobState.PENDING
    assert p.find_state(seen, "13.head-node.example.org") is JobState.RUNNING
    assert p.find_state(seen, "14") is JobState.COMPLETED
    assert p.find_state(seen, "15") is None
    assert p.parse_submit_output("12.head\n") == "12.head"


def test_050_site_options_of_another_scheduler_are_ignored_with_a_log_line(caplog) -> None:
    """0.5.0 sites carried options meant for another scheduler (``partition`` on Torque)."""
    import logging

    import pytest

    from parsl.errors import ConfigurationError

    site = {"site": "t", "execution": {"executor": "ipp", "provider": "torque", "block": {"options": {"partition": "debug", "queue": "batch"}}}}
    with caplog.at_level(logging.INFO, logger="libsubmit"):
        p = Torque(site)
    assert dict(p.options) == {"queue": "batch"}
    assert [r.getMessage() for r in caplog.records if "partition" in r.getMessage()] == [
        "config.execution.block.options.partition is an option of another scheduler; the torque provider ignores it"
    ]
    typo = {"site": "t", "execution": {"executor": "ipp", "provider": "torque", "block": {"options": {"queu": "batch"}}}}
    with pytest.raises(ConfigurationError, match="did you mean 'queue'"):
        Torque(typo)


def test_050_provider_name_gridEngine() -> None:
    from libsubmit.providers.gridengine.gridengine import GridEngine

    assert plugins.get("provider", "gridEngine") is GridEngine
