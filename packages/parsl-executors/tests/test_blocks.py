"""The shared block table: what it holds, the order blocks are released in, and the block
event each change reports to the workflow's monitor (blocks are real bash process groups)."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

from parsl.interfaces import JobState

sys.path.insert(0, os.path.dirname(__file__))
from ipp_test_support import ProcessBlocks, Recorder, wait_gone

from parsl_executors.scaling import BlockFailures, BlockTable


@pytest.fixture
def provider(tmp_path: os.PathLike[str]) -> Iterator[ProcessBlocks]:
    prov = ProcessBlocks(str(tmp_path))
    yield prov
    prov.close()


def test_each_change_of_a_block_is_one_event_to_the_monitor(provider: ProcessBlocks) -> None:
    monitor = Recorder()
    table = BlockTable("ex", monitor)
    for bid in ("0", "1", "2"):
        table.add(bid, provider.submit("sleep 60", 1), "1 engines")
    assert len(table) == 3 and table.jobs() == {"0": "0", "1": "1", "2": "2"}
    assert table.connected("0") is not None
    assert table.connected("0") is None  # only the first worker makes the block running
    assert table.connected("7") is None and table.connected(None) is None
    table.worker_lost("1", "engine 4")
    table.worker_lost("1")
    table.worker_lost(None)
    assert table.lost_workers(per_block=1) == 1 and table.lost_workers(per_block=8) == 2
    assert monitor.events[:5] == [
        ("ex", "0", "submitted", "job 0, 1 engines"), ("ex", "1", "submitted", "job 1, 1 engines"), ("ex", "2", "submitted", "job 2, 1 engines"),
        ("ex", "0", "running", ""), ("ex", "1", "worker_lost", "engine 4"),
    ]
    # scale-in takes the blocks that lost workers first, then the newest; `where` filters
    assert [b.block_id for b in table.take_newest(1, where=lambda b: b.connected)] == ["0"]
    assert [b.block_id for b in table.take_newest(1)] == ["1"]
    assert monitor.of("0")[-1] == monitor.of("1")[-1] == "released"
    pids = [provider.procs[j].pid for j in table.jobs().values()]
    assert [b.block_id for b in table.cancel_all(provider)] == ["2"]
    assert len(table) == 0 and wait_gone(pids) == []
    assert monitor.events[-1] == ("ex", "2", "released", "executor shut down")


def test_blocks_that_ended_are_dropped_failed_unless_a_worker_had_connected(provider: ProcessBlocks) -> None:
    monitor = Recorder()
    table = BlockTable("ex", monitor)
    failures = BlockFailures("ex", 3)
    table.add("0", provider.submit("echo ran; exit 0", 1))
    table.add("1", provider.submit("echo cannot start >&2; exit 3", 1))
    table.add("2", provider.submit("sleep 60", 1))
    table.connected("0")
    for job in ("0", "1"):
        provider.procs[job].wait(30)
    ended = table.refresh(provider, failures)
    assert sorted(b.block_id for b in ended) == ["0", "1"] and list(table.jobs()) == ["2"]
    # (the process blocks' script ends with `wait`: both jobs complete as far as the provider knows)
    assert {b.block_id: b.state for b in ended} == {"0": JobState.COMPLETED, "1": JobState.COMPLETED}
    assert monitor.events[3:] == [("ex", "0", "running", ""), ("ex", "0", "ended", "COMPLETED"), ("ex", "1", "failed", "COMPLETED")]
    # only the block that never had a worker counts as a failed start, with its stderr
    assert failures.count == 1 and "cannot start" in next(b for b in ended if b.block_id == "1").stderr_tail
    assert table.refresh(provider, failures) == []
    # a worker lost after its block's end was seen is still reported, and counted nowhere
    table.worker_lost("0", "engine 1")
    assert monitor.events[-1] == ("ex", "0", "worker_lost", "engine 1") and table.lost_workers(1) == 0


def test_a_block_the_provider_refused_is_failed_and_counted() -> None:
    monitor = Recorder()
    table = BlockTable("ex", monitor)
    failures = BlockFailures("ex", 3)
    table.refused("5", "RuntimeError: no queue", failures)
    assert monitor.events == [("ex", "5", "failed", "RuntimeError: no queue")]
    assert failures.count == 1 and len(table) == 0


def test_no_monitor_no_events_and_a_broken_one_breaks_nothing(provider: ProcessBlocks) -> None:
    class Broken(Recorder):
        def block_event(self, executor: str, block_id: str, event: str, detail: str = "") -> None:
            raise RuntimeError("observer down")

    for monitor in (None, Broken()):
        table = BlockTable("ex", monitor)
        table.add("0", provider.submit("sleep 60", 1))
        assert table.connected("0") is not None
        assert [b.block_id for b in table.cancel_all(provider)] == ["0"]


def test_submit_numbers_the_blocks_and_a_refusal_is_raised_reported_and_handed_over(provider: ProcessBlocks, tmp_path: os.PathLike[str]) -> None:
    from parsl.executors.errors import ScalingFailed

    monitor = Recorder()
    table = BlockTable("ex", monitor)
    out = os.path.join(str(tmp_path), "out")
    ids = table.submit(provider, 2, lambda bid: f"echo $PARSL_T_VALUE-{bid} >> {out}", 1, env={"PARSL_T_VALUE": "from-env"}, detail="1 worker")
    assert ids == ["0", "1"] and table.jobs() == {"0": "0", "1": "1"}
    for job in ids:
        provider.procs[job].wait(30)
    assert sorted(open(out).read().split()) == ["from-env-0", "from-env-1"]
    assert monitor.events == [("ex", "0", "submitted", "job 0, 1 worker"), ("ex", "1", "submitted", "job 1, 1 worker")]
    provider.log_dir = os.path.join(out, "not-a-dir")  # the provider cannot write the block's log: submit raises
    handed: list[ScalingFailed] = []
    failures = BlockFailures("ex", 3)
    with pytest.raises(ScalingFailed, match="could not start block 2") as raised:
        table.submit(provider, 2, lambda bid: "true", 1, failures=failures, on_refused=handed.append)
    assert handed == [raised.value] and isinstance(raised.value.__cause__, OSError)
    assert monitor.events[-1][:3] == ("ex", "2", "failed") and failures.count == 1 and len(table) == 2
