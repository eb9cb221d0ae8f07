# ruff: noqa: B006  (the tutorial's app code is kept as the tutorial writes it)
"""The advanced-features tutorial's multi-site and elasticity cells, on a real ipcontroller
and real engines started by libsubmit's Local provider (loopback only)."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import descendants, wait_gone

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("ipp_stack")]


MULTI_SITE = {
    "sites": [
        {"site": "Local_Threads", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 4}},
        {
            "site": "Local_IPP",
            "auth": {"channel": "local"},
            "execution": {
                "executor": "ipp",
                "provider": "local",
                "script_dir": ".scripts",
                "scriptDir": ".scripts",
                "block": {"nodes": 1, "taskBlocks": 1, "walltime": "00:05:00", "initBlocks": 1, "minBlocks": 0, "maxBlocks": 1, "scriptDir": "."},
            },
        },
    ],
    "globals": {"lazyErrors": True},
}


def test_multi_site_tutorial_cell() -> None:
    from parsl import App, DataFlowKernel

    dfk = DataFlowKernel(config=MULTI_SITE)

    @App("bash", dfk, sites=["Local_Threads"])
    def generate(outputs=[]):
        return "echo $(( RANDOM )) &> {outputs[0]}"

    @App("bash", dfk, sites=["Local_IPP"])
    def concat(inputs=[], outputs=[], stdout="stdout.txt", stderr="stderr.txt"):
        return "cat {0} > {1}".format(" ".join(inputs), outputs[0])

    @App("python", dfk)
    def total(inputs=[]):
        total = 0
        with open(inputs[0]) as f:
            for line in f:
                total += int(line)
        return total

    @App("python", dfk, sites=["Local_IPP"])
    def where_ipp():
        import os

        return os.getpid()

    @App("python", dfk, sites=["Local_Threads"])
    def where_threads():
        import os

        return os.getpid()

    output_files = [generate(outputs=[f"random-{i}.txt"]) for i in range(5)]
    cc = concat(inputs=[i.outputs[0] for i in output_files], outputs=["all.txt"])
    t = total(inputs=[cc.outputs[0]])
    expected = sum(int(open(f"random-{i}.txt").read()) for i in range(5)) if cc.result(timeout=90) == 0 else None
    assert t.result(timeout=60) == expected
    # pinning: the ipp site runs on an engine, the threads site in this process
    assert where_threads().result(timeout=30) == os.getpid()
    assert where_ipp().result(timeout=60) != os.getpid()
    # unknown sites fail at decoration time, naming the configured ones
    with pytest.raises(Exception, match="Local_IPP"):

        @App("python", dfk, sites=["Nowhere"])
        def lost():
            return 1

    started = descendants()
    dfk.cleanup()
    assert wait_gone(started) == []


def test_multi_site_typed_equivalent(tmp_path) -> None:
    import parsl
    from libsubmit.channels.local.local import LocalChannel
    from libsubmit.providers.local.local import Local
    from parsl import Config, ThreadPoolExecutor, python_app
    from parsl.interfaces import BlockShape
    from parsl_executors import IPyParallelExecutor

    # the block bounds are stated once, on the provider; the executor reads provider.shape
    provider = Local(channel=LocalChannel(scriptDir=str(tmp_path / ".scripts")), tasks_per_node=1, init_blocks=1, min_blocks=0, max_blocks=1, walltime="00:05:00")
    ipp = IPyParallelExecutor(provider, label="Local_IPP")
    assert ipp.shape == BlockShape(tasks_per_node=1, walltime="00:05:00", init_blocks=1, min_blocks=0, max_blocks=1, parallelism=ipp.shape.parallelism)
    cfg = Config(executors=[ThreadPoolExecutor(max_workers=4, label="Local_Threads"), ipp])

    @python_app(executors=["Local_IPP"])
    def remote():
        import os

        return os.getpid()

    with parsl.load(cfg):
        assert remote().result(timeout=60) != os.getpid()
        started = descendants()
    assert wait_gone(started) == []


ELASTIC = {
    "sites": [
        {
            "site": "Local_IPP",
            "auth": {"channel": None},
            "execution": {
                "executor": "ipp",
                "provider": "local",
                "block": {"nodes": 1, "taskBlocks": 1, "minBlocks": 0, "initBlocks": 0, "maxBlocks": 10, "parallelism": 0.1, "walltime": "00:20:00"},
            },
        }
    ]
}


def _elastic_run(p: float, sleep: float) -> tuple[list[str], int]:
    import copy
    import threading

    from parsl import App, DataFlowKernel

    cfg = copy.deepcopy(ELASTIC)
    cfg["sites"][0]["execution"]["block"]["parallelism"] = p
    dfk = DataFlowKernel(config=cfg)
    ex = dfk.executors["Local_IPP"]
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            peak[0] = max(peak[0], len(ex.blocks))
            stop.wait(0.1)

    w = threading.Thread(target=watch, daemon=True)
    w.start()

    @App("python", dfk)
    def python_app(t):
        import os
        import time

        time.sleep(t)
        return "(%s) Hello World!" % os.getpid()

    results = {i: python_app(sleep) for i in range(10)}
    out = [results[i].result(timeout=180) for i in range(10)]
    stop.set()
    w.join(5)
    started = descendants()
    dfk.cleanup()
    assert wait_gone(started) == []
    return out, peak[0]


def test_elasticity_parallelism_0_1_reuses_one_engine() -> None:
    out, peak = _elastic_run(0.1, 0.3)
    pids = {line.split(")")[0] for line in out}
    assert len(pids) == 1, out
    assert peak == 1


def test_elasticity_parallelism_1_spreads_over_many_blocks() -> None:
    out, peak = _elastic_run(1, 5)
    pids = {line.split(")")[0] for line in out}
    assert peak == 10
    assert len(pids) >= 3, out
