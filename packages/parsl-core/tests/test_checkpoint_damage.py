"""A damaged checkpoint keeps every record before the damage, warns once, and never unpickles
a record whose checksum fails. Real checkpoint files written by real kernels."""
from __future__ import annotations

import logging
import os
import pickle
import random
import struct
import threading
import zlib

import pytest

import parsl
from parsl import python_app
from parsl.dataflow import checkpoint_store
from parsl.dataflow.checkpoint_store import MAGIC, BadCheckpoint, UnsafeCheckpoint

N = 10
RAN: list[int] = []
_lock = threading.Lock()


@python_app(cache=True)
def work(x):
    with _lock:
        RAN.append(x)
    return {"x": x, "payload": "v" * (x + 1)}


def _make_checkpoint() -> tuple[str, bytes, int]:
    """A run of N cached tasks in task_exit mode; returns (file, its bytes, start of the last
    record). The tasks run one after the other so task N-1 is the last record."""
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], checkpoint_mode="task_exit"))
    for i in range(N):
        work(i).result()
    dfk.cleanup()
    path = os.path.join(dfk.run_dir, "checkpoint", "tasks.pkl")
    data = open(path, "rb").read()
    entries, damaged = checkpoint_store.decode_file(path, data)
    assert damaged is None and len(entries) == N
    assert entries[-1].value() == {"x": N - 1, "payload": "v" * N}
    return path, data, len(data) - len(entries[-1].frame)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _rerun(path: str) -> list[int]:
    RAN.clear()
    k = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], checkpoint_files=[path]))
    assert [work(i).result()["x"] for i in range(N)] == list(range(N))
    k.cleanup()
    return sorted(RAN)


def test_truncation_at_every_offset_inside_the_last_record(caplog: pytest.LogCaptureFixture) -> None:
    path, data, last = _make_checkpoint()
    for cut in range(last + 1, len(data)):
        with open(path, "wb") as f:
            f.write(data[:cut])
        caplog.clear()
        entries = checkpoint_store.read_file(path)
        assert [e.value()["x"] for e in entries] == list(range(N - 1)), cut
        warnings = _warnings(caplog)
        assert len(warnings) == 1, (cut, warnings)
        assert path in warnings[0] and f"byte offset {last}" in warnings[0]


@pytest.mark.parametrize("where", ["header", "middle", "end"])
def test_only_the_damaged_task_runs_again(caplog: pytest.LogCaptureFixture, where: str) -> None:
    path, data, last = _make_checkpoint()
    cut = {"header": last + 3, "middle": (last + len(data)) // 2, "end": len(data) - 1}[where]
    with open(path, "wb") as f:
        f.write(data[:cut])
    caplog.clear()
    assert _rerun(path) == [N - 1]
    assert len(_warnings(caplog)) == 1


@pytest.mark.parametrize("seed", range(8))
def test_random_bytes_appended_keep_every_record(caplog: pytest.LogCaptureFixture, seed: int) -> None:
    path, data, _ = _make_checkpoint()
    rng = random.Random(seed)
    junk = bytes(rng.randrange(256) for _ in range(64))
    with open(path, "ab") as f:
        f.write(junk)
    caplog.clear()
    assert _rerun(path) == []
    warnings = _warnings(caplog)
    assert len(warnings) == 1 and f"byte offset {len(data)}" in warnings[0] and "64 bytes" in warnings[0]


def test_a_flipped_byte_loses_only_its_record(caplog: pytest.LogCaptureFixture) -> None:
    path, data, _ = _make_checkpoint()
    entries, _ = checkpoint_store.decode_file(path, data)
    third = len(MAGIC) + sum(len(e.frame) for e in entries[:3])
    damaged = bytearray(data)
    damaged[third + 20] ^= 0x01
    with open(path, "wb") as f:
        f.write(bytes(damaged))
    caplog.clear()
    # the reader resynchronises on the next record marker: only task 3 runs again
    assert _rerun(path) == [3]
    assert len(_warnings(caplog)) == 1


class _Canary:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (open, (self.path, "w"))


def _frame(key: str, payload_pickle: bytes, good_crc: bool, sync: bytes = checkpoint_store.SYNC) -> bytes:
    k = key.encode()
    payload = struct.pack("<H", len(k)) + k + payload_pickle
    head = struct.pack("<IQ", len(payload), 1)
    crc = zlib.crc32(payload, zlib.crc32(head))
    return sync + head + struct.pack("<I", crc if good_crc else crc ^ 1) + payload


def test_a_record_failing_its_checksum_is_never_unpickled(tmp_path: os.PathLike[str]) -> None:
    canary = os.path.join(tmp_path, "canary")
    path = os.path.join(tmp_path, "tasks.pkl")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, MAGIC + _frame("k1", pickle.dumps(1), True) + _frame("k2", pickle.dumps(_Canary(canary)), False))
    os.close(fd)
    table = checkpoint_store.load([path])
    assert list(table) == ["k1"]
    assert table["k1"].value() == 1
    assert not os.path.exists(canary)


def test_a_file_others_can_write_is_refused_before_reading(tmp_path: os.PathLike[str]) -> None:
    canary = os.path.join(tmp_path, "canary")
    path = os.path.join(tmp_path, "tasks.pkl")
    with open(path, "wb") as f:
        f.write(MAGIC + _frame("k", pickle.dumps(_Canary(canary)), True))
    os.chmod(path, 0o666)
    with pytest.raises(UnsafeCheckpoint):
        parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=1)], checkpoint_files=[path]))
    assert not os.path.exists(canary)


def test_records_are_unpickled_only_when_used(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """A checksum-valid record whose class is gone does not stop the load; using it warns
    and the task runs again."""
    real, data, _ = _make_checkpoint()
    key = checkpoint_store.decode_file(real, data)[0][0].key  # the key of work(0)
    path = os.path.join(tmp_path, "tasks.pkl")
    bad = b"\x80\x04cno_such_module\nThing\n)\x81."  # no_such_module.Thing()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, MAGIC + _frame(key, bad, True))
    os.close(fd)
    table = checkpoint_store.load([path])
    with pytest.raises(ModuleNotFoundError):
        table[key].value()
    caplog.clear()
    RAN.clear()
    k = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], checkpoint_files=[path]))
    assert work(0).result()["x"] == 0
    assert RAN == [0]
    assert any("could not be unpickled" in w for w in _warnings(caplog))
    k.cleanup()


def test_empty_partial_and_foreign_headers(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    path = os.path.join(tmp_path, "tasks.pkl")
    for content, warns in ((b"", 0), (MAGIC[:5], 1), (MAGIC, 0)):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, content)
        os.close(fd)
        caplog.clear()
        assert checkpoint_store.read_file(path) == []
        assert len(_warnings(caplog)) == warns
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    os.write(fd, b"NOTPARSL" + b"\0" * 40)
    os.close(fd)
    with pytest.raises(BadCheckpoint, match="not a parsl checkpoint file"):
        checkpoint_store.read_file(path)


def test_a_failed_append_leaves_no_torn_record(tmp_path: os.PathLike[str]) -> None:
    """When the file cannot grow (here: the file size limit; likewise a full disk), the append
    fails before any byte of it is written, and later appends still work."""
    import resource
    import signal

    w = checkpoint_store.CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    w.open()
    w.append(checkpoint_store.encode("a", 1, "x" * 100))
    allocated = os.path.getsize(w.path)  # type: ignore[arg-type]
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (allocated + 4096, old_limit[1]))
    try:
        with pytest.raises(OSError):
            w.append(checkpoint_store.encode("b", 2, "y" * (2 * allocated)))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    w.append(checkpoint_store.encode("c", 3, "z"))
    w.close()
    data = open(w.path, "rb").read()  # type: ignore[arg-type]
    entries, damaged = checkpoint_store.decode_file(w.path, data)  # type: ignore[arg-type]
    assert damaged is None and [e.key for e in entries] == ["a", "c"]
    assert len(data) == len(MAGIC) + sum(len(e.frame) for e in entries)  # no preallocated tail


def test_an_unclosed_file_has_a_zero_tail_that_is_not_damage(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    w = checkpoint_store.CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    for i in range(3):
        w.append(checkpoint_store.encode(f"k{i}", i, i))
    # as a killed driver leaves it: not closed, the preallocated zeros still there
    assert os.path.getsize(w.path) > 1000  # type: ignore[arg-type]
    caplog.clear()
    assert [e.value() for e in checkpoint_store.read_file(w.path)] == [0, 1, 2]  # type: ignore[arg-type]
    assert _warnings(caplog) == []
    w.close()


def test_any_flipped_byte_loses_exactly_the_record_it_is_in(tmp_path: os.PathLike[str]) -> None:
    path, data, _ = _make_checkpoint()
    entries, _ = checkpoint_store.decode_file(path, data)
    starts = []
    off = len(MAGIC)
    for e in entries:
        starts.append(off)
        off += len(e.frame)
    rng = random.Random(1)
    for pos in rng.sample(range(len(MAGIC), len(data)), 300):
        damaged = bytearray(data)
        damaged[pos] ^= 1 << rng.randrange(8)
        kept, at = checkpoint_store.decode_file(path, bytes(damaged))
        hit = max(i for i, start in enumerate(starts) if start <= pos)
        assert [k.frame for k in kept] == [e.frame for i, e in enumerate(entries) if i != hit], pos
        assert at == starts[hit]


def test_version_1_files_still_load(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """Files written before record markers (PRSLCKP1) load; a damaged record whose length
    field is intact is skipped there too."""
    path = os.path.join(tmp_path, "tasks.pkl")
    frames = [_frame(f"k{i}", pickle.dumps(i), i != 1, sync=b"") for i in range(4)]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, checkpoint_store.MAGIC_V1 + b"".join(frames))
    os.close(fd)
    assert {k: e.value() for k, e in checkpoint_store.load([path]).items()} == {"k0": 0, "k2": 2, "k3": 3}
    assert len(_warnings(caplog)) == 1


def test_a_fifo_named_tasks_pkl_is_refused_not_waited_on(tmp_path: os.PathLike[str]) -> None:
    d = os.path.join(tmp_path, "checkpoint")
    os.mkdir(d, 0o700)
    os.mkfifo(os.path.join(d, "tasks.pkl"), 0o600)
    with pytest.raises(checkpoint_store.BadCheckpoint, match="not a regular file"):
        checkpoint_store.load([d])


def test_without_hard_links_names_are_claimed_exclusively(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import errno as _errno

    def no_links(src: str, dst: str) -> None:
        raise OSError(_errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    d = os.path.join(tmp_path, "checkpoint")
    writers = [checkpoint_store.CheckpointWriter(d) for _ in range(3)]
    for i, w in enumerate(writers):
        w.append(checkpoint_store.encode(f"k{i}", i, i))
    for w in writers:
        w.close()
    assert sorted(os.listdir(d)) == ["tasks.1.pkl", "tasks.2.pkl", "tasks.pkl"]
    assert sorted(checkpoint_store.load([d])) == ["k0", "k1", "k2"]
