"""The HighThroughputExecutor end to end with libsubmit's Local provider: an upstream-style
typed config and a 0.5.0 dict config run python and bash apps; a worker killed during 10,000
tasks loses nothing; 100 load/run/cleanup cycles leave threads, fds and processes as they were."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import descendants, wait_gone, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("htex_stack")]


def _local(**kw):
    from libsubmit.providers.local.local import Local

    return Local(**{"init_blocks": 1, "min_blocks": 0, "max_blocks": 1, **kw})


def test_upstream_style_typed_config(tmp_path) -> None:
    import parsl
    from parsl import bash_app, python_app
    from parsl.config import Config
    from parsl_executors.htex import HighThroughputExecutor

    config = Config(executors=[HighThroughputExecutor(label="htex_local", max_workers_per_node=2, cores_per_worker=1,
                                                      address="127.0.0.1", provider=_local())], run_dir=str(tmp_path / "runinfo"))

    @python_app
    def double(x):
        return 2 * x

    @bash_app
    def echo(x, stdout=None):
        return f"echo got {x}"

    with parsl.load(config) as dfk:
        ex = dfk.executors["htex_local"]
        assert [double(i).result(timeout=60) for i in range(20)] == [2 * i for i in range(20)]
        assert echo(7, stdout=str(tmp_path / "out.txt")).result(timeout=60) == 0
        assert (tmp_path / "out.txt").read_text().strip() == "got 7"
        started = descendants()
        assert ex.interchange_pid in started and set(ex.worker_pids()) <= started
    assert wait_gone(started) == []


def test_dict_config_htex_site() -> None:
    from parsl import App, DataFlowKernel

    site = {"site": "htex_dict", "auth": {"channel": None}, "execution": {
        "executor": "htex", "provider": "local", "options": {"heartbeat_period": 1},
        "block": {"nodes": 1, "taskBlocks": 3, "initBlocks": 1, "minBlocks": 0, "maxBlocks": 1, "walltime": "00:05:00"}}}
    dfk = DataFlowKernel(config={"sites": [site], "globals": {"lazyErrors": True}})
    ex = dfk.executors["htex_dict"]
    ex.wait_for_workers(3, timeout=60)
    assert len(ex.pools) == 1 and ex.pools[0]["workers"] == 3  # taskBlocks = workers of one pool

    @App("python", dfk)
    def pid():
        import os
        import time

        time.sleep(0.2)
        return os.getpid()

    assert len({f.result(timeout=60) for f in [pid() for _ in range(9)]}) == 3
    dfk.cleanup()


# built in a namespace of its own so that cloudpickle sends it by value (workers cannot
# import this test module)
_ns: dict = {"__name__": "__main__"}
exec("def _square(x, pause=0.0):\n    import time\n    time.sleep(pause)\n    return x * x\n", _ns)
exec(
    "def _square_after_holding(x, marker):\n"
    "    import os, time\n"
    "    if not os.path.exists(marker):  # the first try: name the worker running it, stay busy\n"
    "        with open(marker + '.tmp', 'w') as f:\n"
    "            f.write(str(os.getpid()))\n"
    "        os.rename(marker + '.tmp', marker)\n"
    "        time.sleep(120)\n"
    "    return x * x\n",
    _ns,
)
_square = _ns["_square"]
_square_after_holding = _ns["_square_after_holding"]


def test_a_worker_killed_during_10000_tasks_loses_nothing(tmp_path) -> None:
    import parsl
    from parsl.config import Config
    from parsl_executors.htex import HighThroughputExecutor

    ex = HighThroughputExecutor(label="htex_kill", max_workers_per_node=4, provider=_local())
    with parsl.load(Config(executors=[ex], retries=1, run_dir=str(tmp_path / "runinfo"))):
        ex.wait_for_workers(4, timeout=60)
        app, holder = parsl.python_app(_square), parsl.python_app(_square_after_holding)
        # task 5000 writes its worker's pid and stays busy: the worker killed is provably
        # running a task while the other 9999 flow around it (its retry returns at once)
        marker = str(tmp_path / "holder.pid")
        futs = [app(i, pause=0.001) for i in range(5_000)]
        futs.append(holder(5_000, marker))
        futs += [app(i, pause=0.001) for i in range(5_001, 10_000)]
        assert wait_until(lambda: os.path.exists(marker), 120)
        victim = int(open(marker).read())
        assert victim in ex.worker_pids()
        os.kill(victim, signal.SIGKILL)
        assert [f.result(timeout=300) for f in futs] == [i * i for i in range(10_000)]
        assert ex.tasks_lost >= 1  # the task running on the killed worker (tasks queued behind it were moved)
        assert ex.tasks_submitted - 10_000 == ex.tasks_lost  # each retry is one task the dead worker held
        assert victim not in ex.worker_pids() and len(ex.worker_pids()) == 4


def _counts() -> tuple[int, int, set[int]]:
    return threading.active_count(), len(os.listdir("/proc/self/fd")), descendants()


def test_100_load_run_cleanup_cycles_leak_nothing(tmp_path) -> None:
    import parsl
    from parsl.config import Config
    from parsl_executors.htex import HighThroughputExecutor

    def cycle(i: int) -> None:
        ex = HighThroughputExecutor(label="htex_cycle", max_workers_per_node=1, heartbeat_period=1, provider=_local())
        with parsl.load(Config(executors=[ex], run_dir=str(tmp_path / "runinfo"))):
            assert parsl.python_app(_square)(i).result(timeout=60) == i * i

    cycle(0)  # warm up: imports, atexit hooks, lazily made threads
    threads, fds, children = _counts()
    for i in range(100):
        cycle(i)
    assert wait_until(lambda: descendants() <= children, 30), descendants() - children
    deadline = time.monotonic() + 10
    while _counts()[:2] != (threads, fds) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _counts()[:2] == (threads, fds)
