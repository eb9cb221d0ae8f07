"""Typed Config and 0.5.0 dict configs: validation errors name the key path."""
from __future__ import annotations

import copy

import pytest

import parsl
from parsl import Config, DataFlowKernel, ThreadPoolExecutor
from parsl.config_dict import config_from_dict
from parsl.configs.local import localIPP, localThreads
from parsl.errors import ConfigurationError


def site(**execution):
    return {"site": "s", "auth": {"channel": None}, "execution": {"executor": "threads", **execution}}


def test_local_threads_config_builds_a_four_thread_site():
    cfg = config_from_dict(localThreads)
    (ex,) = cfg.executors
    assert isinstance(ex, ThreadPoolExecutor) and ex.max_workers == 4 and ex.label == "Local_Threads"
    assert cfg.lazy_errors is True


def test_dict_is_never_modified():
    before = copy.deepcopy(localThreads)
    dfk = DataFlowKernel(config=localThreads)
    dfk.cleanup()
    assert localThreads == before


@pytest.mark.parametrize(
    "cfg, path, words",
    [
        ({}, "sites", "is required"),
        ({"sites": []}, "sites", "at least one site"),
        ({"sites": [site()], "globalz": {}}, "globalz", "did you mean 'globals'"),
        ({"sites": [{"execution": {"executor": "threads"}}]}, "sites[0].site", "is required"),
        ({"sites": [site(maxThreads="4")]}, "sites[0].execution.maxThreads", "expected an integer, got str '4'"),
        ({"sites": [site(maxThreads=0)]}, "sites[0].execution.maxThreads", "at least 1"),
        ({"sites": [site(block={"maxBlocks": "2"})]}, "sites[0].execution.block.maxBlocks", "expected an integer"),
        ({"sites": [site(block={"minBlocks": 3, "maxBlocks": 2})]}, "sites[0].execution.block.maxBlocks", "above maxBlocks"),
        ({"sites": [site(block={"parallelism": 2})]}, "sites[0].execution.block.parallelism", "between 0 and 1"),
        ({"sites": [site(block={"walltime": "ten minutes"})]}, "sites[0].execution.block.walltime", "HH:MM:SS"),
        ({"sites": [site(block={"nodez": 1})]}, "sites[0].execution.block.nodez", "did you mean 'nodes'"),
        ({"sites": [site(), site()]}, "sites[1].site", "duplicate site name"),
        ({"sites": [site()], "globals": {"retries": -1}}, "globals.retries", "at least 0"),
        ({"sites": [site()], "globals": {"lazyErrors": "no"}}, "globals.lazyErrors", "True or False"),
        ({"sites": [site()], "globals": {"checkpointMode": "sometimes"}}, "globals.checkpointMode", "task_exit"),
        ({"sites": [site()], "controller": {"publicIp": 5}}, "controller.publicIp", "expected a string"),
        ({"sites": [{"site": "x", "execution": {"executor": "nope"}}]}, "sites[0].execution.executor", "no executor plugin named 'nope'"),
    ],
)
def test_dict_config_errors_name_the_key_path(cfg, path, words):
    with pytest.raises(ConfigurationError) as ei:
        DataFlowKernel(config=cfg)
    assert ei.value.path == path, str(ei.value)
    assert words in str(ei.value)


def test_missing_plugin_site_names_the_pip_line(no_plugins):
    with pytest.raises(ConfigurationError, match=r"pip install 'parsl-executors\[ipp\]'") as ei:
        config_from_dict(localIPP)
    assert ei.value.path == "sites[0].execution.executor"


def test_globals_translate_to_config_fields():
    cfg = config_from_dict(
        {"sites": [site(maxThreads=3)], "globals": {"lazyErrors": False, "retries": 2, "appCache": True, "memoize": False, "checkpointMode": "task_exit", "runDir": "elsewhere"}}
    )
    assert (cfg.lazy_errors, cfg.retries, cfg.app_cache, cfg.checkpoint_mode, cfg.run_dir) == (False, 2, False, "task_exit", "elsewhere")


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"executors": []}, "executors"),
        ({"executors": ["threads"]}, "executors[0]"),
        ({"executors": [ThreadPoolExecutor(label="x"), ThreadPoolExecutor(label="x")]}, "executors[1].label"),
        ({"retries": -1}, "retries"),
        ({"lazy_errors": 1}, "lazy_errors"),
        ({"checkpoint_mode": "always"}, "checkpoint_mode"),
        ({"checkpoint_period": "1h"}, "checkpoint_period"),
        ({"checkpoint_files": "runinfo/000"}, "checkpoint_files"),
    ],
)
def test_typed_config_validation(kwargs, field):
    with pytest.raises(ConfigurationError) as ei:
        Config(**kwargs)
    assert ei.value.path == field


def test_dfk_keywords_override_the_config():
    dfk = DataFlowKernel(config=localThreads, retries=3, lazyErrors=False)
    assert dfk.retries == 3 and dfk.lazy_fail is False
    assert dfk.config.retries == 3
    dfk.cleanup()


def test_config_and_executors_together_is_an_error():
    with pytest.raises(ConfigurationError, match="either config= or executors="):
        DataFlowKernel(config=localThreads, executors=[ThreadPoolExecutor()])


def test_load_as_context_manager_and_double_load():
    with parsl.load(Config(executors=[ThreadPoolExecutor(1)])) as k:
        assert parsl.dfk() is k
        with pytest.raises(ConfigurationError, match="already loaded"):
            parsl.load()
    assert k.closed
    parsl.clear()
    k2 = parsl.load()
    assert parsl.dfk() is k2 and len(k2.executors) == 1
    k2.cleanup()
    parsl.clear()


def test_thread_executor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_workers"):
        ThreadPoolExecutor(max_workers=0)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ThreadPoolExecutor(maxworkers=2)


def test_secrets_are_masked_in_reprs_and_errors() -> None:
    """A password, a cloud secret key and an ``auth`` given as ``'user:password'`` never
    show in a SiteSpec repr or a configuration error; harmless keys and paths still do."""
    from parsl.config_dict import site_from_dict

    raw = {
        "site": "s", "auth": {"channel": "ssh", "hostname": "h", "username": "u", "password": "hunter2-canary", "keyFile": "/keys/id"},
        "execution": {"executor": "ipp", "provider": "slurm", "block": {"options": {"secret_access_key": "aws-canary", "partition": "debug"}}},
    }
    text = repr(site_from_dict(raw, "sites[0]"))
    assert "canary" not in text and text.count("'***'") >= 3
    assert "'/keys/id'" in text and "'debug'" in text and "'u'" in text
    raw["auth"] = "u:hunter2-canary"
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.auth: expected a dict, got str \(value hidden") as e:
        site_from_dict(raw, "sites[0]")
    assert "canary" not in str(e.value)
