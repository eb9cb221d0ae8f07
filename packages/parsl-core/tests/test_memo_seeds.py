
"""The caching and checkpointing examples of the 0.5.0 user guide (§3.8-3.9) and of the
advanced-features tutorial (section 3), as written there, with the sleeps shortened and a
counter showing which calls really ran."""
from __future__ import annotations

import copy
import logging
import os
import threading

import pytest

from parsl import *  # noqa: F403  (the seeds' own import)
from parsl import DataFlowKernel
from parsl.app.app import App, app  # `from parsl import app` gives the parsl.app package once it is imported (reported)
from parsl.configs.local import localThreads

RAN: list[object] = []
_lock = threading.Lock()


def _ran(x: object) -> None:
    with _lock:
        RAN.append(x)


@pytest.fixture(autouse=True)
def _reset() -> None:
    RAN.clear()


LOCAL_THREADS = {
    "sites": [
        {
            "site": "Local_Threads",
            "auth": {"channel": None},
            "execution": {"executor": "threads", "provider": None, "maxThreads": 4},
        }
    ]
}


def test_guide_3_8_bash_app_with_cache() -> None:
    dfk = DataFlowKernel(config=copy.deepcopy(localThreads))

    @app("bash", dfk, cache=True)
    def hello(msg, stdout=None):
        _ran(msg)
        return "echo {}".format(msg)

    assert hello("Hello", stdout="hello.out").result() == 0
    assert hello("Hello", stdout="hello.out").result() == 0
    assert open("hello.out").read() == "Hello\n"
    assert RAN == ["Hello"]  # the second call did not even build the command
    dfk.cleanup()


def test_guide_3_8_2_appcache_false_disables_caching() -> None:
    config = copy.deepcopy(LOCAL_THREADS)
    config["globals"] = {"appCache": False}  # <-- Disable AppCaching globally
    dfk = DataFlowKernel(config=config)

    @App("python", dfk, cache=True)
    def f(x):
        _ran(x)
        return x

    f(1).result()
    f(1).result()
    assert RAN == [1, 1]
    dfk.cleanup()


def test_guide_3_9_1_manual_checkpoint_returns_the_checkpoint_dir() -> None:
    dfk = DataFlowKernel(config=copy.deepcopy(localThreads))

    @app("python", dfk, cache=True)
    def slow_double(x, sleep_dur=0.05):
        import time

        time.sleep(sleep_dur)
        return x * 2

    N = 5  # Number of calls to slow_double
    d = []  # List to store the futures
    for i in range(0, N):
        d.append(slow_double(i))

    # Wait for the results
    assert [i.result() for i in d] == [0, 2, 4, 6, 8]

    cpt_dir = dfk.checkpoint()
    assert cpt_dir == os.path.join(dfk.run_dir, "checkpoint")
    assert sorted(os.listdir(cpt_dir)) == ["dfk.pkl", "tasks.pkl"]
    dfk.cleanup()


def test_guide_3_9_2_loading_the_most_recent_checkpoint() -> None:
    config = copy.deepcopy(localThreads)
    dfk = DataFlowKernel(config=config)

    @app("python", dfk, cache=True)
    def slow_double(x):
        _ran(x)
        return x * 2

    assert [slow_double(i).result() for i in range(5)] == [0, 2, 4, 6, 8]
    dfk.checkpoint()
    dfk.cleanup()

    last_runid = sorted(os.listdir("runinfo/"))[-1]
    last_checkpoint = os.path.abspath("runinfo/{0}/checkpoint".format(last_runid))

    dfk = DataFlowKernel(config=config, checkpointFiles=[last_checkpoint])
    assert [slow_double(i).result() for i in range(6)] == [0, 2, 4, 6, 8, 10]
    assert sorted(RAN) == [0, 1, 2, 3, 4, 5]  # only the new call (5) ran in the second run
    dfk.cleanup()


@pytest.mark.parametrize("mode", ["task_exit", "dfk_exit", "periodic"])
def test_guide_3_9_modes_in_globals(mode: str) -> None:
    config = copy.deepcopy(LOCAL_THREADS)
    config["globals"] = {"lazyErrors": True, "memoize": True, "checkpointMode": mode}
    if mode == "periodic":
        config["globals"]["checkpointPeriod"] = "01:00:00"
    dfk = DataFlowKernel(config=config)

    @App("python", dfk, cache=True)
    def f(x):
        return x + 1

    assert [f(i).result() for i in range(3)] == [1, 2, 3]
    dfk.cleanup()
    dfk2 = DataFlowKernel(config=config, checkpointFiles=[dfk.run_dir])
    assert len(dfk2.memoizer) == 3  # type: ignore[arg-type]
    dfk2.cleanup()


def test_tutorial_app_caching_cell() -> None:
    local_threads = copy.deepcopy(LOCAL_THREADS)
    dfk = DataFlowKernel(config=local_threads)

    @App("python", dfk, cache=True)
    def slow_message(message):
        import time

        time.sleep(0.3)
        _ran(message)
        return message

    first = slow_message("Hello World")
    assert first.result() == "Hello World"
    second = slow_message("Hello World")
    assert second.result() == "Hello World"
    # "the second call returns immediately": it never ran, its result came from the memo table
    assert RAN == ["Hello World"]
    assert (first.task_status(), second.task_status()) == ("exec_done", "memo_done")
    third = slow_message("Hello World!")
    assert third.result() == "Hello World!"
    assert RAN == ["Hello World", "Hello World!"]
    dfk.cleanup()


def test_tutorial_checkpoint_and_restart_cells(caplog: pytest.LogCaptureFixture) -> None:
    local_threads = copy.deepcopy(LOCAL_THREADS)
    local_threads["globals"] = {"lazyErrors": True, "memoize": True, "checkpointMode": "task_exit"}

    dfk = DataFlowKernel(config=local_threads)

    @App("python", dfk, cache=True)
    def slow_double(x):
        import time

        time.sleep(0.05)
        _ran(x)
        return x * 2

    d = []
    for i in range(5):
        d.append(slow_double(i))

    # wait for results
    assert [d[i].result() for i in range(5)] == [0, 2, 4, 6, 8]
    dfk.cleanup()
    assert sorted(RAN) == [0, 1, 2, 3, 4]

    last_runid = sorted(os.listdir("runinfo/"))[-1]
    last_checkpoint = os.path.abspath("runinfo/{0}/checkpoint".format(last_runid))

    caplog.set_level(logging.INFO, "parsl")
    dfk = DataFlowKernel(config=local_threads, checkpointFiles=[last_checkpoint])

    # Rerun the same workflow: slow_double was decorated for the previous (cleaned-up)
    # kernel, so it runs on this one, and every result comes from the checkpoint
    d = []
    for i in range(5):
        d.append(slow_double(i))

    assert [d[i].result() for i in range(5)] == [0, 2, 4, 6, 8]
    assert sorted(RAN) == [0, 1, 2, 3, 4]
    assert any("loaded 5 checkpoint records" in r.getMessage() for r in caplog.records)
    dfk.cleanup()
