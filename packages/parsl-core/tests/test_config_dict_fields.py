"""0.5.0 dict configs key by key: what each key becomes in the Config (defaults included), the
edges of what it accepts, and the key path the error names."""
from __future__ import annotations

import copy
import logging
from decimal import Decimal

import pytest

from parsl.config_dict import config_from_dict, site_from_dict
from parsl.errors import ConfigurationError
from parsl.interfaces import ParslExecutor


def _site(**changes):
    site = {"site": "t", "execution": {"executor": "threads"}}
    for key, value in changes.items():
        site[key] = value
    return site


def _cfg(site=None, **top):
    return {"sites": [site if site is not None else _site()], **top}


def _block(**block):
    return site_from_dict(_site(execution={"executor": "threads", "block": block}), "sites[0]").block.shape


def test_a_minimal_config_gets_the_050_defaults():
    c = config_from_dict(_cfg())
    (ex,) = c.executors
    assert (ex.label, ex.max_workers) == ("t", 2)
    assert (c.lazy_errors, c.retries, c.app_cache, c.checkpoint_mode, c.checkpoint_period) == (True, 0, True, None, None)
    assert (c.checkpoint_files, c.run_dir, c.usage_tracking, c.initialize_logging, c.monitoring) == ((), "runinfo", False, True, False)
    assert (c.controller, c.site_data) == ({}, {})
    shape = _block()
    assert (shape.nodes_per_block, shape.tasks_per_node, shape.walltime, shape.init_blocks, shape.min_blocks, shape.max_blocks, shape.parallelism) == (
        1, 1, "00:10:00", 1, 0, 10, 0.75
    )


def test_globals_translate_to_their_fields():
    g = {"lazyErrors": False, "retries": 3, "appCache": True, "memoize": True, "checkpointMode": "periodic", "checkpointPeriod": "00:10:00",
         "checkpointFiles": ["a", "b"], "runDir": "runs", "usageTracking": True, "initializeLogging": False, "monitoring": True}
    c = config_from_dict(_cfg(globals=g))
    assert (c.lazy_errors, c.retries, c.app_cache, c.checkpoint_mode, c.checkpoint_period) == (False, 3, True, "periodic", "00:10:00")
    assert (c.checkpoint_files, c.run_dir, c.usage_tracking, c.initialize_logging, c.monitoring) == (("a", "b"), "runs", True, False, True)
    # memoize and appCache both switch caching off
    assert config_from_dict(_cfg(globals={"memoize": False})).app_cache is False
    assert config_from_dict(_cfg(globals={"appCache": False})).app_cache is False
    # lazy_fail is the other spelling of lazyErrors, which wins when both are given
    assert config_from_dict(_cfg(globals={"lazy_fail": False})).lazy_errors is False
    assert config_from_dict(_cfg(globals={"lazy_fail": False, "lazyErrors": True})).lazy_errors is True
    for mode in ("task_exit", "dfk_exit", "manual", None):
        assert config_from_dict(_cfg(globals={"checkpointMode": mode})).checkpoint_mode == mode
    assert config_from_dict(_cfg(globals=None)).retries == 0


def test_strategy_in_globals_is_accepted_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="parsl.config")
    config_from_dict(_cfg(globals={"strategy": "simple"}))
    assert "globals.strategy ('simple') is accepted and ignored" in caplog.text
    caplog.clear()
    config_from_dict(_cfg(globals={"strategy": None}))
    assert "globals.strategy (None)" in caplog.text
    caplog.clear()
    config_from_dict(_cfg())
    assert "globals.strategy" not in caplog.text


def test_thread_counts_from_every_place_they_may_be_given():
    def workers(execution):
        return config_from_dict(_cfg(_site(execution={"executor": "threads", **execution}))).executors[0].max_workers

    assert workers({"maxThreads": 1}) == 1
    assert workers({"max_workers": 10_000}) == 10_000
    assert workers({"options": {"maxThreads": 7}, "maxThreads": 3}) == 7  # options win
    assert workers({"maxThreads": 5, "max_workers": 6}) == 5
    ex = config_from_dict(_cfg(_site(execution={"executor": "threads", "options": {"threadNamePrefix": "mine"}}))).executors[0]
    assert ex.thread_name_prefix == "mine"
    ex = config_from_dict(_cfg(_site(execution={"executor": "threads", "threadNamePrefix": "top"}))).executors[0]
    assert ex.thread_name_prefix == "top"


def test_controller_keys_at_their_edges():
    for ok in ({"port": 1}, {"port": 65535}, {"port": None}, {"portRange": "1,65535"}, {"portRange": "5000"}, {"portRange": 5000},
               {"portRange": "7,7"}, {"portRange": None}, {"reuse": True}, {"publicIp": None}, {"publicIp": "127.0.0.1"}):
        assert config_from_dict(_cfg(controller=ok)).controller == ok
    assert config_from_dict(_cfg(controller=None)).controller == {}


def test_blocks_at_their_edges(caplog):
    assert _block(nodes=1, taskBlocks=1, minBlocks=0, initBlocks=0, maxBlocks=0).max_blocks == 0
    assert _block(parallelism=0).parallelism == 0.0 and _block(parallelism=1).parallelism == 1.0
    assert _block(taskBlocks="$(nproc)").tasks_per_node == "$(nproc)"
    # maxBlocks not given: at least initBlocks and minBlocks
    assert _block(initBlocks=12).max_blocks == 12 and _block(minBlocks=11).max_blocks == 11
    assert _block(minBlocks=3, maxBlocks=3).min_blocks == 3
    # 0.5.0 started initBlocks whatever maxBlocks said: maxBlocks is raised to it, with a warning
    caplog.set_level(logging.WARNING, logger="parsl.config")
    assert _block(initBlocks=4, maxBlocks=2).max_blocks == 4
    assert "initBlocks (4) is above maxBlocks (2)" in caplog.text
    caplog.clear()
    assert _block(initBlocks=2, maxBlocks=2).max_blocks == 2 and caplog.text == ""
    spec = site_from_dict(_site(execution={"executor": "threads", "block": {"options": {"partition": "p"}, "scriptDir": "s", "launcher": "srun"}}), "sites[0]").block
    assert (dict(spec.options), spec.script_dir, spec.launcher) == ({"partition": "p"}, "s", "srun")
    assert site_from_dict(_site(execution={"executor": "threads", "block": {"script_dir": "s2"}}), "sites[0]").block.script_dir == "s2"


def test_the_script_dir_comes_from_the_first_place_that_gives_one():
    def script_dir(execution, auth):
        return site_from_dict(_site(execution={"executor": "threads", **execution}, auth=auth), "sites[0]").script_dir

    assert script_dir({"scriptDir": "e1", "script_dir": "e2"}, {"scriptDir": "a1", "script_dir": "a2"}) == "e1"
    assert script_dir({"script_dir": "e2"}, {"scriptDir": "a1", "script_dir": "a2"}) == "e2"
    assert script_dir({}, {"scriptDir": "a1", "script_dir": "a2"}) == "a1"
    assert script_dir({}, {"script_dir": "a2"}) == "a2"
    assert script_dir({}, {}) is None


def test_site_data_and_containers_are_kept():
    data = {"working_dir": "/w", "globus": {"endpoint_name": "ep", "endpoint_path": "/p", "local_path": "/l"}}
    c = config_from_dict(_cfg(_site(data=data)))
    assert c.site_data == {"t": data}
    spec = site_from_dict(_site(execution={"executor": "ipp", "container": {"type": "docker", "image": "img"}}, auth=None), "sites[2]")
    assert spec.container == {"type": "docker", "image": "img"} and spec.path == "sites[2]" and spec.auth == {}
    assert spec.channel is None and spec.provider is None


def test_the_dict_given_is_never_modified():
    raw = _cfg(globals={"checkpointFiles": ["a"]}, controller={"port": 5})
    before = copy.deepcopy(raw)
    config_from_dict(raw)
    assert raw == before


def test_site_checks_before_any_executor_is_built():
    """site_from_dict checks a container's type and image itself (whichever executor will
    use it), and takes None for the optional blocks."""
    def spec(**execution):
        return site_from_dict(_site(execution={"executor": "anything", **execution}), "sites[3]")

    for container, path in (({"image": "i"}, "sites[3].execution.container.type"), ({"type": "docker"}, "sites[3].execution.container.image"),
                            ({"type": 3, "image": "i"}, "sites[3].execution.container.type")):
        with pytest.raises(ConfigurationError) as ei:
            spec(container=container)
        assert ei.value.path == path
    assert spec(container=None).container is None
    assert site_from_dict(_site(data=None), "sites[0]").data is None
    assert spec(provider=None).provider is None


class _Plugged(ParslExecutor):
    """A stand-in executor plugin, registered for one test."""

    supports_containers = False
    built: list = []

    def submit(self, func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def shutdown(self, block: bool = True) -> None:
        pass

    @classmethod
    def from_site(cls, site, controller):  # type: ignore[no-untyped-def]
        from parsl import ThreadPoolExecutor

        cls.built.append((site.name, dict(controller)))
        return ThreadPoolExecutor(label=site.name)


@pytest.fixture
def plugged():
    from parsl import plugins

    class WithContainers(_Plugged):
        supports_containers = True

    class NoFromSite(ParslExecutor):
        supports_containers = True
        submit = _Plugged.submit
        shutdown = _Plugged.shutdown

    _Plugged.built = []
    plugins.register("executor", "plugged", _Plugged)
    plugins.register("executor", "plugged_c", WithContainers)
    plugins.register("executor", "objects_only", NoFromSite)
    yield _Plugged.built
    for name in ("plugged", "plugged_c", "objects_only"):
        plugins.unregister("executor", name)


def test_plugin_executors_are_built_by_their_from_site(plugged):
    c = config_from_dict(_cfg(_site(site="p", execution={"executor": "plugged"}), controller={"port": 5000}))
    assert [e.label for e in c.executors] == ["p"] and plugged == [("p", {"port": 5000})]
    # a container, only for an executor that can run one
    c = config_from_dict(_cfg(_site(site="q", execution={"executor": "plugged_c", "container": {"type": "docker", "image": "i"}})))
    assert [e.label for e in c.executors] == ["q"]
    with pytest.raises(ConfigurationError, match="cannot run its workers in a container") as ei:
        config_from_dict(_cfg(_site(execution={"executor": "plugged", "container": {"type": "docker", "image": "i"}})))
    assert ei.value.path == "sites[0].execution.container"
    with pytest.raises(ConfigurationError, match=r"cannot be configured from a 0\.5\.0 site dict") as ei:
        config_from_dict(_cfg(_site(execution={"executor": "objects_only"})))
    assert ei.value.path == "sites[0].execution.executor"


BAD = [
    # the top level
    ([], None),
    ({"sites": [_site()], "site": []}, "site"),
    ({}, "sites"), ({"sites": []}, "sites"), ({"sites": "t"}, "sites"),
    ({"sites": [_site(), _site()]}, "sites[1].site"),
    # a site
    (_cfg("t"), "sites[0]"),
    (_cfg({"execution": {"executor": "threads"}}), "sites[0].site"),
    (_cfg(_site(site="")), "sites[0].site"),
    (_cfg(_site(site=3)), "sites[0].site"),
    (_cfg(_site(colour="red")), "sites[0].colour"),
    (_cfg(_site(auth="local")), "sites[0].auth"),
    (_cfg(_site(auth={"channel": 3})), "sites[0].auth.channel"),
    (_cfg(_site(auth={"chanel": "local"})), "sites[0].auth.chanel"),
    (_cfg(_site(auth={"scriptDir": 3})), "sites[0].auth.scriptDir"),
    (_cfg({"site": "t"}), "sites[0].execution"),
    (_cfg(_site(execution={})), "sites[0].execution.executor"),
    (_cfg(_site(execution={"executor": 3})), "sites[0].execution.executor"),
    (_cfg(_site(execution={"executor": "threads", "provider": 3})), "sites[0].execution.provider"),
    (_cfg(_site(execution={"executor": "threads", "maxThreads": 0})), "sites[0].execution.maxThreads"),
    (_cfg(_site(execution={"executor": "threads", "max_workers": 0})), "sites[0].execution.max_workers"),
    (_cfg(_site(execution={"executor": "threads", "max_workers": 10_001})), "sites[0].execution.max_workers"),
    (_cfg(_site(execution={"executor": "threads", "maxThreads": True})), "sites[0].execution.maxThreads"),
    (_cfg(_site(execution={"executor": "threads", "options": {"maxThreads": 0}})), "sites[0].execution.options.maxThreads"),
    (_cfg(_site(execution={"executor": "threads", "options": {"maxThreads": 10_001}})), "sites[0].execution.options.maxThreads"),
    (_cfg(_site(execution={"executor": "threads", "options": {"max_workers": True}})), "sites[0].execution.options.max_workers"),
    (_cfg(_site(execution={"executor": "threads", "threadNamePrefix": 3})), "sites[0].execution.threadNamePrefix"),
    (_cfg(_site(execution={"executor": "threads", "options": "x"})), "sites[0].execution.options"),
    (_cfg(_site(execution={"executor": "threads", "scriptDir": 3})), "sites[0].execution.scriptDir"),
    (_cfg(_site(execution={"executor": "threads", "script_dir": 3})), "sites[0].execution.script_dir"),
    (_cfg(_site(execution={"executor": "ipp", "container": "docker"})), "sites[0].execution.container"),
    (_cfg(_site(execution={"executor": "ipp", "container": {"image": "i"}})), "sites[0].execution.container.type"),
    (_cfg(_site(execution={"executor": "ipp", "container": {"type": "docker"}})), "sites[0].execution.container.image"),
    (_cfg(_site(execution={"executor": "nosuchexecutor"})), "sites[0].execution.executor"),
    (_cfg(_site(execution={"executor": "threads", "container": {"type": "docker", "image": "i"}})), "sites[0].execution.container"),
    (_cfg(_site(data="x")), "sites[0].data"),
    (_cfg(_site(data={"working_dir": 3})), "sites[0].data.working_dir"),
    (_cfg(_site(data={"workdir": "/w"})), "sites[0].data.workdir"),
    (_cfg(_site(data={"globus": "ep"})), "sites[0].data.globus"),
    (_cfg(_site(data={"globus": {"endpoint_path": "/p"}})), "sites[0].data.globus.endpoint_name"),
    (_cfg(_site(data={"globus": {"endpoint_name": "e", "path": "/p"}})), "sites[0].data.globus.path"),
    # a block
    (_cfg(_site(execution={"executor": "threads", "block": "big"})), "sites[0].execution.block"),
    (_cfg(_site(execution={"executor": "threads", "block": {"size": 1}})), "sites[0].execution.block.size"),
    (_cfg(_site(execution={"executor": "threads", "block": {"nodes": 0}})), "sites[0].execution.block.nodes"),
    (_cfg(_site(execution={"executor": "threads", "block": {"taskBlocks": 0}})), "sites[0].execution.block.taskBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"taskBlocks": "  "}})), "sites[0].execution.block.taskBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"taskBlocks": 1.5}})), "sites[0].execution.block.taskBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"walltime": "soon"}})), "sites[0].execution.block.walltime"),
    (_cfg(_site(execution={"executor": "threads", "block": {"walltime": 600}})), "sites[0].execution.block.walltime"),
    (_cfg(_site(execution={"executor": "threads", "block": {"initBlocks": -1}})), "sites[0].execution.block.initBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"minBlocks": -1}})), "sites[0].execution.block.minBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"maxBlocks": "2"}})), "sites[0].execution.block.maxBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"minBlocks": 3, "maxBlocks": 2}})), "sites[0].execution.block.maxBlocks"),
    (_cfg(_site(execution={"executor": "threads", "block": {"parallelism": 1.01}})), "sites[0].execution.block.parallelism"),
    (_cfg(_site(execution={"executor": "threads", "block": {"parallelism": -0.01}})), "sites[0].execution.block.parallelism"),
    (_cfg(_site(execution={"executor": "threads", "block": {"parallelism": True}})), "sites[0].execution.block.parallelism"),
    (_cfg(_site(execution={"executor": "threads", "block": {"options": []}})), "sites[0].execution.block.options"),
    (_cfg(_site(execution={"executor": "threads", "block": {"scriptDir": 3}})), "sites[0].execution.block.scriptDir"),
    (_cfg(_site(execution={"executor": "threads", "block": {"launcher": 3}})), "sites[0].execution.block.launcher"),
    # globals
    (_cfg(globals=[]), "globals"),
    (_cfg(globals={"lazyerrors": True}), "globals.lazyerrors"),
    (_cfg(globals={"lazyErrors": "yes"}), "globals.lazyErrors"),
    (_cfg(globals={"lazy_fail": 0}), "globals.lazy_fail"),
    (_cfg(globals={"retries": -1}), "globals.retries"),
    (_cfg(globals={"retries": True}), "globals.retries"),
    (_cfg(globals={"retries": 1.0}), "globals.retries"),
    (_cfg(globals={"appCache": 1}), "globals.appCache"),
    (_cfg(globals={"memoize": "no"}), "globals.memoize"),
    (_cfg(globals={"checkpointMode": "always"}), "globals.checkpointMode"),
    (_cfg(globals={"checkpointMode": 1}), "globals.checkpointMode"),
    (_cfg(globals={"checkpointPeriod": "soon"}), "globals.checkpointPeriod"),
    (_cfg(globals={"checkpointPeriod": 60}), "globals.checkpointPeriod"),
    (_cfg(globals={"checkpointFiles": "a"}), "globals.checkpointFiles"),
    (_cfg(globals={"checkpointFiles": ["a", 3]}), "globals.checkpointFiles[1]"),
    (_cfg(globals={"runDir": 3}), "globals.runDir"),
    (_cfg(globals={"usageTracking": 1}), "globals.usageTracking"),
    (_cfg(globals={"initializeLogging": "yes"}), "globals.initializeLogging"),
    (_cfg(globals={"monitoring": 1}), "globals.monitoring"),
    (_cfg(globals={"strategy": 3}), "globals.strategy"),
    # None is a value only where the 0.5.0 guide allows it
    (_cfg(globals={"retries": None}), "globals.retries"),
    (_cfg(globals={"runDir": None}), "globals.runDir"),
    (_cfg(globals={"lazyErrors": None}), "globals.lazyErrors"),
    (_cfg(_site(execution={"executor": None})), "sites[0].execution.executor"),
    # the controller
    (_cfg(controller="c"), "controller"),
    (_cfg(controller={"host": "x"}), "controller.host"),
    (_cfg(controller={"publicIp": 3}), "controller.publicIp"),
    (_cfg(controller={"port": 0}), "controller.port"),
    (_cfg(controller={"port": 65536}), "controller.port"),
    (_cfg(controller={"port": "80"}), "controller.port"),
    (_cfg(controller={"port": True}), "controller.port"),
    (_cfg(controller={"portRange": "0,5"}), "controller.portRange"),
    (_cfg(controller={"portRange": "5,65536"}), "controller.portRange"),
    (_cfg(controller={"portRange": "6,5"}), "controller.portRange"),
    (_cfg(controller={"portRange": "1,2,3"}), "controller.portRange"),
    (_cfg(controller={"portRange": "a,b"}), "controller.portRange"),
    (_cfg(controller={"portRange": ""}), "controller.portRange"),
    (_cfg(controller={"portRange": True}), "controller.portRange"),
    (_cfg(controller={"portRange": [1, 2]}), "controller.portRange"),
    (_cfg(controller={"portRange": Decimal("5000")}), "controller.portRange"),  # a string or an int, nothing that prints like one
    (_cfg(controller={"reuse": "yes"}), "controller.reuse"),
]


@pytest.mark.parametrize(("raw", "path"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_each_bad_value_is_refused_naming_its_key(raw, path):
    with pytest.raises(ConfigurationError) as ei:
        config_from_dict(raw)
    assert ei.value.path == path, str(ei.value)


def test_type_errors_say_what_was_expected():
    with pytest.raises(ConfigurationError, match=r"expected an integer, got str '2'"):
        config_from_dict(_cfg(_site(execution={"executor": "threads", "block": {"maxBlocks": "2"}})))
    with pytest.raises(ConfigurationError, match=r"expected a number, got bool True"):
        config_from_dict(_cfg(_site(execution={"executor": "threads", "block": {"parallelism": True}})))
    with pytest.raises(ConfigurationError, match=r"expected an integer or a string, got float 1.5"):
        config_from_dict(_cfg(_site(execution={"executor": "threads", "block": {"taskBlocks": 1.5}})))
    with pytest.raises(ConfigurationError, match=r"must be at least 1, got 0"):
        config_from_dict(_cfg(_site(execution={"executor": "threads", "block": {"nodes": 0}})))
    with pytest.raises(ConfigurationError, match=r"duplicate site name 't' \(also sites\[0\]\)"):
        config_from_dict({"sites": [_site(), _site()]})
    with pytest.raises(ConfigurationError, match="a config must be a dict"):
        config_from_dict([])  # type: ignore[arg-type]
