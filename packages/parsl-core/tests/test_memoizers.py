"""The memoizers as the kernel uses them: which calls they remember (results and failures, of
cached apps only), their constructor keywords, the run record and the carried results of
every checkpoint mode, with a real kernel and real files."""
from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import textwrap
import threading
from typing import Any

import pytest

import parsl
from parsl import python_app
from parsl.dataflow import checkpoint_store
from parsl.dataflow.memoization import BasicMemoizer, InMemoryMemoizer
from parsl.utils import get_last_checkpoint

RAN: list[object] = []
_lock = threading.Lock()


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


def _ran(x: object) -> None:
    with _lock:
        RAN.append(x)


def _double(x):
    _ran(x)
    return 2 * x


def _fail(x):
    _ran(-x)
    raise ValueError(f"bad {x}")


cached_double, plain_double = python_app(cache=True)(_double), python_app(_double)
cached_fail, plain_fail = python_app(cache=True)(_fail), python_app(_fail)


@python_app(cache=True)
def square(x):
    _ran(x)
    return x * x


def _load(memoizer: Any = None, **kw: Any) -> parsl.DataFlowKernel:
    return parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], memoizer=memoizer, **kw))


def _records(run_dir: str) -> list[checkpoint_store.Entry]:
    d = os.path.join(run_dir, "checkpoint")
    return [e for f in checkpoint_store.tasks_files(d) for e in checkpoint_store.read_file(f)] if os.path.isdir(d) else []


def _task_count(run_dir: str) -> int:
    with open(os.path.join(run_dir, "checkpoint", "dfk.pkl"), "rb") as f:
        return pickle.load(f)["task_count"]


@pytest.mark.parametrize("make", [InMemoryMemoizer, BasicMemoizer], ids=["in_memory", "basic"])
def test_only_cached_apps_are_remembered_results_and_failures_alike(make: type) -> None:
    """The same function as a cached and as an uncached app: the uncached calls neither hit
    nor leave anything for the cached ones."""
    with _load(make()):
        assert plain_double(1).result() == 2
        assert cached_double(1).result() == 2  # the plain call left nothing behind
        assert cached_double(1).result() == 2  # a hit
        assert plain_double(1).result() == 2  # the plain app never hits
        assert RAN == [1, 1, 1]
        RAN.clear()
        with pytest.raises(ValueError):
            plain_fail(3).result()
        with pytest.raises(ValueError) as first:
            cached_fail(3).result()
        with pytest.raises(ValueError) as again:
            cached_fail(3).result()
        assert again.value is first.value
        with pytest.raises(ValueError):
            plain_fail(3).result()
        assert RAN == [-3, -3, -3]


@pytest.mark.parametrize("make", [lambda: InMemoryMemoizer(enabled=False), lambda: BasicMemoizer(enabled=False)], ids=["in_memory", "basic"])
def test_a_disabled_memoizer_remembers_nothing(make: Any) -> None:
    memoizer = make()
    with _load(memoizer):
        cached_double(1).result()
        cached_double(1).result()
        with pytest.raises(ValueError):
            cached_fail(1).result()
        with pytest.raises(ValueError):
            cached_fail(1).result()
    assert RAN == [1, 1, -1, -1]
    assert len(memoizer) == 0  # nothing was even stored


def test_the_basic_memoizers_keywords() -> None:
    assert BasicMemoizer(checkpoint_mode="periodic").period == 30 * 60.0  # upstream's default period
    assert BasicMemoizer(checkpoint_mode="periodic", checkpoint_period="00:00:05").period == 5.0
    for period in (None, 0, -1.0):  # the positional form has no default period
        with pytest.raises(ValueError, match="positive period"):
            BasicMemoizer(mode="periodic", period=period)
    with pytest.raises(ValueError, match="checkpoint mode must be one of"):
        BasicMemoizer(checkpoint_mode="at_noon")
    m = BasicMemoizer(memoize=False, checkpoint_mode="task_exit")
    assert not m.enabled and m.mode == "task_exit"


def test_a_memoizer_not_yet_started_has_no_checkpoint_to_write() -> None:
    assert BasicMemoizer(mode="task_exit").checkpoint() is None


def test_only_upstreams_keywords_reuse_every_earlier_run() -> None:
    """``BasicMemoizer(checkpoint_mode=...)`` without files loads runinfo's checkpoints; a
    Config's checkpoint_mode (0.5.0's meaning) or no mode at all does not."""
    with _load(checkpoint_mode="task_exit"):
        square(2).result()
    with _load(checkpoint_mode="task_exit"):
        square(2).result()
    with _load():
        square(2).result()
    assert RAN == [2, 2, 2]
    with _load(BasicMemoizer(checkpoint_mode="dfk_exit")):
        square(2).result()
    with _load(BasicMemoizer(checkpoint_mode="task_exit", checkpoint_files=[])):
        square(2).result()  # files given (none): nothing earlier is loaded
    assert RAN == [2, 2, 2, 2]


def test_caching_off_with_a_checkpoint_mode_says_that_nothing_is_checkpointed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "parsl")
    with _load(app_cache=False):
        pass
    assert not [r for r in caplog.records if "neither loaded nor written" in r.getMessage()]
    with _load(app_cache=False, checkpoint_mode="task_exit"):
        pass
    assert len([r for r in caplog.records if "neither loaded nor written" in r.getMessage()]) == 1
    with _load(app_cache=False) as dfk:
        assert dfk.load_checkpoints(["anything"]) == {}
    assert any("not loaded" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("mode", ["task_exit", "periodic", "dfk_exit"])
def test_the_run_record_exists_from_the_start_and_counts_the_results(mode: str) -> None:
    """0.5.0's ``checkpoint/dfk.pkl``: there while the run goes (a killed driver leaves one),
    its task_count the number of results in the run's checkpoint at the end."""
    first = _load(checkpoint_mode="task_exit")
    square(1).result()
    first.cleanup()
    RAN.clear()
    dfk = _load(checkpoint_mode=mode, checkpoint_period="01:00:00", checkpoint_files=[first.run_dir])
    assert _task_count(dfk.run_dir) == 0
    assert [square(i).result() for i in range(4)] == [0, 1, 4, 9]  # one carried from the first run
    assert RAN == [0, 2, 3]
    dfk.cleanup()
    assert _task_count(dfk.run_dir) == 4
    assert sorted(e.value() for e in _records(dfk.run_dir)) == [0, 1, 4, 9]


@pytest.mark.parametrize("mode", ["manual", "dfk_exit", "periodic"])
def test_results_used_from_a_checkpoint_are_carried_in_every_mode(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parsl")
    r1 = _load(checkpoint_mode="task_exit")
    [square(i).result() for i in range(3)]
    r1.cleanup()
    r2 = _load(checkpoint_mode=mode, checkpoint_period="01:00:00", checkpoint_files=get_last_checkpoint())
    [square(i).result() for i in range(5)]
    r2.checkpoint()
    r2.cleanup()
    assert any(r.getMessage().startswith("checkpointed 5 results") for r in caplog.records)
    RAN.clear()
    r3 = _load(checkpoint_files=[r2.run_dir])
    assert [square(i).result() for i in range(5)] == [0, 1, 4, 9, 16]
    assert RAN == []
    r3.cleanup()


def test_results_computed_in_the_run_are_not_replaced_by_loading_a_checkpoint() -> None:
    @python_app(cache=True)
    def stamp(x):
        _ran(x)
        return len(RAN)

    older = _load(checkpoint_mode="task_exit")
    assert stamp(1).result() == 1
    older.cleanup()
    newer = _load(checkpoint_mode="task_exit")
    assert stamp(1).result() == 2
    newer.cleanup()
    dfk = _load()
    dfk.load_checkpoints([newer.run_dir])
    dfk.load_checkpoints([older.run_dir])  # an older record loaded later does not win
    assert stamp(1).result() == 2
    dfk.cleanup()
    dfk = _load()
    dfk.load_checkpoints([older.run_dir])
    dfk.load_checkpoints([newer.run_dir])  # a newer one does
    assert stamp(1).result() == 2
    dfk.load_checkpoints([older.run_dir])  # a result in use is not replaced by a loaded one
    assert stamp(1).result() == 2
    assert RAN == [1, 1]
    dfk.cleanup()


def test_unpicklable_results_are_reported_once_per_app_in_every_mode(caplog: pytest.LogCaptureFixture) -> None:
    @python_app(cache=True)
    def make_lock(x):
        return threading.Lock()

    for mode in ("task_exit", "dfk_exit"):
        caplog.clear()
        with _load(checkpoint_mode=mode) as dfk:
            make_lock(1).result()
            make_lock(2).result()
        assert _records(dfk.run_dir) == []
        assert len([r for r in caplog.records if "cannot be pickled" in r.getMessage()]) == 1, mode


def test_a_manual_checkpoint_after_cleanup_closes_its_file() -> None:
    dfk = _load()
    square(1).result()
    dfk.cleanup()
    d = dfk.checkpoint()
    assert d == os.path.join(dfk.run_dir, "checkpoint")
    assert dfk.checkpoint() == d  # nothing left: the directory all the same
    path = os.path.join(d, "tasks.pkl")
    (entry,) = checkpoint_store.read_file(path)
    # closed: the preallocated space past the last record is cut off
    assert os.path.getsize(path) == len(checkpoint_store.MAGIC) + len(entry.frame)


def test_the_periodic_thread_never_keeps_a_driver_alive(tmp_path: os.PathLike[str]) -> None:
    """A driver that never calls cleanup() still exits (cleanup runs at exit)."""
    script = textwrap.dedent(
        """
        import parsl
        from parsl import python_app

        @python_app(cache=True)
        def f(x):
            return x

        parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=1)], checkpoint_mode="periodic", checkpoint_period="00:00:01"))
        print(f(3).result())
        """
    )
    p = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "3\n"
    (run,) = os.listdir(os.path.join(tmp_path, "runinfo"))
    assert [e.value() for e in _records(os.path.join(tmp_path, "runinfo", run))] == [3]


class _Blocking:
    """A result whose pickling (in a checkpoint) waits until it is released."""

    entered = threading.Event()
    release = threading.Event()

    def __reduce__(self) -> tuple[Any, ...]:
        self.entered.set()
        self.release.wait(2)
        return (int, (7,))


def test_cleanup_waits_for_a_periodic_checkpoint_in_progress() -> None:
    """cleanup() during a periodic checkpoint lets it finish: nothing it holds is lost."""
    _Blocking.entered.clear()
    _Blocking.release.clear()
    m = BasicMemoizer(mode="periodic", period=0.05)

    @python_app(cache=True)
    def make(x):
        return _Blocking()

    dfk = _load(m)
    make(1).result()
    assert _Blocking.entered.wait(30)  # the periodic thread is pickling it
    dfk.cleanup()  # the pickling ends when release times out
    assert [e.value() for e in _records(dfk.run_dir)] == [7]


def test_the_050_memoizer_takes_only_the_successful_results_of_its_checkpoint_dict() -> None:
    from concurrent.futures import Future

    from parsl.dataflow.memoization import Memoizer

    ok: Future[Any] = Future()
    ok.set_result("ok")
    failed: Future[Any] = Future()
    failed.set_exception(ValueError("no"))
    pending: Future[Any] = Future()  # never done: must not be waited on
    cancelled: Future[Any] = Future()
    cancelled.cancel()
    (entry,), _ = checkpoint_store.decode_file("x", checkpoint_store.MAGIC + checkpoint_store.encode("e", 1, "from a record"))
    given = {"ok": ok, "failed": failed, "pending": pending, "cancelled": cancelled, "plain": 3, "e": entry}
    memo = Memoizer(None, checkpoint=given)  # memoize defaults to True
    assert {h: memo.hash_lookup(h).result() for h in ("ok", "plain", "e")} == {"ok": "ok", "plain": 3, "e": "from a record"}
    for h in ("failed", "pending", "cancelled"):
        with pytest.raises(KeyError):
            memo.hash_lookup(h)
    off = Memoizer(None, memoize=False, checkpoint={"ok": ok})
    with pytest.raises(KeyError):  # as 0.5.0: with memoize off, the checkpoint is not used
        off.hash_lookup("ok")


_SLOW_ENTERED = threading.Event()
_SLOW_RELEASE = threading.Event()
UNPICKLED: list[int] = []


def _restore_slowly(x: int) -> int:
    UNPICKLED.append(x)
    _SLOW_ENTERED.set()
    _SLOW_RELEASE.wait(30)
    return x


class SlowToLoad:
    """Checkpointed as a call of _restore_slowly: its unpickling waits to be released."""

    def __init__(self, x: int) -> None:
        self.x = x

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore_slowly, (self.x,))


def _inside(thread: threading.Thread, function: str) -> bool:
    frame = sys._current_frames().get(thread.ident)  # type: ignore[arg-type]
    while frame is not None:
        if frame.f_code.co_name == function:
            return True
        frame = frame.f_back
    return False


def test_a_second_call_while_a_loaded_result_is_unpickled_waits_and_hits() -> None:
    """Two identical calls at once on a result loaded from a checkpoint: the first unpickles
    it, the second waits for that and gets the same value; neither runs the task."""
    import time

    @python_app(cache=True)
    def slow_to_load(x):
        _ran(x)
        return SlowToLoad(x)

    first = _load(checkpoint_mode="task_exit")
    slow_to_load(1).result()
    first.cleanup()
    RAN.clear()
    UNPICKLED.clear()
    _SLOW_ENTERED.clear()
    _SLOW_RELEASE.clear()
    dfk = _load(checkpoint_files=[first.run_dir])
    futures: dict[str, Any] = {}
    a = threading.Thread(target=lambda: futures.__setitem__("a", slow_to_load(1)))
    b = threading.Thread(target=lambda: futures.__setitem__("b", slow_to_load(1)))
    a.start()
    assert _SLOW_ENTERED.wait(30)  # a is unpickling the result
    b.start()
    deadline = time.monotonic() + 30
    while not _inside(b, "_first_use"):  # b is waiting for a's unpickling
        assert b.is_alive() and time.monotonic() < deadline
        time.sleep(0.001)
    _SLOW_RELEASE.set()
    a.join(30)
    b.join(30)
    assert futures["a"].result(timeout=30) == futures["b"].result(timeout=30) == 1
    assert RAN == [] and UNPICKLED == [1]
    dfk.cleanup()
