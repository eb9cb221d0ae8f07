"""Every field of the typed Config at the edges of what it accepts: the last good value and the
first bad one on each side, what a good value is stored as, and the error naming the field."""
from __future__ import annotations

import pytest

from parsl import Config, ThreadPoolExecutor
from parsl.dataflow.dependency_resolvers import DEEP_DEPENDENCY_RESOLVER, SHALLOW_DEPENDENCY_RESOLVER
from parsl.errors import ConfigurationError
from parsl.interfaces import Memoizer, Monitor
from parsl.logconfigs import NoopLogging


class QuietMonitor(Monitor):
    def start(self, run_id, run_dir):  # type: ignore[no-untyped-def]
        pass


class NoMemo(Memoizer):
    def lookup(self, task):  # type: ignore[no-untyped-def]
        return None

    def update(self, task, result):  # type: ignore[no-untyped-def]
        pass


GOOD = [
    ("lazy_errors", False), ("app_cache", False),
    ("retries", 0), ("retries", 10_000),
    ("exit_wait", 0), ("exit_wait", 86_400), ("exit_wait", 0.5),
    *[("checkpoint_mode", m) for m in (None, "task_exit", "periodic", "dfk_exit", "manual")],
    ("checkpoint_period", None), ("checkpoint_period", "00:00:01"), ("checkpoint_period", "8760:00:00"),
    ("checkpoint_files", ["a", "b"]), ("checkpoint_files", ()),
    ("run_dir", "r"),
    ("monitoring", True), ("monitoring", QuietMonitor()),
    ("memoizer", None), ("memoizer", NoMemo()),
    ("dependency_resolver", DEEP_DEPENDENCY_RESOLVER),
    ("initialize_logging", False), ("initialize_logging", NoopLogging()),
    ("usage_tracking", True), ("usage_tracking", 0), ("usage_tracking", 3),
    *[("exit_mode", m) for m in ("cleanup", "skip", "wait")],
    ("retry_handler", lambda e, r: 1.0), ("std_autopath", lambda r, k: "x"),
    ("internal_tasks_max_threads", 1),
    *[("strategy", s) for s in ("simple", "htex_auto_scale", "none", None)],
    ("strategy_period", 0.1), ("max_idletime", 0), ("max_idletime", 0.5),
    ("garbage_collect", False),
]

BAD = [
    ("lazy_errors", 1), ("app_cache", None),
    ("retries", -1), ("retries", 10_001), ("retries", True), ("retries", 1.0),
    ("exit_wait", -0.1), ("exit_wait", 86_400.5), ("exit_wait", True), ("exit_wait", "1"),
    ("checkpoint_mode", "sometimes"),
    ("checkpoint_period", "00:00:00"), ("checkpoint_period", "8760:00:01"), ("checkpoint_period", 3600), ("checkpoint_period", "half an hour"),
    ("checkpoint_files", "one/path"), ("checkpoint_files", None),
    ("run_dir", ""), ("run_dir", 3),
    ("monitoring", "yes"),
    ("memoizer", object()),
    ("dependency_resolver", "deep"),
    ("initialize_logging", "yes"),
    ("usage_tracking", -1), ("usage_tracking", 4), ("usage_tracking", "1"),
    ("exit_mode", "sometimes"),
    ("retry_handler", 3), ("std_autopath", "x"),
    ("internal_tasks_max_threads", 0), ("internal_tasks_max_threads", True), ("internal_tasks_max_threads", 2.0),
    ("strategy", "eager"),
    ("strategy_period", 0), ("strategy_period", -1), ("strategy_period", True), ("max_idletime", -0.5), ("max_idletime", "1"),
    ("garbage_collect", 1),
]


@pytest.mark.parametrize(("field", "value"), GOOD, ids=[f"{f}={v!r}" for f, v in GOOD])
def test_the_edges_a_field_accepts(field, value):
    c = Config(**{field: value})
    stored = getattr(c, field)
    if isinstance(value, list):
        assert stored == tuple(value)  # sequences are kept as tuples
    else:
        assert stored is value or stored == value
    c.validate()  # and again at load: a stored value stays valid


@pytest.mark.parametrize(("field", "value"), BAD, ids=[f"{f}={v!r}" for f, v in BAD])
def test_the_first_values_a_field_refuses(field, value):
    with pytest.raises(ConfigurationError) as ei:
        Config(**{field: value})
    assert ei.value.path == field
    ok = Config()
    setattr(ok, field, value)  # assigned after construction, refused when validated (at load)
    with pytest.raises(ConfigurationError):
        ok.validate()


def test_the_documented_defaults():
    c = Config()
    (ex,) = c.executors
    assert isinstance(ex, ThreadPoolExecutor) and ex.max_workers == 4  # one pool of 4 threads
    assert (c.lazy_errors, c.retries, c.app_cache, c.checkpoint_files, c.checkpoint_mode, c.checkpoint_period) == (True, 0, True, (), None, None)
    assert (c.run_dir, c.memoizer, c.initialize_logging, c.usage_tracking, c.monitoring) == ("runinfo", None, True, False, False)
    assert (c.exit_mode, c.internal_tasks_max_threads, c.exit_wait, c.dependency_resolver) == ("cleanup", 10, 30.0, None)
    assert (c.strategy, c.strategy_period, c.max_idletime, c.garbage_collect, c.project_name) == ("simple", 5, 120.0, True, None)
    assert (c.retry_handler, c.std_autopath, c.controller, dict(c.site_data)) == (None, None, None, {})


def test_executors_take_none_one_or_any_iterable_and_need_unique_labels():
    default = Config(executors=None).executors
    assert len(default) == 1 and isinstance(default[0], ThreadPoolExecutor)
    one = ThreadPoolExecutor(label="one")
    assert Config(executors=one).executors == (one,)
    two = ThreadPoolExecutor(label="two")
    assert Config(executors=(e for e in [one, two])).executors == (one, two)
    assert Config(executors=[one, two]).executors == (one, two)
    for bad, path in (
        ([], "executors"), ("threads", "executors"), ({"one": one}, "executors"), (3, "executors"),
        ([one, object()], "executors[1]"), ([ThreadPoolExecutor(label="  ")], "executors[0].label"),
        ([one, ThreadPoolExecutor(label="one")], "executors[1].label"),
    ):
        with pytest.raises(ConfigurationError) as ei:
            Config(executors=bad)
        assert ei.value.path == path


def test_periodic_checkpoints_default_to_every_half_hour():
    assert Config(checkpoint_mode="periodic").checkpoint_period == "00:30:00"
    assert Config(checkpoint_mode="periodic", checkpoint_period="00:00:05").checkpoint_period == "00:00:05"
    assert Config(checkpoint_mode="task_exit").checkpoint_period is None


def test_a_bad_checkpoint_period_names_the_field_whatever_is_wrong():
    for bad in ("half an hour", "00:00:00", 3600):
        with pytest.raises(ConfigurationError) as ei:
            Config(checkpoint_period=bad)
        assert ei.value.path == "checkpoint_period"


def test_the_resolver_in_effect():
    assert Config().resolver is SHALLOW_DEPENDENCY_RESOLVER
    assert Config(dependency_resolver=DEEP_DEPENDENCY_RESOLVER).resolver is DEEP_DEPENDENCY_RESOLVER


def test_upstream_settings_that_differ_from_upstreams_defaults_are_listed():
    assert Config().ignored_upstream_settings() == []
    c = Config(strategy="none", strategy_period=5, max_idletime=3, garbage_collect=False, project_name="p")
    assert c.ignored_upstream_settings() == ["strategy='none'", "max_idletime=3", "garbage_collect=False", "project_name='p'"]


def test_with_makes_a_validated_copy():
    c = Config(retries=1)
    d = c.with_(retries=2)
    assert (c.retries, d.retries) == (1, 2) and d.executors == c.executors
    with pytest.raises(ConfigurationError, match="retries"):
        c.with_(retries=-1)
