"""The high-throughput executor's pieces that need no process: signed frames, key files,
resource hints, launch templates, upstream keywords, 0.5.0 dict sites, error pickling."""
from __future__ import annotations

import os
import pickle
import stat

import pytest

from parsl.errors import ConfigurationError
from parsl.interfaces import BlockShape

pytest.importorskip("zmq")

from parsl_executors.htex import BlocksNeverConnected, HighThroughputExecutor, InterchangeLost, ManagerLost, WorkerLost
from parsl_executors.htex.launch import PoolSettings, check_template, pool_command
from parsl_executors.htex.options import resource_tuple
from parsl_executors.htex.wire import RunKeys, Signer, read_key_file


def test_signed_frames_round_trip_and_forgeries_are_dropped() -> None:
    keys = RunKeys.generate(encrypted=False)
    a, b = Signer(keys.hmac_key), Signer(keys.hmac_key)
    frames = a.pack("tasks", [(1, 2, b"f", b"a", None)])
    assert b.unpack(frames) == ("tasks", [(1, 2, b"f", b"a", None)])
    mac, payload = frames
    assert b.unpack([mac, payload + b"x"]) is None  # tampered payload
    assert b.unpack([b"\0" * 32, payload]) is None  # wrong mac
    assert b.unpack([payload]) is None  # missing frame
    assert b.unpack([mac[:5], payload]) is None  # short mac
    other = Signer(RunKeys.generate(encrypted=False).hmac_key)
    assert b.unpack(other.pack("tasks", [])) is None  # another run's key
    assert b.dropped == 5


def test_key_file_is_private_and_holds_no_server_secret(tmp_path) -> None:
    keys = RunKeys.generate(encrypted=True)
    path = keys.write_pool_file(str(tmp_path / "keys"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700
    assert keys.server_secret is not None and keys.server_secret.decode() not in open(path).read()
    back = read_key_file(path)
    assert back.hmac_key == keys.hmac_key and back.client_secret == keys.client_secret and back.server_secret is None
    assert keys.hmac_key.hex() not in repr(keys)
    os.chmod(path, 0o644)
    with pytest.raises(PermissionError, match="0600"):
        read_key_file(path)


def test_resource_hints_are_checked() -> None:
    assert resource_tuple({"cores": 2, "memory": 100, "walltime": 3}) == (2, 100, 3)
    assert resource_tuple({}) is None
    with pytest.raises(ConfigurationError, match=r"parsl_resource_specification\.core.*did you mean 'cores'"):
        resource_tuple({"core": 2})
    with pytest.raises(ConfigurationError, match=r"parsl_resource_specification\.memory.*positive"):
        resource_tuple({"memory": -1})
    with pytest.raises(ConfigurationError, match=r"expected int or float"):
        resource_tuple({"walltime": "1h"})


def test_launch_template_placeholders() -> None:
    check_template("{python} -m mypool --port {port} --keyfile {keyfile}")
    with pytest.raises(ConfigurationError, match=r"unknown placeholder \{task_url\}"):
        check_template("process_worker_pool.py --task_url {task_url}")
    s = PoolSettings("/usr/bin/python3", "/run dir/pool.key", "127.0.0.1", 5000, 2, 1.0, 0.0, 4, 5.0, 10.0, "/logs", False)
    cmd = pool_command(s, "7")
    assert "'/run dir/pool.key'" in cmd and "--port 5000" in cmd and "--block 7" in cmd and "--workers 2" in cmd


def test_upstream_keywords() -> None:
    ex = HighThroughputExecutor(label="h", max_workers_per_node=3, cores_per_worker=2, address="127.0.0.1", worker_debug=True,
                                heartbeat_period=2, heartbeat_threshold=5, prefetch_capacity=0, storage_access=None, poll_period=10)
    assert (ex.label, ex.workers_per_node, ex.cores_per_worker, ex.heartbeat_threshold, ex.encrypted) == ("h", 3, 2.0, 5.0, False)
    assert HighThroughputExecutor(max_workers=4).workers_per_node == 4
    assert HighThroughputExecutor().heartbeat_threshold == 2 * HighThroughputExecutor().heartbeat_period
    assert HighThroughputExecutor(address="10.1.2.3").encrypted is True  # encrypted by default across hosts
    assert HighThroughputExecutor(address="10.1.2.3", encrypted=False).encrypted is False
    with pytest.raises(ConfigurationError, match="did you mean 'max_workers_per_node'"):
        HighThroughputExecutor(max_worker_per_node=2)
    with pytest.raises(ConfigurationError, match="heartbeat_threshold"):
        HighThroughputExecutor(heartbeat_period=5, heartbeat_threshold=3)
    with pytest.raises(ConfigurationError, match="max_workers_per_node"):
        HighThroughputExecutor(max_workers_per_node=0)


def test_dict_site_task_blocks_are_workers_per_node() -> None:
    from parsl.interfaces import site_from_dict

    site = site_from_dict({"site": "htex_local", "auth": {"channel": None}, "execution": {
        "executor": "htex", "provider": None, "options": {"heartbeat_period": 1, "prefetch_capacity": 8},
        "block": {"nodes": 1, "taskBlocks": 4, "initBlocks": 1, "maxBlocks": 3}}})
    ex = HighThroughputExecutor.from_site(site, {})
    assert (ex.label, ex.workers_per_node, ex.heartbeat_period, ex.prefetch_capacity) == ("htex_local", 4, 1.0, 8)
    assert ex.policy.tasks_per_block == 4 and ex.policy.max_blocks == 3
    bad = site_from_dict({"site": "s", "auth": {"channel": None}, "execution": {"executor": "htex", "provider": None, "options": {"heartbeat": 1}, "block": {"taskBlocks": 1}}}, "sites[2]")
    with pytest.raises(ConfigurationError, match=r"sites\[2\]\.execution\.options\.heartbeat.*did you mean"):
        HighThroughputExecutor.from_site(bad, {})


def test_the_entry_point_names_this_executor() -> None:
    from parsl import plugins

    assert plugins.get("executor", "htex") is HighThroughputExecutor


@pytest.mark.parametrize("err", [
    WorkerLost(3, "node1", 1234, -9, "0"), ManagerLost("node1-1-ab", "node1", "2", "no heartbeat for 3.0 s"),
    InterchangeLost("h", "exited"), BlocksNeverConnected("h", "block 0 ended"),
])
def test_errors_round_trip_as_their_own_types(err: Exception) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err) and str(back) == str(err) and back.args == err.args


def test_shape_defaults_from_provider() -> None:
    assert HighThroughputExecutor(shape=BlockShape(nodes_per_block=2, max_blocks=4), max_workers_per_node=3).policy.tasks_per_block == 6


def test_pool_workers_follow_cores_and_memory() -> None:
    from parsl_executors.htex.pool import parse_args

    base = ["--keyfile", "k", "--port", "1", "--cores", "8"]
    assert parse_args(base).workers == 8
    assert parse_args([*base, "--cores-per-worker", "2"]).workers == 4
    assert parse_args([*base, "--mem-per-worker", "1000", "--memory", "3000"]).workers == 3  # memory binds first
    assert parse_args([*base, "--workers", "5", "--mem-per-worker", "1000", "--memory", "3000"]).workers == 5  # explicit wins
