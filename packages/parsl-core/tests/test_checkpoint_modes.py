"""Checkpointing modes, loading, file modes and the run-dir helpers, with real files."""
from __future__ import annotations

import logging
import os
import stat
import threading
import time

import pytest

import parsl
from parsl import python_app
from parsl.dataflow import checkpoint_store
from parsl.dataflow.checkpoint_store import BadCheckpoint, UnsafeCheckpoint
from parsl.utils import get_all_checkpoints, get_last_checkpoint

RAN: list[int] = []
_lock = threading.Lock()


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


@python_app(cache=True)
def square(x):
    with _lock:
        RAN.append(x)
    return x * x


@python_app(cache=True)
def stamp(x):
    return time.time_ns()


def _load(mode: str | None = None, files: list[str] | tuple[str, ...] = (), **kw: object) -> parsl.DataFlowKernel:
    return parsl.load(
        parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=4)], checkpoint_mode=mode, checkpoint_files=files, **kw)  # type: ignore[arg-type]
    )


def _records(run_dir: str) -> list[checkpoint_store.Entry]:
    d = os.path.join(run_dir, "checkpoint")
    return [e for f in checkpoint_store.tasks_files(d) for e in checkpoint_store.read_file(f)] if os.path.isdir(d) else []


def test_task_exit_writes_each_result_before_its_future_completes() -> None:
    dfk = _load("task_exit")
    for i in range(20):
        square(i).result()
        assert len(_records(dfk.run_dir)) == i + 1
    dfk.cleanup()
    assert len(_records(dfk.run_dir)) == 20


@pytest.mark.parametrize("mode", [None, "manual"])
def test_manual_checkpoints_are_incremental_and_only_on_request(mode: str | None) -> None:
    dfk = _load(mode)
    [square(i).result() for i in range(3)]
    assert not os.path.exists(os.path.join(dfk.run_dir, "checkpoint"))
    assert dfk.checkpoint() == os.path.join(dfk.run_dir, "checkpoint")
    assert len(_records(dfk.run_dir)) == 3
    assert dfk.checkpoint() is not None  # nothing new: nothing written
    assert len(_records(dfk.run_dir)) == 3
    [square(i).result() for i in range(5)]  # 3 hits, 2 new
    dfk.checkpoint()
    assert sorted(e.value() for e in _records(dfk.run_dir)) == [0, 1, 4, 9, 16]
    square(7).result()
    dfk.cleanup()  # no checkpoint at exit in manual mode
    assert len(_records(dfk.run_dir)) == 5


def test_dfk_exit_writes_at_cleanup() -> None:
    dfk = _load("dfk_exit")
    [square(i).result() for i in range(4)]
    assert _records(dfk.run_dir) == []
    dfk.cleanup()
    assert len(_records(dfk.run_dir)) == 4


def test_periodic_checkpoints_on_its_own_thread_and_stops_at_cleanup(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parsl")
    dfk = _load("periodic", checkpoint_period="00:00:01")

    @python_app(cache=True)
    def slow(x):
        time.sleep(0.5)
        return x

    futs = [slow(i) for i in range(4)]
    [f.result() for f in futs]
    deadline = time.monotonic() + 5
    while len(_records(dfk.run_dir)) < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(_records(dfk.run_dir)) == 4  # written by the timer, not by cleanup
    assert any(t.name == "parsl-checkpoint" for t in threading.enumerate())
    dfk.cleanup()
    assert not any(t.name == "parsl-checkpoint" for t in threading.enumerate())
    lines = [r for r in caplog.records if r.getMessage().startswith("checkpointed ")]
    assert len(lines) >= 2


def test_file_and_directory_modes() -> None:
    old = os.umask(0)
    try:
        dfk = _load("task_exit")
        square(1).result()
        dfk.cleanup()
    finally:
        os.umask(old)
    d = os.path.join(dfk.run_dir, "checkpoint")
    assert stat.S_IMODE(os.stat(dfk.run_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(d, "tasks.pkl")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(d, "dfk.pkl")).st_mode) == 0o600
    assert sorted(os.listdir(d)) == ["dfk.pkl", "tasks.pkl"]  # no temporary file left behind


def test_load_from_run_dir_checkpoint_dir_or_file() -> None:
    dfk = _load("task_exit")
    [square(i).result() for i in range(3)]
    dfk.cleanup()
    d = os.path.join(dfk.run_dir, "checkpoint")
    for path in (dfk.run_dir, d, os.path.join(d, "tasks.pkl")):
        RAN.clear()
        k = _load(None, [path])
        assert [square(i).result() for i in range(3)] == [0, 1, 4]
        assert RAN == []
        k.cleanup()


def test_several_checkpoints_at_once_and_the_newest_entry_wins() -> None:
    a = _load("task_exit")
    va = stamp(1).result()
    square(1).result()
    a.cleanup()
    b = _load("task_exit")
    vb = stamp(1).result()  # a new run without the old checkpoint: a new value
    square(2).result()
    b.cleanup()
    assert vb > va
    for order in ([a.run_dir, b.run_dir], [b.run_dir, a.run_dir]):
        RAN.clear()
        k = _load(None, order)
        assert stamp(1).result() == vb
        assert square(1).result() == 1 and square(2).result() == 4
        assert RAN == []
        k.cleanup()


def test_typed_config_and_dfk_keyword_and_runtime_load() -> None:
    first = _load("task_exit")
    square(3).result()
    first.cleanup()
    dfk = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=2)], checkpointFiles=[first.run_dir])
    assert square(3).result() == 9 and RAN == [3]
    dfk.cleanup()
    k = _load()
    loaded = k.load_checkpoints([first.run_dir])
    assert len(loaded) == 1
    assert square(3).result() == 9 and RAN == [3]


def test_failed_tasks_are_not_checkpointed() -> None:
    @python_app(cache=True)
    def fails(x):
        with _lock:
            RAN.append(x)
        raise ValueError(f"bad {x}")

    dfk = _load("task_exit")
    with pytest.raises(ValueError):
        fails(1).result()
    dfk.cleanup()
    assert _records(dfk.run_dir) == []
    k = _load(None, [dfk.run_dir])
    with pytest.raises(ValueError):
        fails(1).result()
    assert RAN == [1, 1]
    k.cleanup()


def test_a_missing_or_foreign_path_is_a_clear_error() -> None:
    with pytest.raises(BadCheckpoint, match="does not exist"):
        _load(None, ["no/such/run"])
    with open("tasks.pkl", "wb") as f:
        f.write(b"\x80\x04K\x01.")  # a pickle, not our format
    os.chmod("tasks.pkl", 0o600)
    with pytest.raises(BadCheckpoint, match="not a parsl checkpoint"):
        _load(None, ["tasks.pkl"])


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_a_checkpoint_others_can_write_is_refused(mode: int) -> None:
    dfk = _load("task_exit")
    square(1).result()
    dfk.cleanup()
    path = os.path.join(dfk.run_dir, "checkpoint", "tasks.pkl")
    os.chmod(path, mode)
    with pytest.raises(UnsafeCheckpoint, match="other users can write to it") as ei:
        _load(None, [dfk.run_dir])
    assert path in str(ei.value) and "chmod go-w" in str(ei.value)


def test_two_kernels_sharing_a_run_dir_write_separate_files() -> None:
    a = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=2)], rundir="shared", checkpointMode="task_exit")
    b = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=2)], rundir="shared", checkpointMode="task_exit")
    square(1).result()  # runs on the newest kernel, b
    a.cleanup()
    b.cleanup()
    d = os.path.join("shared", "checkpoint")
    assert sorted(os.listdir(d)) == ["dfk.pkl", "tasks.1.pkl", "tasks.pkl"]
    assert len(_records("shared")) == 1


def test_results_used_from_a_checkpoint_are_carried_into_the_new_one() -> None:
    """So the newest checkpoint alone is enough to resume: run 3 loads only run 2's."""
    r1 = _load("task_exit")
    [square(i).result() for i in range(3)]
    r1.cleanup()
    r2 = _load("task_exit", get_last_checkpoint())
    [square(i).result() for i in range(5)]
    r2.cleanup()
    assert get_last_checkpoint() == [os.path.join(r2.run_dir, "checkpoint")]
    r3 = _load(None, get_last_checkpoint())
    RAN.clear()
    assert [square(i).result() for i in range(5)] == [0, 1, 4, 9, 16]
    assert RAN == []
    r3.cleanup()


def test_unpicklable_results_stay_cached_in_memory_only(caplog: pytest.LogCaptureFixture) -> None:
    @python_app(cache=True)
    def make_lock(x):
        with _lock:
            RAN.append(x)
        return threading.Lock()

    dfk = _load("task_exit")
    first = make_lock(1).result()
    assert make_lock(1).result() is first
    assert RAN == [1]
    dfk.cleanup()
    assert _records(dfk.run_dir) == []
    assert any("cannot be pickled" in r.getMessage() for r in caplog.records)


def test_get_last_checkpoint_orders_runs_numerically_and_skips_strays() -> None:
    assert get_last_checkpoint() == []
    for n in ("999", "1000", "001"):
        os.makedirs(os.path.join("runinfo", n))
        d = os.path.join("runinfo", n, "checkpoint")
        checkpoint_store.CheckpointWriter(d).open()
    os.makedirs(os.path.join("runinfo", "1001"))  # a run without a checkpoint
    open(os.path.join("runinfo", "X"), "w").close()
    assert get_last_checkpoint() == [os.path.abspath("runinfo/1000/checkpoint")]
    assert get_all_checkpoints() == [os.path.abspath(f"runinfo/{n}/checkpoint") for n in ("001", "999", "1000")]


@pytest.mark.parametrize("pause", [0.0, 0.2])
def test_cleanup_right_after_submitting_checkpoints_everything(pause: float) -> None:
    dfk = _load("task_exit")

    @python_app(cache=True)
    def slowish(x):
        time.sleep(0.1)
        return x

    futs = [slowish(i) for i in range(5)]
    time.sleep(pause)
    dfk.cleanup()
    assert all(f.done() for f in futs)
    assert sorted(e.value() for e in _records(dfk.run_dir)) == [0, 1, 2, 3, 4]


def test_checkpoint_files_in_a_dict_config() -> None:
    first = _load("task_exit")
    square(2).result()
    first.cleanup()
    config = {
        "sites": [{"site": "t", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 2}}],
        "globals": {"checkpointFiles": [first.run_dir]},
    }
    dfk = parsl.DataFlowKernel(config=config)
    assert square(2).result() == 4 and RAN == [2]
    dfk.cleanup()


def test_a_refused_checkpoint_leaves_no_thread_and_no_log_handler() -> None:
    handlers = list(logging.getLogger("parsl").handlers)
    threads = {t.name for t in threading.enumerate()}
    with pytest.raises(BadCheckpoint):
        _load("periodic", ["missing"], checkpoint_period="00:00:01")
    assert logging.getLogger("parsl").handlers == handlers
    assert {t.name for t in threading.enumerate()} <= threads


def test_manual_checkpoint_after_cleanup_writes_what_is_left() -> None:
    dfk = _load(None)
    square(1).result()
    dfk.checkpoint()
    square(2).result()
    dfk.cleanup()
    assert dfk.checkpoint() == os.path.join(dfk.run_dir, "checkpoint")
    assert sorted(os.listdir(os.path.join(dfk.run_dir, "checkpoint"))) == ["dfk.pkl", "tasks.1.pkl", "tasks.pkl"]
    assert sorted(e.value() for e in _records(dfk.run_dir)) == [1, 4]
    dfk.checkpoint()  # nothing left: no new file
    assert len(os.listdir(os.path.join(dfk.run_dir, "checkpoint"))) == 3


def test_a_symlinked_checkpoint_loads(tmp_path: os.PathLike[str]) -> None:
    dfk = _load("task_exit")
    square(5).result()
    dfk.cleanup()
    link = os.path.join(tmp_path, "latest")
    os.symlink(os.path.join(dfk.run_dir, "checkpoint", "tasks.pkl"), link)
    RAN.clear()
    k = _load(None, [link])
    assert square(5).result() == 25 and RAN == []
    k.cleanup()


def test_a_manual_checkpoint_with_nothing_to_write_still_makes_a_loadable_checkpoint() -> None:
    dfk = _load(None)
    d = dfk.checkpoint()
    assert d is not None and sorted(os.listdir(d)) == ["dfk.pkl", "tasks.pkl"]
    dfk.cleanup()
    k = _load(None, [d])
    k.cleanup()


def test_a_failed_checkpoint_keeps_its_results_for_the_next_one(tmp_path: os.PathLike[str]) -> None:
    import resource
    import signal

    dfk = _load(None)
    d = dfk.checkpoint()  # the file exists, 1 MiB preallocated
    assert d is not None
    big = "x" * (3 << 20)

    @python_app(cache=True)
    def large(x):
        return big

    large(1).result()
    square(2).result()
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2 << 20, old_limit[1]))
    try:
        with pytest.raises(OSError):
            dfk.checkpoint()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert dfk.checkpoint() == d
    dfk.cleanup()
    assert sorted(type(e.value()).__name__ for e in _records(dfk.run_dir)) == ["int", "str"]


def test_many_simultaneous_hits_on_a_loaded_result_copy_it_once() -> None:
    first = _load("task_exit")
    square(9).result()
    first.cleanup()
    RAN.clear()
    dfk = _load("task_exit", [first.run_dir])
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Barrier(8)

    def submit_many(_: int) -> list[int]:
        start.wait()
        return [square(9).result() for _ in range(25)]

    with ThreadPoolExecutor(8) as pool:  # lookups from 8 threads at once
        results = [r for batch in pool.map(submit_many, range(8)) for r in batch]
    assert len(results) == 200 and set(results) == {81}
    assert RAN == []
    dfk.cleanup()
    assert [e.value() for e in _records(dfk.run_dir)] == [81]


def test_one_memoizer_instance_serves_kernels_one_after_another() -> None:
    from parsl.dataflow.memoization import CheckpointMemoizer

    m = CheckpointMemoizer(mode="task_exit")
    a = _load(memoizer=m)
    square(1).result()
    with pytest.raises(RuntimeError, match="in use by a live DataFlowKernel"):
        parsl.DataFlowKernel(config=parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=1)], memoizer=m))
    a.cleanup()
    b = _load(memoizer=m)
    square(1).result()  # still cached in memory
    square(2).result()
    b.cleanup()
    assert RAN == [1, 2]
    assert [e.value() for e in _records(a.run_dir)] == [1]
    assert [e.value() for e in _records(b.run_dir)] == [4]
