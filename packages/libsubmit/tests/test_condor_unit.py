"""The HTCondor provider's pure parts (its life-cycle runs against a real HTCondor in
tests-integration/test_libsubmit_condor.py)."""
from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from libsubmit.providers.condor.condor import Condor
from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

GOLDEN = pathlib.Path(__file__).parent / "golden" / "condor.condor"
GOLDEN_JOB = pathlib.Path(__file__).parent / "golden" / "condor.sh"


def test_050_config_and_golden_files() -> None:
    config = {
        "site": "osg",
        "execution": {
            "executor": "ipp",
            "provider": "condor",
            "block": {
                "taskBlocks": 2,
                "walltime": "01:00:00",
                "options": {
                    "project": "MyProject",
                    "requirements": '(OpSysMajorVer == 7) && (HAS_MODULES =?= True)',
                    "workerSetup": "module load python/3.5.2",
                    "overrides": "Rank = Memory",
                },
            },
        },
    }
    p = Condor(config)
    assert plugins.get("provider", "condor") is Condor
    text = p.script_text("blk.1.0", "worker", 1, "/s/blk.1.0.condor")
    (job_path, job), = p.companion_files("blk.1.0", "worker", "/s/blk.1.0.condor").items()
    assert job_path == "/s/blk.1.0.sh"
    subprocess.run(["bash", "-n"], input=job, text=True, check=True)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
        GOLDEN_JOB.write_text(job)
    assert text == GOLDEN.read_text() and job == GOLDEN_JOB.read_text()
    assert p.submit_command("/s/blk.1.0.condor") == "cd /s && condor_submit blk.1.0.condor"


def test_parse_condor_q() -> None:
    p = Condor()
    assert p.parse_status_output("12.0 1 undefined\n13.0 2 undefined\n14.0 4 0\n15.0 4 3\n16.0 5 undefined\n17.0 3 undefined\n") == {
        "12": JobState.PENDING, "13": JobState.RUNNING, "14": JobState.COMPLETED, "15": JobState.FAILED, "16": JobState.HELD, "17": JobState.CANCELLED,
    }
    assert p.parse_submit_output("Submitting job(s).\n1 job(s) submitted to cluster 118907.\n") == "118907"


def test_project_cannot_break_the_classad() -> None:
    with pytest.raises(ConfigurationError, match="ClassAd"):
        Condor(project='x"\nexecutable = /bin/evil').script_text("j", "w", 1, "/s/j.condor")
