"""The Grid Engine provider's pure parts (its life-cycle runs against a real Grid Engine in
tests-integration/test_libsubmit_gridengine.py)."""
from __future__ import annotations

import os
import pathlib
import subprocess

from libsubmit.providers.gridengine.gridengine import GridEngine
from parsl import plugins
from parsl.interfaces import JobState

GOLDEN = pathlib.Path(__file__).parent / "golden" / "gridengine.sge"


def test_golden_script() -> None:
    p = GridEngine(queue="all.q", project="p1", tasks_per_node=4, walltime="02:00:00", overrides="#$ -l mem_free=2G")
    assert plugins.get("provider", "gridengine") is GridEngine
    text = p.script_text("blk.1.0", "worker", 1, "/s/blk.1.0.sge")
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()


def test_parse_qstat() -> None:
    out = (
        "job-ID  prior   name       user         state submit/start at     queue            slots ja-task-ID\n"
        "-----------------------------------------------------------------------------------------\n"
        "      1 0.50000 a          root         r     11/21/2026 06:12:08 all.q@localhost      1\n"
        "      2 0.00000 b          root         qw    11/21/2026 06:12:08                      1\n"
        "      3 0.00000 c          root         hqw   11/21/2026 06:12:08                      1\n"
        "      4 0.00000 d          root         Eqw   11/21/2026 06:12:08                      1\n"
        "      5 0.50000 e          root         dr    11/21/2026 06:12:08 all.q@localhost      1\n"
    )
    assert GridEngine().parse_status_output(out) == {
        "1": JobState.RUNNING, "2": JobState.PENDING, "3": JobState.HELD, "4": JobState.FAILED, "5": JobState.RUNNING,
    }
    assert GridEngine().parse_submit_output("17\n") == "17"
    assert GridEngine().parse_submit_output("18.1-4:1\n") == "18"
