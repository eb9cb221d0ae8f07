"""Usage statistics are opt-in and go only to an explicit endpoint (a loopback listener here)."""
from __future__ import annotations

import json
import socket

import pytest

from parsl import App, Config, DataFlowKernel, ThreadPoolExecutor
from parsl.usage_tracking import resolve


@pytest.fixture
def listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(0.5)
    yield s
    s.close()


def received(sock):
    out = []
    while True:
        try:
            out.append(json.loads(sock.recv(65536)))
        except TimeoutError:
            return out


def run_workflow(cfg):
    dfk = DataFlowKernel(config=cfg)

    @App("python", dfk)
    def f(x):
        return 1 / x

    f(1).result()
    f(0).exception()
    dfk.cleanup()


def test_off_by_default_sends_nothing(listener, monkeypatch):
    monkeypatch.setenv("PARSL_TRACKING_ENDPOINT", "127.0.0.1:%d" % listener.getsockname()[1])
    monkeypatch.delenv("PARSL_TRACKING", raising=False)
    run_workflow(Config(executors=[ThreadPoolExecutor(1)]))
    assert received(listener) == []


def test_opt_in_sends_start_and_end_anonymised(listener, monkeypatch):
    monkeypatch.setenv("PARSL_TRACKING_ENDPOINT", "127.0.0.1:%d" % listener.getsockname()[1])
    run_workflow(Config(executors=[ThreadPoolExecutor(1)], usage_tracking=True))
    msgs = received(listener)
    assert [m["event"] for m in msgs] == ["start", "end"]
    assert msgs[1]["tasks"] == 2 and msgs[1]["failed"] == 1 and msgs[0]["sites"] == 1
    import getpass
    import hashlib
    import os
    import sys

    from parsl.usage_tracking import FIELDS

    assert set(msgs[0]) == FIELDS - {"tasks", "failed"} and set(msgs[1]) == FIELDS
    assert msgs[0]["run"] == msgs[1]["run"]
    # nothing derived from the user, the host or the script's path, hashed or not
    blob = json.dumps(msgs)
    host, user, script = socket.gethostname(), getpass.getuser(), os.path.abspath(sys.argv[0])
    for text in (host, user, script, f"{user}@{host}"):
        assert text not in blob and hashlib.sha256(text.encode()).hexdigest() not in blob


def test_env_false_always_wins(listener, monkeypatch):
    monkeypatch.setenv("PARSL_TRACKING_ENDPOINT", "127.0.0.1:%d" % listener.getsockname()[1])
    monkeypatch.setenv("PARSL_TRACKING", "false")
    run_workflow(Config(executors=[ThreadPoolExecutor(1)], usage_tracking=True))
    assert received(listener) == []


def test_opt_in_without_endpoint_sends_nowhere(caplog):
    assert resolve(True, {}) is None
    assert "PARSL_TRACKING_ENDPOINT is not set" in caplog.text
    assert resolve(True, {"PARSL_TRACKING_ENDPOINT": "nonsense"}) is None
    assert resolve(False, {"PARSL_TRACKING": "true", "PARSL_TRACKING_ENDPOINT": "127.0.0.1:9"}) == ("127.0.0.1", 9)


@pytest.mark.parametrize(("level", "events"), [(0, []), (1, ["start", "end"]), (3, ["start", "end"])])
def test_upstream_levels_opt_in_above_zero(listener, monkeypatch, level, events):
    from parsl.usage_tracking import levels

    assert (levels.DISABLED, levels.LEVEL_1, levels.LEVEL_3) == (0, 1, 3)
    monkeypatch.setenv("PARSL_TRACKING_ENDPOINT", "127.0.0.1:%d" % listener.getsockname()[1])
    monkeypatch.delenv("PARSL_TRACKING", raising=False)
    run_workflow(Config(executors=[ThreadPoolExecutor(1)], usage_tracking=level))
    assert [m["event"] for m in received(listener)] == events


def test_a_level_out_of_range_is_refused():
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="usage_tracking"):
        Config(usage_tracking=4)
