"""Dict-config keys that 0.5.0's code read or its published configs carry are accepted (with
their meaning, or ignored with one log line naming the key); near-miss typos still get a
did-you-mean error."""
from __future__ import annotations

import logging

import pytest

from parsl import DataFlowKernel
from parsl.config_dict import config_from_dict, site_from_dict
from parsl.errors import ConfigurationError


def _threads(**execution):
    return {"site": "local", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, **execution}}


def test_globals_lazy_fail_means_lazy_errors():
    dfk = DataFlowKernel(config={"sites": [_threads()], "globals": {"lazy_fail": False}})
    try:
        assert dfk.lazy_fail is False
    finally:
        dfk.cleanup()
    assert config_from_dict({"sites": [_threads()], "globals": {"lazy_fail": True}}).lazy_errors is True


@pytest.mark.parametrize("value", ["simple", None])
def test_globals_strategy_is_accepted_and_ignored_with_one_line(caplog, value):
    with caplog.at_level(logging.INFO, logger="parsl.config"):
        config_from_dict({"sites": [_threads()], "globals": {"strategy": value}})
    lines = [r for r in caplog.records if "globals.strategy" in r.getMessage()]
    assert len(lines) == 1 and "ignored" in lines[0].getMessage()


def test_threads_max_workers():
    cfg = config_from_dict({"sites": [_threads(max_workers=3)]})
    assert cfg.executors[0].max_workers == 3
    from parsl import ThreadPoolExecutor

    assert ThreadPoolExecutor(config=_threads(max_workers=5)).max_workers == 5
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.max_workers"):
        config_from_dict({"sites": [_threads(max_workers=0)]})


def test_ec2_auth_keys_and_public_ip_none_are_accepted():
    site = _threads()
    site["auth"] = {"channel": None, "profile": "default", "keyfile": "awskey.json"}
    cfg = config_from_dict({"sites": [site], "controller": {"publicIp": None}})
    assert cfg.controller == {"publicIp": None}


def test_init_blocks_above_max_blocks_starts_the_initial_blocks(caplog):
    raw = {"site": "c", "execution": {"executor": "ipp", "provider": "slurm", "block": {"initBlocks": 4, "maxBlocks": 2}}}
    with caplog.at_level(logging.WARNING, logger="parsl.config"):
        shape = site_from_dict(raw, "sites[0]").block.shape
    assert (shape.init_blocks, shape.max_blocks) == (4, 4)
    assert any("sites[0].execution.block.initBlocks (4) is above maxBlocks (2)" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("raw", "path", "suggestion"),
    [
        ({"sites": [_threads()], "globals": {"lazyError": True}}, "globals.lazyError", "lazyErrors"),
        ({"sites": [_threads()], "globals": {"lazy_fial": True}}, "globals.lazy_fial", "lazy_fail"),
        ({"sites": [_threads(max_worker=2)]}, "sites[0].execution.max_worker", "max_workers"),
    ],
)
def test_near_miss_typos_still_get_did_you_mean(raw, path, suggestion):
    with pytest.raises(ConfigurationError, match=f"did you mean '{suggestion}'") as ei:
        config_from_dict(raw)
    assert ei.value.path == path
