"""The IPyParallelExecutor against a real controller and real engines (loopback only)."""
from __future__ import annotations

import json
import os
import signal
import sys
import time

import cloudpickle
import pytest
from ipp_test_support import Recorder, alive, wait_gone
from swift_t_support import wait_for

from parsl.app.bash import BashCall
from parsl.app.errors import AppTimeout, BashExitFailure
from parsl.app.walltime import TimedCall
from parsl.data_provider.files import File
from parsl.executors.errors import ExecutorShutdown
from parsl.interfaces import BlockShape, JobState

pytestmark = pytest.mark.integration

# engines cannot import this test module: send its functions by value, as for __main__
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def add(a: int, b: int = 0) -> int:
    return a + b


def where() -> tuple[int, str]:
    return os.getpid(), os.getcwd()


def fail(msg: str) -> None:
    raise KeyError(msg)


def read(f: File) -> tuple[str, str]:
    with open(f) as fh:
        return type(f).__name__, fh.read()


def nap(t: float) -> int:
    time.sleep(t)
    return os.getpid()


def test_python_tasks_run_on_engines(make_ipp, tmp_path) -> None:
    ex = make_ipp()
    assert ex.submit(add, 1, b=2).result(timeout=60) == 3
    pid, cwd = ex.submit(where).result(timeout=30)
    assert pid != os.getpid()
    assert cwd == str(tmp_path)  # engine_dir
    # closures and lambdas travel by value (cloudpickle)
    k = 10
    assert ex.submit(lambda x: x * k, 4).result(timeout=30) == 40
    assert ex.outstanding == 0


def test_exceptions_travel_as_data_with_the_remote_traceback(make_ipp) -> None:
    ex = make_ipp()
    e = ex.submit(fail, "nope").exception(timeout=60)
    assert isinstance(e, KeyError) and e.args == ("nope",)
    assert "in fail" in str(e.__cause__)  # the engine's traceback


def test_bash_timed_calls_and_files(make_ipp, tmp_path) -> None:
    ex = make_ipp()
    out = tmp_path / "o.txt"
    call = BashCall(lambda x, stdout=None: "echo value {0}; echo $$", "echo", None, {})
    assert ex.submit(call, 7, stdout=str(out)).result(timeout=60) == 0
    lines = out.read_text().split()
    assert lines[:2] == ["value", "7"] and int(lines[2]) != os.getpid()
    bad = ex.submit(BashCall(lambda: "exit 3", "bad", None, {})).exception(timeout=30)
    assert isinstance(bad, BashExitFailure) and bad.exitcode == 3
    slow = ex.submit(TimedCall(nap, 0.3, "nap"), 5).exception(timeout=30)
    assert isinstance(slow, AppTimeout)
    (tmp_path / "in.txt").write_text("data")
    assert ex.submit(read, File(str(tmp_path / "in.txt"))).result(timeout=30) == ("File", "data")


def test_scale_out_and_in_through_the_provider(make_ipp) -> None:
    monitor = Recorder()
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=3), monitor, flow_control=False)
    ex.wait_for_engines(1, timeout=60)
    new = ex.scale_out(2)
    assert len(new) == 2 and ex.held_blocks() == 3
    ex.wait_for_engines(3, timeout=60)
    pids = ex.engine_pids()
    assert len(set(pids.values())) == 3
    assert {e.block for e in ex.engines.values()} == {"0", "1", "2"}
    gone = ex.scale_in(2)
    assert sorted(gone) == ["1", "2"]
    prov = ex.execution_provider
    assert all(s is JobState.CANCELLED for s in prov.status([j for j in prov.procs if j != "0"]))
    victims = [p for p in pids.values() if p not in ex.engine_pids().values()]
    assert wait_gone(victims) == []
    assert ex.held_blocks() == 1
    # the executor keeps serving on what is left
    assert ex.submit(add, 2, 2).result(timeout=60) == 4
    # each block's life went to the monitor: up once its engine registered, then let go
    assert monitor.of("0") == ["submitted", "running"]
    assert monitor.of("1") == monitor.of("2") == ["submitted", "running", "released"]


def test_shutdown_stops_everything_and_is_idempotent(make_ipp) -> None:
    ex = make_ipp()
    ex.wait_for_engines(2, timeout=60)
    engines = list(ex.engine_pids().values())
    blocks = [p.pid for p in ex.execution_provider.procs.values()]
    ctl = ex.controller.pid
    assert all(alive(p) for p in [*engines, *blocks, ctl])
    running = ex.submit(nap, 30)
    time.sleep(0.5)
    ex.shutdown()
    ex.shutdown()
    assert wait_gone([*engines, *blocks, ctl]) == []
    with pytest.raises(ExecutorShutdown):
        running.result(timeout=5)
    with pytest.raises(ExecutorShutdown):
        ex.submit(add, 1)


def test_engine_loss_fails_only_its_task_with_a_clear_error(make_ipp) -> None:
    from parsl_executors.errors import EngineLost

    monitor = Recorder()
    ex = make_ipp(BlockShape(tasks_per_node=2, init_blocks=1, min_blocks=0, max_blocks=1), monitor)
    ex.wait_for_engines(2, timeout=60)
    pids = ex.engine_pids()
    futs = [ex.submit(nap, 0.02) for _ in range(200)]
    time.sleep(0.5)
    victim_id, victim = sorted(pids.items())[0]
    os.kill(victim, signal.SIGKILL)
    errors = []
    for f in futs:
        try:
            f.result(timeout=120)
        except EngineLost as e:
            errors.append(e)
    assert 1 <= len(errors) <= 2, errors
    e = errors[0]
    assert e.engine_id == victim_id and e.pid == victim and e.host
    assert f"engine {victim_id} on host {e.host}" in str(e)
    # still serving on the survivor
    assert {ex.submit(nap, 0).result(timeout=60) for _ in range(5)} == {pids[max(pids)]}
    # the block lost one engine of two: reported, and it counts as half a block
    wait_for(lambda: "worker_lost" in monitor.of("0"), what="the engine loss reported")
    assert monitor.of("0") == ["submitted", "running", "worker_lost"] and ex.usable_blocks(1) == 0.5
    assert monitor.events[-1] == ("ipp", "0", "worker_lost", f"engine {victim_id} (pid {victim} on {e.host})")


def test_reused_controller_is_left_running(make_ipp, tmp_path) -> None:
    from parsl_executors.ipp.controller import Controller

    ipython_dir = tmp_path / "ipython"
    ctl = Controller()
    work = tmp_path / "external"
    work.mkdir()
    ctl.start(str(work))
    try:
        # lay it out like a profile of an ipython dir
        prof = ipython_dir / "profile_shared"
        prof.mkdir(parents=True)
        os.symlink(ctl.security_dir(), prof / "security")
        ex = make_ipp(controller={"reuse": True, "profile": "shared", "ipythonDir": str(ipython_dir)})
        assert not ex.controller.started_here
        assert ex.submit(add, 20, 22).result(timeout=60) == 42
        ex.shutdown()
        assert alive(ctl.pid)
    finally:
        pid = ctl.pid
        ctl.close()
    assert wait_gone([pid]) == []


def test_compose_launch_cmd_keeps_the_key_off_the_command_line(make_ipp, tmp_path) -> None:
    """The connection file (with the controller's key) travels in the block's environment,
    exported by its private script: the one-line command itself holds no part of it."""
    from parsl_executors.ipp import ENGINE_JSON_VAR

    ex = make_ipp(BlockShape(init_blocks=0, max_blocks=1), flow_control=False)
    cmd = ex.compose_launch_cmd(ex.controller.engine_file, str(tmp_path))
    engine_json = open(ex.controller.engine_file).read()
    key = json.loads(engine_json)["key"]
    assert key and key not in cmd and "\n" not in cmd
    assert ex._launch_env == {ENGINE_JSON_VAR: engine_json}
    assert f"unset {ENGINE_JSON_VAR}" in cmd and "enable_nanny=False" in cmd


def test_tasks_fail_when_no_block_can_be_started(make_ipp, tmp_path) -> None:
    """A provider that refuses every block (a real one: its script directory cannot be
    made) while no engine is connected: the waiting task fails with ScalingFailed."""
    from parsl.executors.errors import ScalingFailed

    monitor = Recorder()
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=0, min_blocks=0, max_blocks=2), monitor)
    ex.execution_provider.log_dir = str(tmp_path / "not-a-dir" / "x")
    (tmp_path / "not-a-dir").write_text("a file, so nothing can be created under it")
    fut = ex.submit(add, 1, 2)
    with pytest.raises(ScalingFailed, match="could not start block"):
        fut.result(timeout=30)
    assert ex.outstanding == 0
    assert monitor.of("0") == ["failed"]


def test_engine_files_live_under_the_run_dir(make_ipp, tmp_path) -> None:
    ex = make_ipp()
    ex.wait_for_engines(2, timeout=60)
    files = os.listdir(os.path.join(ex.work_dir, "engines"))
    assert len(files) == 2 and all(f.startswith("engine-") and f.endswith(".json") for f in files)
    assert not (tmp_path / ".ipp_engines").exists()


def test_binding_beyond_loopback_needs_an_explicit_opt_in() -> None:
    from parsl.errors import ConfigurationError
    from parsl_executors.ipp.controller import Controller

    for ip in ("0.0.0.0", "10.1.2.3", "node17.cluster"):
        with pytest.raises(ConfigurationError, match=r"controller\.publicIp: .*allowRemote: True"):
            Controller.from_dict({"publicIp": ip})
    opted = Controller.from_dict({"publicIp": "0.0.0.0", "allowRemote": True})
    assert not opted.loopback and opted.curve  # encrypted unless turned off
    assert not Controller.from_dict({"publicIp": "0.0.0.0", "allowRemote": True, "encrypted": False}).curve
    assert Controller.from_dict({"publicIp": "127.0.0.1"}).loopback and not Controller().curve


def test_encrypted_controller_runs_tasks(make_ipp) -> None:
    """CurveZMQ (what a controller bound beyond loopback uses), exercised on loopback."""
    from parsl_executors.ipp.controller import Controller

    ex = make_ipp(controller=Controller(encrypted=True))
    assert ex.submit(add, 2, 3).result(timeout=60) == 5
    with open(ex.controller.engine_file) as f:
        assert json.load(f)["curve_serverkey"]
