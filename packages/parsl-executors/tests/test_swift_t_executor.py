"""The Turbine executor with real Open MPI ranks in local blocks (``mpiexec`` through
libsubmit's local provider): the conformance kit, the 0.5.0 forms, worker and rank-0 loss,
authentication, MPI apps and cleanup."""
from __future__ import annotations

import glob
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import cloudpickle
import pytest

from parsl.interfaces import ExecutorContext, ParslExecutor
from parsl.testing.executor_kit import ExecutorConformance

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import Recorder
from swift_t_support import assert_all_gone, block_pids, require_mpi, wait_for

pytestmark = pytest.mark.integration

# the ranks cannot import this test module: send its functions by value
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class TestTurbineConformance(ExecutorConformance):
    timeout = 60.0

    def make_executor(self, tmp_path: Path) -> ParslExecutor:
        require_mpi()
        from parsl_executors.swift_t import TurbineExecutor

        return TurbineExecutor()


@pytest.fixture
def turbine(tmp_path: Path) -> Any:
    require_mpi()
    from parsl_executors.swift_t import TurbineExecutor

    made: list[tuple[Any, list[int]]] = []

    def make(monitor: Recorder | None = None, **kwargs: Any) -> Any:
        ex = TurbineExecutor(**kwargs)
        run_dir = tmp_path / f"run{len(made)}"
        run_dir.mkdir()
        ex.start(ExecutorContext(run_id="t", run_dir=str(run_dir), monitor=monitor))
        pids: list[int] = []
        made.append((ex, pids))
        return ex

    yield make
    for ex, pids in made:
        pids += block_pids(ex)
        ex.shutdown()
        assert_all_gone(pids)


def _started(marks: str, i: int) -> tuple[int, float]:
    """A task that leaves a marker named after its task number and pid, then sleeps."""
    import os
    import time

    with open(os.path.join(marks, f"{i}.{os.getpid()}"), "w"):
        pass
    time.sleep(1.0)
    return i, os.getpid()


def _markers(marks: Path) -> list[tuple[int, int]]:
    return [tuple(map(int, os.path.basename(p).split("."))) for p in glob.glob(str(marks / "*"))]  # type: ignore[misc]


def test_the_050_form_runs_python_and_bash_apps_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_mpi()
    monkeypatch.chdir(tmp_path)
    from parsl import App, DataFlowKernel
    from parsl.executors.swift_t import TurbineExecutor

    ex = TurbineExecutor()
    dfk = DataFlowKernel(executors=[ex])

    @App("python", dfk)
    def where() -> int:
        import os

        return os.getpid()

    @App("bash", dfk)
    def echo(msg: str, stdout: Any = None) -> str:
        return "echo {0}"

    pids = {where().result(timeout=60) for _ in range(12)}
    ex.wait_for_ranks(4)
    assert echo("hello", stdout=str(tmp_path / "o.txt")).result(timeout=60) == 0
    assert (tmp_path / "o.txt").read_text() == "hello\n"
    ranks = ex.ranks()
    assert len(ranks) == 4 and pids <= {pid for (_b, r), (_h, pid) in ranks.items() if r != 0}
    procs = block_pids(ex)
    dfk.cleanup()
    assert_all_gone(procs)
    assert not os.path.exists(ex.key_file)


def test_dict_config_swift_t_sets_the_ranks_per_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_mpi()
    monkeypatch.chdir(tmp_path)
    from parsl import App, DataFlowKernel

    config = {
        "sites": [{"site": "mpi_local", "auth": {"channel": "local"},
                   "execution": {"executor": "swift_t", "provider": "local",
                                 "block": {"taskBlocks": 3, "initBlocks": 1, "minBlocks": 1, "maxBlocks": 1}}}],
        "globals": {"lazyErrors": True},
    }
    dfk = DataFlowKernel(config=config)
    ex = dfk.executors["mpi_local"]

    @App("python", dfk)
    def add(a: int, b: int) -> int:
        return a + b

    assert add(2, 3).result(timeout=60) == 5
    ex.wait_for_ranks(3)
    assert {r for (_b, r) in ex.ranks()} == {0, 1, 2}
    procs = block_pids(ex)
    dfk.cleanup()
    assert_all_gone(procs)


def test_a_killed_rank_fails_only_its_task_with_worker_lost(turbine: Any, tmp_path: Path) -> None:
    from parsl_executors import WorkerLost

    ex = turbine()
    marks = tmp_path / "marks"
    marks.mkdir()
    futs = [ex.submit(_started, str(marks), i) for i in range(9)]
    ex.wait_for_ranks(4)
    workers = {pid: r for (_b, r), (_h, pid) in ex.ranks().items() if r != 0}
    victim_task, victim = wait_for(lambda: next(((i, p) for i, p in _markers(marks) if p in workers), None), what="a task on a worker rank")
    os.kill(victim, signal.SIGKILL)
    err = futs[victim_task].exception(timeout=60)
    assert isinstance(err, WorkerLost) and err.pid == victim and err.worker_id == workers[victim] and err.block == "0"
    others = [f.result(timeout=60) for i, f in enumerate(futs) if i != victim_task]
    assert len(others) == 8 and victim not in {pid for _i, pid in others}
    # the block keeps serving with the ranks it has left
    assert ex.submit(_started, str(marks), 100).result(timeout=60)[0] == 100


def test_under_retries_the_lost_task_runs_again_and_everything_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_mpi()
    monkeypatch.chdir(tmp_path)
    from parsl import DataFlowKernel, python_app
    from parsl_executors.swift_t import TurbineExecutor

    ex = TurbineExecutor()
    dfk = DataFlowKernel(executors=[ex], retries=1)
    marks = tmp_path / "marks"
    marks.mkdir()
    app = python_app(_started, data_flow_kernel=dfk)
    futs = [app(str(marks), i) for i in range(6)]
    ex.wait_for_ranks(4)
    workers = {pid for (_b, r), (_h, pid) in ex.ranks().items() if r != 0}
    victim_task, victim = wait_for(lambda: next(((i, p) for i, p in _markers(marks) if p in workers), None), what="a task on a worker rank")
    os.kill(victim, signal.SIGKILL)
    assert [f.result(timeout=60)[0] for f in futs] == list(range(6))
    attempts = [p for i, p in _markers(marks) if i == victim_task]
    assert len(attempts) == 2 and victim in attempts and futs[victim_task].result()[1] != victim
    procs = block_pids(ex) + [victim]
    dfk.cleanup()
    assert_all_gone(procs)


def test_rank_zero_death_fails_the_blocks_tasks_clearly_and_a_new_block_serves(turbine: Any, tmp_path: Path) -> None:
    from parsl_executors.swift_t import RankZeroLost

    monitor = Recorder()
    ex = turbine(monitor)
    marks = tmp_path / "marks"
    marks.mkdir()
    futs = [ex.submit(_started, str(marks), i) for i in range(3)]
    wait_for(lambda: len(_markers(marks)) >= 1, what="a running task")
    ex.wait_for_ranks(4)
    old = block_pids(ex)
    (rank0,) = [pid for (_b, r), (_h, pid) in ex.ranks().items() if r == 0]
    os.kill(rank0, signal.SIGKILL)
    errs = [f.exception(timeout=60) for f in futs]
    assert all(isinstance(e, RankZeroLost) for e in errs), errs
    assert f"rank 0 (pid {rank0}) of block 0" in str(errs[0]) and "every task of that block is lost" in str(errs[0])
    assert_all_gone(old)  # the dead block is cancelled: none of its ranks keeps running
    assert ex.submit(_started, str(marks), 7).result(timeout=90)[0] == 7
    assert "1" in {b for (b, _r) in ex.ranks()}
    # the monitor saw block 0 run and end (it had run: not a failed start), block 1 come up
    assert monitor.of("0") == ["submitted", "running", "ended"] and monitor.of("1") == ["submitted", "running"]


def test_peers_without_the_key_are_refused(turbine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from parsl_executors.swift_t.hub import Hub
    from parsl_executors.swift_t.wire import RankConnection

    ex = turbine()
    ex.wait_for_ranks(4)
    hub: Hub = ex._hub
    monkeypatch.delenv("PARSL_TURBINE_KEY", raising=False)
    intruder = RankConnection(hub.address, hub.port, b"\0" * 32, {"kind": "rank0", "block": "0", "rank": 0, "size": 4})
    intruder.sock.settimeout(30)
    assert intruder.sock.recv(100) == b""  # dropped without an answer
    intruder.close()
    with socket.create_connection((hub.address, hub.port), timeout=30) as raw:
        raw.recv(16)
        raw.sendall(b"\0" * 16 + (1 << 30).to_bytes(4, "big") + b"\0" * 64)
        assert raw.recv(100) == b""
    assert ex.submit(pow, 2, 10).result(timeout=60) == 1024
    assert oct(os.stat(ex.key_file).st_mode & 0o777) == "0o600"
    assert hub.address == "127.0.0.1"
    assert open(ex.key_file).read() not in ex.launch_cmd


PY = sys.executable
# an MPI hello world: rank 0 prints every rank's (rank, size)
RANK_SIZE = "from mpi4py import MPI; c = MPI.COMM_WORLD; got = c.gather((c.Get_rank(), c.Get_size())); got and print(got)"
# each app's rank 0 announces itself, then waits (bounded) for the other app: both must run at once
BARRIER = (
    "import os, sys, time\n"
    "from mpi4py import MPI\n"
    "me, other = sys.argv[1], sys.argv[2]\n"
    "if MPI.COMM_WORLD.Get_rank() == 0:\n"
    "    open(me, 'w').close()\n"
    "    t = time.time()\n"
    "    while not os.path.exists(other):\n"
    "        assert time.time() - t < 60, 'the other MPI app never ran at the same time'\n"
    "        time.sleep(0.05)\n"
    "MPI.COMM_WORLD.Barrier()\n"
)


def test_mpi_apps_get_their_prefix_and_pack_into_one_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_mpi()
    monkeypatch.chdir(tmp_path)
    from parsl import DataFlowKernel, bash_app, python_app
    from parsl_executors.swift_t import TurbineExecutor

    ex = TurbineExecutor()
    dfk = DataFlowKernel(executors=[ex])
    (tmp_path / "barrier.py").write_text(BARRIER)

    @bash_app(data_flow_kernel=dfk)
    def hello(stdout: Any = None, parsl_resource_specification: Any = None) -> str:
        return f"echo $PARSL_NUM_RANKS $PARSL_MPI_NODELIST; $PARSL_MPI_PREFIX {PY} -c '{RANK_SIZE}'"

    @bash_app(data_flow_kernel=dfk)
    def pair(me: str, other: str, parsl_resource_specification: Any = None) -> str:
        return f"$PARSL_MPI_PREFIX {PY} barrier.py {me} {other}"

    @python_app(data_flow_kernel=dfk)
    def ranks(parsl_resource_specification: Any = None) -> tuple[int, int]:
        from mpi4py import MPI

        return MPI.COMM_WORLD.Get_rank(), MPI.COMM_WORLD.Get_size()

    assert hello(stdout="h.out", parsl_resource_specification={"num_ranks": 4}).result(timeout=120) == 0
    lines = (tmp_path / "h.out").read_text().split("\n")
    assert lines[0] == f"4 {socket.gethostname()}"
    assert lines[1:] == ["[(0, 4), (1, 4), (2, 4), (3, 4)]", ""]
    assert ranks(parsl_resource_specification={"num_ranks": 2}).result(timeout=120) == [(0, 2), (1, 2)]
    both = [pair("a", "b", parsl_resource_specification={"num_ranks": 2}), pair("b", "a", parsl_resource_specification={"num_ranks": 2})]
    assert [f.result(timeout=120) for f in both] == [0, 0]
    too_big = ranks(parsl_resource_specification={"num_ranks": 5})
    with pytest.raises(Exception, match="asks for 5 ranks, but a block of executor 'swift_t' has 4"):
        too_big.result(timeout=60)
    procs = block_pids(ex)
    dfk.cleanup()
    assert_all_gone(procs)
    assert glob.glob(str(tmp_path / "runinfo" / "*" / "swift_t" / "mpi" / "*")) == []  # no task file left behind


def test_blocks_follow_the_strategy_and_idle_ranks_do_not_spin(turbine: Any) -> None:
    import psutil

    from parsl.interfaces import BlockShape

    ex = turbine(shape=BlockShape(tasks_per_node=3, init_blocks=0, min_blocks=0, max_blocks=1), max_idletime=2.0, strategy_interval=0.2)
    assert ex.blocks == {}
    assert ex.submit(pow, 3, 2).result(timeout=90) == 9  # the strategy started a block for it
    ex.wait_for_ranks(3)
    procs = block_pids(ex)
    ranks = [psutil.Process(pid) for _h, pid in ex.ranks().values()]
    before = sum(p.cpu_times().user + p.cpu_times().system for p in ranks)
    time.sleep(1.0)  # idle, shorter than max_idletime
    spent = sum(p.cpu_times().user + p.cpu_times().system for p in ranks) - before
    assert spent < 0.3, f"3 idle ranks used {spent:.2f} s of CPU in 1 s"
    wait_for(lambda: ex.blocks == {}, what="the idle block to be released")
    assert_all_gone(procs)


def test_a_block_that_cannot_start_fails_waiting_tasks_clearly(turbine: Any) -> None:
    from parsl_executors.swift_t import BlockFailed

    monitor = Recorder()
    ex = turbine(monitor, rank_command="/bin/false")
    err = ex.submit(pow, 2, 2).exception(timeout=90)
    assert isinstance(err, BlockFailed) and "before any rank connected" in str(err), err
    assert monitor.of("0") == ["submitted", "failed"]


def test_blocks_that_keep_failing_are_capped_and_waiting_tasks_get_the_stderr(turbine: Any) -> None:
    from parsl.executors.errors import ScalingFailed
    from parsl.interfaces import BlockShape

    monitor = Recorder()
    # every rank exits at once with a message on stderr; min_blocks=1 keeps asking for a block
    broken = f"{sys.executable} -c 'import sys; sys.exit(\"rank-start: no MPI library on this node\")'"
    shape = BlockShape(tasks_per_node=2, init_blocks=1, min_blocks=1, max_blocks=1)
    ex = turbine(monitor, shape=shape, rank_command=broken, strategy_interval=0.2, max_block_failures=2)

    def submitted() -> list[str]:
        return [b for _ex, b, event, _d in list(monitor.events) if event == "submitted"]

    wait_for(lambda: ex.block_failures.tripped is not None or len(submitted()) > 2, what="the cap to trip (or a 3rd block)")
    assert submitted() == ["0", "1"], "blocks were started past max_block_failures=2"
    err = ex.block_failures.tripped
    assert isinstance(err, ScalingFailed) and "2 blocks in a row failed to start (max_block_failures=2)" in str(err)
    assert "rank-start: no MPI library on this node" in err.stderr_tail
    # a task submitted now fails with that error instead of waiting for a block that never comes
    late = ex.submit(pow, 2, 4)
    assert late.exception(timeout=60) is err
    # more strategy passes start nothing
    for _ in range(3):
        ex.strategy.strategize()
    assert submitted() == ["0", "1"] and ex.blocks == {}


def test_commands_of_running_bash_apps_end_with_the_executor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import psutil

    require_mpi()
    monkeypatch.chdir(tmp_path)
    from parsl import DataFlowKernel, bash_app
    from parsl_executors.swift_t import TurbineExecutor

    ex = TurbineExecutor()
    dfk = DataFlowKernel(executors=[ex])

    @bash_app(data_flow_kernel=dfk)
    def linger(marker: str) -> str:
        return "echo $$ > {0}; exec sleep 300"

    linger(str(tmp_path / "pid"))
    pid = int(wait_for(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text().strip(), what="the command to start"))
    assert psutil.pid_exists(pid)
    procs = block_pids(ex) + [pid]
    ex.shutdown()
    assert_all_gone(procs)
    dfk.cleanup()


def test_scale_in_under_load_hands_the_released_blocks_tasks_to_the_others(turbine: Any, tmp_path: Path) -> None:
    from parsl.interfaces import BlockShape

    ex = turbine(shape=BlockShape(tasks_per_node=2, init_blocks=2, min_blocks=2, max_blocks=2), flow_control=False)
    ex.wait_for_ranks(4)
    marks = tmp_path / "marks"
    marks.mkdir()
    futs = [ex.submit(_started, str(marks), i) for i in range(6)]
    wait_for(lambda: len({p for _i, p in _markers(marks)}) == 2, what="both blocks to run a task")
    assert ex.scale_in(1) == ["1"]
    assert sorted(f.result(timeout=90)[0] for f in futs) == list(range(6))  # none failed, none lost
    survivors = {pid for (b, r), (_h, pid) in ex.ranks().items() if b == "0" and r != 0}
    assert {f.result()[1] for f in futs[-2:]} <= survivors
    assert wait_for(lambda: not any(b == "1" for (b, _r) in ex.ranks()), what="block 1's ranks to go")
    assert ex.blocks.keys() == {"0"}


def test_a_key_from_the_environment_is_used_and_no_key_file_is_written(turbine: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    key = os.urandom(32).hex()
    monkeypatch.setenv("PARSL_TURBINE_KEY", key)  # the local block inherits it, as a job environment would
    ex = turbine()
    assert ex.key_file is None and "--key-file" not in ex.launch_cmd and key not in ex.launch_cmd
    assert ex._hub.address == "127.0.0.1"
    assert ex.submit(pow, 2, 5).result(timeout=60) == 32
    assert not glob.glob(os.path.join(ex.work_dir, "*.key"))


def test_an_app_wider_than_the_blocks_real_nodes_fails_instead_of_waiting(turbine: Any) -> None:
    from parsl.interfaces import BlockShape

    def two_nodes(parsl_resource_specification: Any = None) -> int:
        return 1

    # a 2-node-shaped block whose 4 ranks all land on this one machine
    ex = turbine(shape=BlockShape(nodes_per_block=2, tasks_per_node=2, init_blocks=1, min_blocks=1, max_blocks=1))
    err = ex.submit(two_nodes, parsl_resource_specification={"num_ranks": 2, "num_nodes": 2}).exception(timeout=90)
    assert isinstance(err, ValueError) and "asks for 2 ranks on 2 node(s); block 0 has ranks on 1 node(s)" in str(err), err
    assert ex.submit(two_nodes).result(timeout=60) == 1
