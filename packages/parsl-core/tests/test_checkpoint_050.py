"""Checkpoints where 0.5.0 put them (``runinfo/NNN/checkpoint/{dfk.pkl,tasks.pkl}``), 0.5.0's
own checkpoint directories loading, and the 0.5.0 Memoizer constructor and methods."""
from __future__ import annotations

import os
import pickle
from concurrent.futures import Future

import pytest

from parsl import App, DataFlowKernel, ThreadPoolExecutor
from parsl.dataflow.checkpoint_store import MAGIC
from parsl.dataflow.memoization import Memoizer


def _config(**globals_):
    return {
        "sites": [{"site": "Local_Threads", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 2}}],
        "globals": {"lazyErrors": True, "memoize": True, **globals_},
    }


def _workflow(dfk, calls):
    @App("python", dfk, cache=True)
    def slow_double(x):
        calls.append(x)
        return x * 2

    return [slow_double(i).result(timeout=30) for i in range(3)]


@pytest.mark.parametrize("mode", ["task_exit", "dfk_exit", "manual"])
def test_checkpoint_layout_is_050s(mode):
    dfk = DataFlowKernel(config=_config(checkpointMode=mode))
    calls: list[int] = []
    assert _workflow(dfk, calls) == [0, 2, 4]
    if mode == "manual":
        assert dfk.checkpoint() == os.path.join(dfk.rundir, "checkpoint")
    dfk.cleanup()
    ckpt = os.path.join("runinfo", "000", "checkpoint")
    assert sorted(os.listdir(ckpt)) == ["dfk.pkl", "tasks.pkl"]
    with open(os.path.join(ckpt, "dfk.pkl"), "rb") as f:
        meta = pickle.load(f)
    assert meta["rundir"] == dfk.rundir == os.path.abspath(os.path.join("runinfo", "000"))
    assert meta["task_count"] == 3
    with open(os.path.join(ckpt, "tasks.pkl"), "rb") as f:
        assert f.read(len(MAGIC)) == MAGIC  # the framed, crash-safe format inside


def test_the_tutorials_restart_from_the_last_checkpoint():
    dfk = DataFlowKernel(config=_config(checkpointMode="task_exit"))
    first: list[int] = []
    _workflow(dfk, first)
    dfk.cleanup()
    last_runid = sorted(os.listdir("runinfo/"))[-1]
    last_checkpoint = os.path.abspath(f"runinfo/{last_runid}/checkpoint")
    dfk = DataFlowKernel(config=_config(), checkpointFiles=[last_checkpoint])
    again: list[int] = []
    assert _workflow(dfk, again) == [0, 2, 4]
    assert first == [0, 1, 2] and again == []  # nothing ran a second time
    dfk.cleanup()


def _write_050_checkpoint(d, entries, torn=False):
    os.makedirs(d, mode=0o700)
    with open(os.path.join(d, "dfk.pkl"), "wb") as f:
        pickle.dump({"rundir": os.path.dirname(d), "task_count": len(entries)}, f)
    with open(os.path.join(d, "tasks.pkl"), "wb") as f:
        for e in entries:
            pickle.dump(e, f)
        if torn:
            f.write(pickle.dumps({"hash": "z", "exception": None, "result": 1})[:-5])
    for name in ("dfk.pkl", "tasks.pkl"):
        os.chmod(os.path.join(d, name), 0o600)


@pytest.mark.parametrize("torn", [False, True])
def test_a_checkpoint_dir_written_by_050_loads(tmp_path, torn):
    d = str(tmp_path / "runinfo" / "007" / "checkpoint")
    _write_050_checkpoint(
        d,
        [
            {"hash": "a" * 32, "exception": None, "result": 42},
            {"hash": "b" * 32, "exception": ZeroDivisionError("x"), "result": None},
            {"hash": "c" * 32, "exception": None, "result": [1, 2]},
        ],
        torn=torn,
    )
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(1)], checkpointFiles=[d])
    try:
        assert dfk.memoizer.hash_lookup("a" * 32).result() == 42
        assert dfk.memoizer.hash_lookup("c" * 32).result() == [1, 2]
        with pytest.raises(KeyError):
            dfk.memoizer.hash_lookup("b" * 32)  # a failed task is not a result
        assert set(dfk.load_checkpoints([os.path.dirname(d)])) == {"a" * 32, "c" * 32}
    finally:
        dfk.cleanup()


def test_050_memoizer_constructor_and_methods():
    done: Future = Future()
    done.set_result("old")
    memo = Memoizer(None, memoize=True, checkpoint={"h0": done})
    assert memo.hash_lookup("h0").result() == "old"
    task = {"func_name": "f", "fn_hash": "abc", "args": (1,), "kwargs": {"k": 2}, "memoize": True}
    assert memo.check_memo(7, task) == (False, None)
    h = task["hashsum"]
    assert h == memo.make_hash(task) and isinstance(h, str)
    r: Future = Future()
    r.set_result(99)
    memo.update_memo(7, task, r)
    present, fut = memo.check_memo(8, dict(task))
    assert present and fut.result() == 99 and memo.hash_lookup(h).result() == 99
    with pytest.raises(KeyError):
        memo.hash_lookup("missing")
    off = Memoizer(None, memoize=False)
    assert off.check_memo(1, dict(task)) == (False, None)
    # it is a memoizer the kernel accepts
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(1)], memoizer=memo)
    try:

        @App("python", dfk, cache=True)
        def f(x):
            return x + 1

        assert f(1).result(timeout=30) == 2 and f(1).result(timeout=30) == 2
    finally:
        dfk.cleanup()
