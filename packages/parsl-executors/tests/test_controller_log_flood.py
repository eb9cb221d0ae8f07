"""Junk sent to the controller's ports is counted, not logged line by line (a real
controller on loopback), and the log limiter's rules on their own."""
from __future__ import annotations

import io
import json
import os
import sys
import time

import cloudpickle
import pytest

from parsl.interfaces import BlockShape
from parsl_executors.log_limiter import RateLimitedLog

cloudpickle.register_pickle_by_value(sys.modules[__name__])


def add(a: int, b: int) -> int:
    return a + b


def test_limiter_writes_the_first_of_each_kind_then_a_count() -> None:
    now = [0.0]
    out = io.StringIO()
    log = RateLimitedLog(out, interval=10.0, max_line=70, clock=lambda: now[0])
    for i in range(500):
        log.feed(f"2026-01-01 00:00:00.000 [task] task::Invalid task msg: {'x' * i}\n")
        log.feed("Traceback (most recent call last):\n")
        log.feed(f"2026-01-01 00:00:00.000 [IPController] ERROR | Bad Query Message: {i}\n")
    log.feed("2026-01-01 00:00:00.000 [IPController] WARNING | engine 3 lost\n")
    now[0] = 10.5
    log.tick()
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "2026-01-01 00:00:00.000 [task] task::Invalid task msg: ",
        "Traceback (most recent call last):",
        "2026-01-01 00:00:00.000 [IPController] ERROR | Bad Query Message: 0",
    ]
    assert lines[3].endswith("engine 3 lost")
    assert "499 more records like '[task] task::Invalid task msg'" in lines[4]
    assert "499 more records like '[IPController] ERROR | Bad Query Message'" in lines[5]
    assert len(lines) == 6
    log.feed("2026-01-01 00:00:11.000 [task] task::Invalid task msg: " + "y" * 100 + "\n")
    assert out.getvalue().splitlines()[-1].endswith("... [85 more characters]")


def test_junk_on_every_controller_port_does_not_flood_its_log(make_ipp) -> None:
    zmq = pytest.importorskip("zmq")
    ex = make_ipp(BlockShape(tasks_per_node=1, init_blocks=1, max_blocks=1))
    log = os.path.join(ex.work_dir, "controller.log")
    ports = set()
    for name in (ex.controller.engine_file, ex.controller.client_file):
        with open(name) as f:
            for value in json.load(f).values():
                for v in value if isinstance(value, list) else [value]:
                    if isinstance(v, int) and not isinstance(v, bool) and v > 1024:
                        ports.add(v)
    assert len(ports) >= 5
    before = os.path.getsize(log)
    ctx = zmq.Context()
    socks = []
    for port in sorted(ports):
        s = ctx.socket(zmq.DEALER)
        s.linger = 0
        s.connect(f"tcp://127.0.0.1:{port}")
        socks.append(s)
    frames = [lambda i: [os.urandom(i % 4096)], lambda i: [b""], lambda i: [b"{}"], lambda i: [b"<IDS|MSG>", b"sig", b"{}", b"{}", b"{}", b"{}"]]
    for i in range(4000):
        try:
            socks[i % len(socks)].send_multipart(frames[i % len(frames)](i), flags=zmq.NOBLOCK)
        except zmq.Again:
            pass
    try:
        assert ex.submit(add, 3, 4).result(timeout=60) == 7  # still serving
        time.sleep(1.0)
        grown = os.path.getsize(log) - before
        assert 0 < grown < 40_000, grown  # unlimited: ~1 MB for these 4000 frames
    finally:
        for s in socks:
            s.close()
        ctx.term()
