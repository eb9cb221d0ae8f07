"""The checkpoint file format at sizes past the reader's chunk (1 MiB): records, damage and
preallocated space that span chunks, crafted frames, the writer's files and descriptors.
Real files; the records are built by ``encode`` or by hand where the test needs damage."""
from __future__ import annotations

import logging
import os
import pickle
import stat
import struct
import zlib

import pytest

from parsl.dataflow import checkpoint_store
from parsl.dataflow.checkpoint_store import MAGIC, MAGIC_V1, SYNC, CheckpointWriter, encode

MIB = 1 << 20


def _write(path: str, data: bytes) -> str:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)
    return path


def _frame(key: str, value: object, *, sync: bytes = SYNC, crc_ok: bool = True, length: int | None = None) -> bytes:
    k = key.encode()
    payload = struct.pack("<H", len(k)) + k + pickle.dumps(value)
    head = struct.pack("<IQ", len(payload) if length is None else length, 1)
    crc = zlib.crc32(payload, zlib.crc32(head))
    return sync + head + struct.pack("<I", crc if crc_ok else crc ^ 1) + payload


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_records_larger_than_the_read_chunk_load(tmp_path: os.PathLike[str]) -> None:
    values = {f"k{i}": bytes([i]) * (MIB + 12345 * i) for i in range(4)}
    path = _write(os.path.join(tmp_path, "tasks.pkl"), MAGIC + b"".join(encode(k, 1, v) for k, v in values.items()))
    assert {e.key: e.value() for e in checkpoint_store.read_file(path)} == values


def test_damage_followed_by_megabytes_without_a_record_marker(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """The reader searches chunk after chunk for the next record after a damaged one."""
    big = b"x" * (3 * MIB)
    data = MAGIC + encode("a", 1, 1) + _frame("b", big, crc_ok=False) + encode("c", 1, 3)
    path = _write(os.path.join(tmp_path, "tasks.pkl"), data)
    assert {e.key: e.value() for e in checkpoint_store.read_file(path)} == {"a": 1, "c": 3}
    (warning,) = _warnings(caplog)
    assert f"byte offset {len(MAGIC) + len(encode('a', 1, 1))}" in warning


def test_an_unclosed_file_with_megabytes_of_preallocated_space_is_not_damage(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    w.append(encode("big", 1, b"v" * (2 * MIB + 100)))  # the file grows to 4 MiB: ~2 MiB of zeros
    w.append(encode("small", 2, 2))
    assert os.path.getsize(w.path) - (2 * MIB + 200) > 1.5 * MIB  # type: ignore[arg-type]
    assert [e.key for e in checkpoint_store.read_file(w.path)] == ["big", "small"]  # type: ignore[arg-type]
    assert _warnings(caplog) == []
    w.close()


def test_a_large_version_1_file_damaged_inside_ends_at_the_damage(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """Version 1 files have no record markers: after a damaged record whose length field does
    not lead to a valid record, the rest of the file is lost (with a warning), whatever its
    size; the records before the damage load."""
    frames = [_frame(f"k{i}", bytes(MIB // 2), sync=b"") for i in range(6)]  # zeros: a length of 0 where it lands
    bad = bytearray(frames[1])
    bad[2] ^= 0x01  # its length field, 64 KiB longer: it points into the middle of the next record
    data = MAGIC_V1 + frames[0] + bytes(bad) + b"".join(frames[2:])
    path = _write(os.path.join(tmp_path, "tasks.pkl"), data)
    assert [e.key for e in checkpoint_store.read_file(path)] == ["k0"]
    (warning,) = _warnings(caplog)
    start = len(MAGIC_V1) + len(frames[0])
    assert f"byte offset {start} skipped ({len(data) - start} bytes of {len(data)})" in warning


@pytest.mark.parametrize("length", [0, 1])
def test_a_record_too_short_to_hold_its_key_length_is_damage(tmp_path: os.PathLike[str], length: int, caplog: pytest.LogCaptureFixture) -> None:
    """A frame whose checksum is right but whose length cannot hold the key length field."""
    head = struct.pack("<IQ", length, 1)
    body = b"\x07" * length
    short = SYNC + head + struct.pack("<I", zlib.crc32(body, zlib.crc32(head))) + body
    path = _write(os.path.join(tmp_path, "tasks.pkl"), MAGIC + short + encode("k", 1, "kept"))
    assert [(e.key, e.value()) for e in checkpoint_store.read_file(path)] == [("k", "kept")]
    assert len(_warnings(caplog)) == 1


def test_entries_are_immutable_and_hashable() -> None:
    (e,), _ = checkpoint_store.decode_file("x", MAGIC + encode("k", 5, [1, 2]))
    assert (e.key, e.time_ns, e.value()) == ("k", 5, [1, 2])
    assert pickle.loads(e.payload) == [1, 2]
    assert e.frame == encode("k", 5, [1, 2])
    with pytest.raises(AttributeError):
        e.key = "other"  # type: ignore[misc]
    assert len({e, e}) == 1


def test_a_directory_without_checkpoint_files_loads_nothing_and_says_so(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    empty = os.path.join(tmp_path, "run")
    os.makedirs(os.path.join(empty, "checkpoint"))
    assert checkpoint_store.load([empty]) == {}
    assert any("holds no checkpoint files" in w for w in _warnings(caplog))
    caplog.clear()
    w = CheckpointWriter(os.path.join(empty, "checkpoint"))
    w.append(encode("k", 1, 1))
    w.close()
    assert list(checkpoint_store.load([empty])) == ["k"]
    assert _warnings(caplog) == []


def test_the_writer_names_its_file_and_leaks_no_descriptor(tmp_path: os.PathLike[str]) -> None:
    d = os.path.join(tmp_path, "checkpoint")
    fds = len(os.listdir("/proc/self/fd"))
    for n in range(5):
        w = CheckpointWriter(d)
        name = os.path.join(d, "tasks.pkl" if n == 0 else f"tasks.{n}.pkl")
        assert w.open() == name == w.path
        assert w.open() == name  # already open: the same file
        w.append(encode("k", n, n))
        w.close()
    assert len(os.listdir("/proc/self/fd")) == fds
    assert sorted(os.listdir(d)) == ["tasks.1.pkl", "tasks.2.pkl", "tasks.3.pkl", "tasks.4.pkl", "tasks.pkl"]


def test_the_checkpoint_directory_is_private_whatever_the_umask(tmp_path: os.PathLike[str]) -> None:
    old = os.umask(0o277)  # would leave the owner without write permission
    try:
        w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
        w.append(encode("k", 1, 1))
        w.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(os.path.join(tmp_path, "checkpoint")).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o600  # type: ignore[arg-type]


def test_without_posix_fallocate_the_file_is_preallocated_with_zeros(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """As on macOS, which has no posix_fallocate (removed here for the test)."""
    monkeypatch.delattr(os, "posix_fallocate")
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    records = [encode(f"k{i}", i, b"z" * (MIB // 3)) for i in range(5)]  # grows past 1 MiB
    for r in records:
        w.append(r)
    assert os.path.getsize(w.path) == 2 * MIB  # type: ignore[arg-type]
    assert [e.key for e in checkpoint_store.read_file(w.path)] == [f"k{i}" for i in range(5)]  # type: ignore[arg-type]
    w.close()
    assert os.path.getsize(w.path) == len(MAGIC) + sum(map(len, records))  # type: ignore[arg-type]
