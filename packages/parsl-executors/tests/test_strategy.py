"""The strategy applies the decision to executors it sees only through BlockScalable, and the
flow-control triggers call it on thresholds and intervals (real threads, real clocks)."""
from __future__ import annotations

import threading
import time

from parsl_executors.scaling import BlockScalable, FlowControl, FlowNoControl, ScalingPolicy, Strategy, Timer


class InMemoryBlocks(BlockScalable):
    """A BlockScalable whose blocks are counters: the unit under test is the Strategy."""

    def __init__(self, policy: ScalingPolicy, label: str = "ex") -> None:
        self.label = label
        self._policy = policy
        self.active = 0
        self.blocks: list[str] = []
        self.log: list[tuple[str, int]] = []

    @property
    def policy(self) -> ScalingPolicy:
        return self._policy

    @property
    def outstanding(self) -> int:
        return self.active

    def held_blocks(self) -> int:
        return len(self.blocks)

    def scale_out(self, blocks: int = 1) -> list[str]:
        new = [f"b{len(self.blocks) + i}" for i in range(blocks)]
        self.blocks += new
        self.log.append(("out", blocks))
        return new

    def scale_in(self, blocks: int = 1) -> list[str]:
        gone, self.blocks = self.blocks[-blocks:], self.blocks[:-blocks]
        self.log.append(("in", blocks))
        return gone


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_strategy_grows_then_shrinks_after_idle_period() -> None:
    clock = Clock()
    ex = InMemoryBlocks(ScalingPolicy(min_blocks=0, init_blocks=0, max_blocks=4, tasks_per_block=1, parallelism=1, max_idletime=5))
    s = Strategy([ex], clock=clock)
    ex.active = 10
    s.strategize()
    assert ex.held_blocks() == 4
    ex.active = 0
    s.strategize()  # idle starts now
    clock.t += 4
    s.strategize()
    assert ex.held_blocks() == 4
    clock.t += 1.5
    s.strategize()
    assert ex.held_blocks() == 0
    assert ex.log == [("out", 4), ("in", 4)]


def test_strategy_idle_timer_resets_when_work_returns() -> None:
    clock = Clock()
    ex = InMemoryBlocks(ScalingPolicy(max_blocks=2, max_idletime=5, init_blocks=0))
    s = Strategy([ex], clock=clock)
    ex.active = 2
    s.strategize()
    ex.active = 0
    s.strategize()
    clock.t += 4
    ex.active = 1
    s.strategize()
    ex.active = 0
    s.strategize()
    clock.t += 4
    s.strategize()
    assert ex.held_blocks() == 2  # only 4 s idle since the work came back


def test_strategy_scales_each_executor_on_its_own() -> None:
    a = InMemoryBlocks(ScalingPolicy(max_blocks=3, parallelism=1, init_blocks=0), "a")
    b = InMemoryBlocks(ScalingPolicy(max_blocks=3, parallelism=0, init_blocks=0), "b")
    a.active = b.active = 9
    Strategy([a, b]).strategize()
    assert (a.held_blocks(), b.held_blocks()) == (3, 1)


def test_a_failing_executor_does_not_stop_the_others() -> None:
    class Broken(InMemoryBlocks):
        def held_blocks(self) -> int:
            raise RuntimeError("provider unreachable")

    bad = Broken(ScalingPolicy(init_blocks=0), "bad")
    good = InMemoryBlocks(ScalingPolicy(max_blocks=2, init_blocks=0), "good")
    bad.active = good.active = 2
    Strategy([bad, good]).strategize()
    assert good.held_blocks() == 2


def test_flow_control_interval_and_threshold() -> None:
    kinds: list[str | None] = []
    fired = threading.Event()

    def cb(kind: str | None) -> None:
        kinds.append(kind)
        fired.set()

    fc = FlowControl(cb, threshold=5, interval=30)
    try:
        for i in range(5):
            fc.notify(i)
        assert fired.wait(5), "threshold did not trigger a callback"
        assert kinds == ["threshold"]
    finally:
        fc.close()
    assert not fc._thread.is_alive()

    kinds.clear()
    fired.clear()
    t0 = time.monotonic()
    fc = FlowControl(cb, threshold=1000, interval=0.2)
    try:
        assert fired.wait(5)
        assert kinds[0] == "timer"
        assert time.monotonic() - t0 >= 0.15
    finally:
        fc.close()


def test_timer_and_no_control() -> None:
    n = threading.Semaphore(0)
    t = Timer(lambda kind: n.release(), interval=0.05)
    try:
        for _ in range(3):
            assert n.acquire(timeout=5)
    finally:
        t.close()
    calls: list[str | None] = []
    f = FlowNoControl(calls.append)
    f.notify(1)
    f.close()
    assert calls == []
    f.make_callback("manual")
    assert calls == ["manual"]


def test_0_5_0_paths_and_kernel_style_construction(tmp_path) -> None:
    import parsl
    from parsl.dataflow.flow_control import FlowControl as FC
    from parsl.dataflow.flow_control import FlowNoControl as FNC
    from parsl.dataflow.strategy import Strategy as S

    assert (FC, FNC, S) == (FlowControl, FlowNoControl, Strategy)
    ex = InMemoryBlocks(ScalingPolicy(max_blocks=2, init_blocks=0), "blocks")

    class Kernel:  # what Strategy(dfk) reads: the label -> executor table
        executors = {"blocks": ex, "threads": parsl.ThreadPoolExecutor(label="threads")}

    s = S(Kernel())
    assert s.executors == [ex]
    ex.active = 5
    fc = FC(Kernel(), {}, threshold=1, interval=30)
    try:
        fc.notify("task")
        deadline = time.monotonic() + 5
        while ex.held_blocks() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        fc.close()
    assert ex.held_blocks() == 2
