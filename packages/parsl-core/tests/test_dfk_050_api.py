"""The 0.5.0 developer guide's DataFlowKernel methods and attributes, executor.status(), the
app factories, rundirs and config_defaults, as documented."""
from __future__ import annotations

import os
from concurrent.futures import Future

import pytest

from parsl import App
from parsl.app.app_factory import AppFactory, AppFactoryFactory
from parsl.app.errors import InvalidAppTypeError
from parsl.dataflow.config_defaults import update_config
from parsl.dataflow.dflow import DataFlowKernel
from parsl.dataflow.rundirs import make_rundir


def _done(value=None, exc=None):
    f: Future = Future()
    if exc is not None:
        f.set_exception(exc)
    else:
        f.set_result(value)
    return f


def test_rundir_is_the_run_directory(dfk):
    assert dfk.rundir == dfk.run_dir and os.path.isdir(dfk.rundir)


def test_sanitize_and_wrap_replaces_direct_keyword_and_inputs_futures():
    err = ValueError("parent failed")
    nested = _done(5)
    args, kwargs, failures = DataFlowKernel.sanitize_and_wrap(
        3, (_done(1), 2, [nested]), {"b": _done(4), "inputs": [_done(6), 7], "c": _done(exc=err)}
    )
    assert args[:2] == [1, 2] and args[2] == [nested]  # nested futures are left alone
    assert kwargs["b"] == 4 and kwargs["inputs"] == [6, 7]
    assert failures == [err]


def test_launch_task_and_handle_update(dfk):
    fut = dfk.launch_task(0, lambda x, y=0: x + y, 2, y=3)
    assert fut.result(timeout=30) == 5

    @App("python", dfk)
    def one():
        return 1

    f = one()
    assert f.result(timeout=30) == 1
    dfk.handle_update(f.tid, f)  # a task already processed: nothing to move
    with pytest.raises(KeyError):
        dfk.handle_update(10_000, f)


def test_executor_status_without_blocks(dfk):
    assert [ex.status() for ex in dfk.executors.values()] == [[]]


def test_app_factories(dfk):
    factory = AppFactoryFactory("central").make("python", dfk, lambda x: x * 3, cache=False)
    assert isinstance(factory, AppFactory) and factory(4).result(timeout=30) == 12
    bash = AppFactoryFactory("central").make("bash", dfk, lambda: "exit 0")
    assert bash().result(timeout=30) == 0
    with pytest.raises(InvalidAppTypeError):
        AppFactoryFactory("central").make("fortran", dfk, print)


def test_rundirs_make_rundir(tmp_path):
    assert make_rundir() == os.path.abspath("runinfo/000")
    assert make_rundir(path=str(tmp_path / "runs")) == str(tmp_path / "runs" / "000")
    assert make_rundir({"globals": {"runDir": str(tmp_path / "runs")}}) == str(tmp_path / "runs" / "001")


def test_config_defaults_update_config():
    config = {"sites": [{"site": "c", "execution": {"executor": "ipp", "provider": "slurm", "block": {"nodes": 2}}}], "globals": {"retries": 2}}
    full = update_config(config, "runinfo/004")
    assert full["globals"]["retries"] == 2 and full["globals"]["lazyErrors"] is True and full["globals"]["runDir"] == "runinfo/004"
    block = full["sites"][0]["execution"]["block"]
    assert block["nodes"] == 2 and block["taskBlocks"] == 1 and block["walltime"] == "00:10:00"
    assert "lazyErrors" not in config["globals"] and config["sites"][0]["execution"]["block"] == {"nodes": 2}
