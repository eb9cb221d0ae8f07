"""The Turbine executor's pure parts: rank 0's scheduler, the authenticated frames, the key
file, MPI app requests and prefixes, the launch environment, the documented ``runner`` and the
0.5.0 import path. No MPI needed."""
from __future__ import annotations

import os
import pickle
import queue
import stat
import subprocess
import sys
import threading

import pytest

from parsl.errors import ConfigurationError
from parsl_executors.swift_t.mpi_apps import MpiSpec, app_environment, compose_prefix, requested_spec, spec_from_kwargs
from parsl_executors.swift_t.scheduler import Scheduler
from parsl_executors.swift_t.wire import TO_EXECUTOR, TO_RANK, AuthError, Codec, read_key, session_key, write_key_file

# -- scheduler ---------------------------------------------------------------------------------


def _block(workers: int = 3, node: str = "n1") -> Scheduler:
    s = Scheduler()
    s.add_slot(node)  # rank 0
    for r in range(1, workers + 1):
        s.add_worker(r, node)
    return s


def test_tasks_go_to_idle_workers_in_order_and_wait_for_one_to_free() -> None:
    s = _block(2)
    for t in range(4):
        s.submit(t, f"p{t}")
    first = s.assignments()
    assert [(a.rank, a.task_id) for a in first] == [(1, 0), (2, 1)]
    assert s.assignments() == []  # no idle worker
    assert s.finished(2, 1)
    assert [(a.rank, a.task_id) for a in s.assignments()] == [(2, 2)]
    assert not s.finished(1, 99)  # not the task running there


def test_lost_worker_gives_back_its_task_and_its_slot() -> None:
    s = _block(2)
    s.submit("a", None)
    s.submit("b", None)
    s.assignments()
    assert s.lost(2) == "b"
    assert s.workers == 1 and s.capacity["n1"] == 2
    assert s.lost(2) is None
    s.add_worker(2, "n1")  # a lost rank never comes back
    assert s.workers == 1


def test_mpi_apps_pack_into_the_slots_of_a_block() -> None:
    s = _block(3)  # 4 slots: rank 0's and three workers'
    s.submit("mpi2a", None, num_ranks=2)
    s.submit("mpi2b", None, num_ranks=2)
    s.submit("one", None)
    got = s.assignments()
    assert [(a.task_id, a.nodes) for a in got] == [("mpi2a", ("n1",)), ("mpi2b", ("n1",))]
    assert s.used["n1"] == 4 and len(s.idle) == 1  # a worker is idle but there is no free slot
    s.finished(got[0].rank, "mpi2a")
    assert [a.task_id for a in s.assignments()] == ["one"]


def test_a_wide_app_is_not_starved_by_a_stream_of_small_tasks() -> None:
    s = Scheduler(max_passes=2)
    s.add_slot("n1")
    for r in (1, 2, 3):
        s.add_worker(r, "n1")
    s.submit("small0", None)
    s.assignments()
    s.submit("wide", None, num_ranks=4)
    for i in range(1, 6):
        s.submit(f"small{i}", None)
    started = [a.task_id for a in s.assignments()]
    assert started == ["small1", "small2"]  # pass the wide app while it cannot fit
    s.finished(1, "small0")
    assert s.assignments() == []  # passed twice: nothing else starts before it
    s.finished(2, "small1")
    s.finished(3, "small2")
    assert [a.task_id for a in s.assignments()] == ["wide"]


def test_multi_node_apps_take_ranks_per_node_on_distinct_nodes() -> None:
    s = Scheduler()
    s.add_slot("a")
    s.add_worker(1, "a")
    s.add_worker(2, "b")
    s.add_worker(3, "b")
    s.submit("x", None, num_ranks=4, num_nodes=2)
    (a,) = s.assignments()
    assert set(a.nodes) == {"a", "b"} and s.used == {"a": 2, "b": 2}


# -- frames and keys ---------------------------------------------------------------------------


def _pair(key: bytes = b"k" * 32) -> tuple[Codec, Codec]:
    sess = session_key(key, b"s" * 16, b"c" * 16)
    return Codec(sess, TO_RANK), Codec(sess, TO_EXECUTOR)


def test_frames_round_trip_in_order() -> None:
    ex, rank = _pair()
    data = ex.encode([{"task_id": 1, "buffer": b"x"}]) + ex.encode([{"stop": True}])
    assert rank.feed(data[:7]) == []
    assert rank.feed(data[7:]) == [[{"task_id": 1, "buffer": b"x"}], [{"stop": True}]]


@pytest.mark.parametrize("attack", ["tamper", "replay", "reflect", "other_key"])
def test_frames_that_do_not_authenticate_are_refused(attack: str) -> None:
    ex, rank = _pair()
    frame = ex.encode([{"evil": True}])
    if attack == "tamper":
        frame = frame[:-1] + bytes([frame[-1] ^ 1])
    elif attack == "replay":
        rank.feed(frame)
    elif attack == "reflect":
        rank = Codec(session_key(b"k" * 32, b"s" * 16, b"c" * 16), TO_RANK)  # the executor's own frame sent back to it
    else:
        rank = _pair(b"o" * 32)[1]
    with pytest.raises(AuthError):
        rank.feed(frame)


def test_an_oversized_first_frame_is_refused_before_it_is_read() -> None:
    _ex, rank = _pair()
    with pytest.raises(AuthError, match="over the limit"):
        rank.feed((1 << 20).to_bytes(4, "big") + b"\0" * 40)


def test_key_file_is_private_and_never_overwritten(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path = os.path.join(str(tmp_path), "k")
    write_key_file(path, b"\x01" * 32)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with pytest.raises(FileExistsError):
        write_key_file(path, b"\x02" * 32)
    monkeypatch.delenv("PARSL_TURBINE_KEY", raising=False)
    assert read_key(path) == b"\x01" * 32
    monkeypatch.setenv("PARSL_TURBINE_KEY", "ab" * 32)
    assert read_key(path) == b"\xab" * 32


# -- MPI app requests and prefixes -------------------------------------------------------------


def test_resource_specification_forms() -> None:
    assert spec_from_kwargs({}) is None
    assert spec_from_kwargs({"parsl_resource_specification": {"num_ranks": 4}}) == MpiSpec(4, 1)
    spec = spec_from_kwargs({"parsl_resource_specification": {"num_nodes": 2, "ranks_per_node": 3}})
    assert spec == MpiSpec(6, 2) and spec.ranks_per_node == 3


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"num_ranks": 0}, "parsl_resource_specification.num_ranks: must be a positive integer, got 0"),
        ({"num_rank": 2}, "unknown key 'num_rank' for the Turbine executor; did you mean 'num_ranks'?"),
        ({"num_ranks": 5, "num_nodes": 2}, "does not divide evenly"),
        ({"num_ranks": 4, "num_nodes": 2, "ranks_per_node": 3}, "num_ranks (4) is not num_nodes (2) x ranks_per_node (3)"),
        ("4", "must be a dict such as {'num_ranks': 4}, got str"),
    ],
)
def test_bad_resource_specifications_are_named(raw: object, message: str) -> None:
    with pytest.raises(ConfigurationError) as e:
        spec_from_kwargs({"parsl_resource_specification": raw})
    assert message in str(e.value)


def test_a_default_in_the_apps_signature_counts() -> None:
    from parsl.app.app import BashApp, PythonApp

    def py(parsl_resource_specification={"num_ranks": 2}):  # noqa: B006
        return 1

    def sh(parsl_resource_specification={"num_ranks": 3}):  # noqa: B006
        return "true"

    assert requested_spec(PythonApp(py, walltime=5).executable, {}) == MpiSpec(2)
    assert requested_spec(BashApp(sh).executable, {}) == MpiSpec(3)
    assert requested_spec(BashApp(sh).executable, {"parsl_resource_specification": {"num_ranks": 1}}) == MpiSpec(1)
    assert requested_spec(len, {}) is None


def test_launch_prefixes() -> None:
    assert compose_prefix("mpiexec", MpiSpec(4, 2), ["a", "b"]) == "mpiexec -n 4 --host a:2,b:2"
    assert compose_prefix("srun", MpiSpec(4), ["n1"], "--mpi=pmix ") == (
        "srun --overlap --nodes=1 --ntasks=4 --ntasks-per-node=4 --nodelist=n1 --mpi=pmix"
    )
    with pytest.raises(ConfigurationError, match="unknown MPI launcher 'aprun'"):
        compose_prefix("aprun", MpiSpec(2), ["n"])


def test_app_environment_drops_the_blocks_own_runtime_variables() -> None:
    base = {"PATH": "/bin", "OMPI_COMM_WORLD_RANK": "3", "PMIX_RANK": "3", "OMPI_MCA_btl": "self,tcp", "OMPI_ALLOW_RUN_AS_ROOT": "1", "SLURM_JOB_ID": "7", "SLURM_STEP_ID": "0", "SLURM_PROCID": "2"}
    env = app_environment(base, "mpiexec", MpiSpec(2), ["h"])
    assert env["PARSL_MPI_PREFIX"] == "mpiexec -n 2 --host h:2" and env["PARSL_NUM_RANKS"] == "2" and env["PARSL_MPI_NODELIST"] == "h"
    assert {"PATH", "OMPI_MCA_btl", "OMPI_ALLOW_RUN_AS_ROOT", "SLURM_JOB_ID"} <= set(env)
    assert not {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "SLURM_STEP_ID", "SLURM_PROCID"} & set(env)


def test_launch_environment_lines() -> None:
    from parsl_executors.swift_t.launch import launch_environment

    local = launch_environment("mpiexec", oversubscribe=True)
    assert "export OMPI_MCA_orte_enable_recovery=1\n" in local and "oversubscribe=1" in local
    assert "export HWLOC_COMPONENTS=${HWLOC_COMPONENTS:--gl}\n" in local  # no 30 s X-display probe
    assert ("OMPI_ALLOW_RUN_AS_ROOT=1" in local) == (os.geteuid() == 0)
    assert "SLURM_MPI_TYPE=${SLURM_MPI_TYPE:-pmix}" in launch_environment("srun")
    assert "oversubscribe" not in launch_environment("srun")


# -- runner and the 0.5.0 path -----------------------------------------------------------------


def _double(x: int) -> int:
    return 2 * x


def test_runner_follows_the_documented_messages() -> None:
    import cloudpickle

    from parsl_executors.swift_t import runner

    inq: queue.Queue[object] = queue.Queue()
    outq: queue.Queue[object] = queue.Queue()
    t = threading.Thread(target=runner, args=(inq, outq))
    t.start()
    inq.put({"task_id": "a", "buffer": cloudpickle.dumps((_double, (21,), {}))})
    inq.put({"task_id": "b", "buffer": cloudpickle.dumps((_double, (), {"y": 1}))})
    inq.put(None)
    t.join(10)
    ok, bad, end = outq.get(), outq.get(), outq.get()
    assert ok == {"task_id": "a", "result": pickle.dumps(42, protocol=pickle.HIGHEST_PROTOCOL)}
    assert set(bad) == {"task_id", "exception"} and isinstance(pickle.loads(bad["exception"]).get_exception(), TypeError)
    assert end is None


def test_the_050_path_resolves_without_importing_mpi4py() -> None:
    code = (
        "import sys\n"
        "from parsl.executors.swift_t import TurbineExecutor, runner\n"
        "import parsl_executors.swift_t as m\n"
        "assert TurbineExecutor is m.TurbineExecutor and runner is m.runner\n"
        "assert 'mpi4py' not in sys.modules, 'mpi4py imported'\n"
        "from parsl import plugins\n"
        "assert plugins.get('executor', 'swift_t') is TurbineExecutor\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_a_block_needs_two_ranks_and_apps_must_fit() -> None:
    from parsl.interfaces import BlockShape
    from parsl_executors.swift_t import TurbineExecutor

    with pytest.raises(ConfigurationError, match="taskBlocks: a Turbine block needs at least 2 MPI ranks"):
        TurbineExecutor(shape=BlockShape(tasks_per_node=1))
    ex = TurbineExecutor(shape=BlockShape(tasks_per_node=4))
    with pytest.raises(ConfigurationError, match="asks for 5 ranks, but a block of executor 'swift_t' has 4"):
        ex._check_fits(5, 1)


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_max_block_failures_defaults_to_3_and_must_be_a_positive_integer(bad: object) -> None:
    from parsl_executors.swift_t import TurbineExecutor

    assert TurbineExecutor().policy.max_block_failures == 3
    assert TurbineExecutor(max_block_failures=1).block_failures.limit == 1
    with pytest.raises(ConfigurationError, match=f"max_block_failures: must be a positive integer, got {bad!r}"):
        TurbineExecutor(max_block_failures=bad)  # type: ignore[arg-type]


def test_without_mpi4py_the_path_imports_and_start_names_the_extra(tmp_path: os.PathLike[str]) -> None:
    code = (
        "import sys\n"
        "sys.modules['mpi4py'] = None\n"
        "from parsl.executors.swift_t import TurbineExecutor\n"
        "from parsl.interfaces import ExecutorContext\n"
        "ex = TurbineExecutor()\n"
        "try:\n"
        f"    ex.start(ExecutorContext('r', {str(tmp_path)!r}))\n"
        "except ImportError as e:\n"
        "    print('ImportError:', e)\n"
        "ex.shutdown()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (
        "ImportError: the swift_t (Turbine) executor needs the module 'mpi4py', which is not installed; "
        "install it with: pip install 'parsl-executors[mpi]'"
    ), r.stdout


def test_a_050_site_builds_a_local_mpiexec_block_of_task_blocks_ranks() -> None:
    pytest.importorskip("libsubmit")
    from parsl_executors.swift_t import TurbineExecutor

    site = {"site": "mpi", "execution": {"executor": "swift_t", "provider": "local", "block": {"taskBlocks": 3, "maxBlocks": 2}}}
    ex = TurbineExecutor(config=site)
    assert (ex.label, ex.ranks_per_block, ex.policy.max_blocks, ex.policy.tasks_per_block) == ("mpi", 3, 2, 2)
    script = ex.execution_provider.script_text("RANK")  # type: ignore[union-attr]
    assert "export OMPI_MCA_orte_enable_recovery=1\nexport OMPI_MCA_rmaps_base_oversubscribe=1\n" in script
    assert "TASKS_PER_NODE=$(( 3 ))" in script and "mpiexec -n $WORKERCOUNT bash -c RANK" in script


def test_unknown_executor_options_in_a_dict_config_are_named() -> None:
    pytest.importorskip("libsubmit")
    from parsl.config_dict import config_from_dict

    cfg = {"sites": [{"site": "mpi", "execution": {"executor": "swift_t", "provider": "local", "options": {"adress": "10.0.0.1"}}}]}
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.options\.adress: unknown key 'adress' for the swift_t executor; did you mean 'address'\?"):
        config_from_dict(cfg)
    cfg["sites"][0]["execution"]["options"] = {"port": "5"}  # type: ignore[index]
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.options\.port: expected int, got '5'"):
        config_from_dict(cfg)


def test_apps_that_can_never_fit_the_blocks_nodes_are_taken_out() -> None:
    s = _block(3)  # 4 slots, all on n1
    s.submit("two-nodes", None, num_ranks=2, num_nodes=2)
    s.submit("fits", None, num_ranks=4)
    assert [w.task_id for w in s.drop_impossible()] == ["two-nodes"]
    assert [a.task_id for a in s.assignments()] == ["fits"]
