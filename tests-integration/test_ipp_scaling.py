"""Live block scaling with libsubmit's Local provider: blocks grow with the load and are
released after the idle period (real controller, real engines, real process groups)."""
from __future__ import annotations

import os
import sys
import threading

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, descendants, ipp_site, wait_gone, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.usefixtures("ipp_stack")]


def test_blocks_grow_to_max_and_shrink_to_min_after_idle() -> None:
    from parsl import App, DataFlowKernel

    site = ipp_site(minBlocks=0, initBlocks=0, maxBlocks=4, taskBlocks=1, parallelism=1)
    site["execution"]["options"] = {"max_idletime": 2, "strategy_interval": 0.5}  # the executor's own knobs
    dfk = DataFlowKernel(config=config(site))
    ex = dfk.executors["Local_IPP"]
    assert ex.blocks == {}  # initBlocks 0

    @App("python", dfk)
    def sleeper(t):
        import os
        import time

        time.sleep(t)
        return os.getpid()

    history: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            history.append(len(ex.blocks))
            stop.wait(0.1)

    w = threading.Thread(target=watch, daemon=True)
    w.start()
    try:
        futs = [sleeper(2) for _ in range(10)]
        assert wait_until(lambda: len(ex.blocks) == 4, 30), f"blocks never reached 4: {history[-20:]}"
        block_pids = descendants()
        pids = {f.result(timeout=120) for f in futs}
        assert 2 <= len(pids) <= 4
        # no task left: released down to minBlocks = 0 after the 2 s idle period
        assert wait_until(lambda: len(ex.blocks) == 0, 30), f"blocks never went back to 0: {history[-20:]}"
    finally:
        stop.set()
        w.join(5)
    assert max(history) == 4
    # the released blocks' engines are gone while the kernel is still up
    assert wait_gone(pids) == []
    assert ex.controller.pid not in block_pids or os.path.exists(f"/proc/{ex.controller.pid}")
    # and new work brings a block back
    assert sleeper(0).result(timeout=60) not in pids
    started = descendants()
    dfk.cleanup()
    assert wait_gone(started) == []
