"""Config values that used to pass silently, or fail with a raw TypeError/OSError, get one
clear ConfigurationError naming the key path (issue: 98 malformed configs)."""
from __future__ import annotations

import pytest

from parsl import Config, DataFlowKernel, ThreadPoolExecutor
from parsl.config_dict import config_from_dict
from parsl.errors import ConfigurationError
from parsl.interfaces import BlockShape


def _threads(**execution):
    return {"sites": [{"site": "t", "execution": {"executor": "threads", **execution}}]}


@pytest.mark.parametrize(
    "make, path",
    [
        (lambda: Config(retries=10**30), "retries"),
        (lambda: Config(checkpoint_period=3600), "checkpoint_period"),
        (lambda: Config(checkpoint_period="99999999999:00:00"), "checkpoint_period"),
        (lambda: Config(executors=[ThreadPoolExecutor(label="")]), r"executors\[0\]\.label"),
        (lambda: Config(executors=[ThreadPoolExecutor(label=None)]), r"executors\[0\]\.label"),
        (lambda: Config(exit_wait=-1), "exit_wait"),
        (lambda: config_from_dict(_threads(options={"maxThreads": 10**12})), r"sites\[0\]\.execution\.options\.maxThreads"),
        (lambda: config_from_dict(_threads(options={"maxThreads": "4"})), r"sites\[0\]\.execution\.options\.maxThreads"),
        (lambda: config_from_dict({**_threads(), "controller": {"port": 70000}}), "controller.port"),
        (lambda: config_from_dict({**_threads(), "controller": {"portRange": "9000-9100"}}), "controller.portRange"),
        (lambda: BlockShape(max_blocks=None), "max_blocks"),
        (lambda: BlockShape(parallelism="half"), "parallelism"),
    ],
)
def test_bad_values_name_their_key(make, path):
    with pytest.raises(ConfigurationError, match=path):
        make()


@pytest.mark.parametrize("where", ["file", "/proc"])
def test_run_dir_that_cannot_hold_runs(tmp_path, where):
    base = str(tmp_path / "a-file") if where == "file" else "/proc/parsl-runs"
    if where == "file":
        (tmp_path / "a-file").write_text("x")
    with pytest.raises(ConfigurationError, match="run_dir: cannot make run directories"):
        DataFlowKernel(config={**_threads(), "globals": {"runDir": base}})
