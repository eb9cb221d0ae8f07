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
    for damaged in (_frame("b", big, crc_ok=False), _frame("b", big, length=100)):  # the checksum, or the length field
        caplog.clear()
        data = MAGIC + encode("a", 1, 1) + damaged + encode("c", 1, 3)
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


def test_a_key_length_past_the_end_of_its_record_is_damage(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """A frame with a right checksum whose key length field points past the payload."""
    payload = struct.pack("<H", 500) + b"short key, then text that would decode as one"
    head = struct.pack("<IQ", len(payload), 1)
    liar = SYNC + head + struct.pack("<I", zlib.crc32(payload, zlib.crc32(head))) + payload
    path = _write(os.path.join(tmp_path, "tasks.pkl"), MAGIC + liar + encode("k", 1, "kept"))
    assert [(e.key, e.value()) for e in checkpoint_store.read_file(path)] == [("k", "kept")]
    assert len(_warnings(caplog)) == 1


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_checkpoint_owned_by_another_user_is_refused(tmp_path: os.PathLike[str]) -> None:
    path = _write(os.path.join(tmp_path, "tasks.pkl"), MAGIC + encode("k", 1, 1))
    os.chown(path, 1, 1)
    with pytest.raises(checkpoint_store.UnsafeCheckpoint, match="owned by uid 1, not by you"):
        checkpoint_store.load([path])


def test_loading_logs_how_many_records_each_file_held(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "parsl")
    a = _write(os.path.join(tmp_path, "a.pkl"), MAGIC + b"".join(encode(f"k{i}", i, i) for i in range(3)))
    b = _write(os.path.join(tmp_path, "b.pkl"), MAGIC)
    fds = len(os.listdir("/proc/self/fd"))
    checkpoint_store.load([a, b])
    assert len(os.listdir("/proc/self/fd")) == fds  # every file read is closed
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loaded ")]
    assert lines == [f"loaded 3 checkpoint records from {a}", f"loaded 0 checkpoint records from {b}"]


@pytest.mark.parametrize("mode", [0o755, 0o650, 0o707])
def test_an_existing_checkpoint_directory_others_can_use_is_made_private(tmp_path: os.PathLike[str], mode: int) -> None:
    d = os.path.join(tmp_path, "checkpoint")
    os.mkdir(d)
    os.chmod(d, mode)
    w = CheckpointWriter(d)
    w.open()
    w.close()
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700


def _maps_of(path: str) -> list[str]:
    """This process's memory maps of the file at ``path`` (by inode: the map names the
    temporary name the file was created under)."""
    inode = str(os.stat(path).st_ino)
    with open("/proc/self/maps") as f:
        return [line for line in f if line.split()[4:5] == [inode]]


def test_an_open_writer_reserves_a_mebibyte_and_close_releases_everything(tmp_path: os.PathLike[str]) -> None:
    fds = len(os.listdir("/proc/self/fd"))
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    record = encode("k", 1, 1)
    w.append(record)
    assert os.path.getsize(w.path) == MIB  # type: ignore[arg-type]
    assert _maps_of(w.path)  # type: ignore[arg-type]
    w.close()
    w.close()  # idempotent
    assert os.path.getsize(w.path) == len(MAGIC) + len(record)  # type: ignore[arg-type]
    assert _maps_of(w.path) == []  # type: ignore[arg-type]
    assert len(os.listdir("/proc/self/fd")) == fds


def test_a_writer_whose_file_cannot_be_named_cleans_up(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """An error while claiming the file's name (here an I/O error from link) propagates and
    leaves no temporary file and no open descriptor."""
    import errno as _errno

    def broken_link(src: str, dst: str) -> None:
        raise OSError(_errno.EIO, "I/O error")

    monkeypatch.setattr(os, "link", broken_link)
    d = os.path.join(tmp_path, "checkpoint")
    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError, match="I/O error"):
        CheckpointWriter(d).open()
    assert os.listdir(d) == []
    assert len(os.listdir("/proc/self/fd")) == fds


def test_without_hard_links_no_descriptor_is_left_behind(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import errno as _errno

    def no_links(src: str, dst: str) -> None:
        raise OSError(_errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    fds = len(os.listdir("/proc/self/fd"))
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    w.append(encode("k", 1, 1))
    w.close()
    assert len(os.listdir("/proc/self/fd")) == fds
    assert [e.key for e in checkpoint_store.read_file(w.path)] == ["k"]  # type: ignore[arg-type]


@pytest.mark.parametrize("err", ["EOPNOTSUPP", "EINVAL"])
def test_a_file_system_without_preallocation_gets_zeros_written(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch, err: str) -> None:
    import errno as _errno

    def unsupported(fd: int, offset: int, size: int) -> None:
        raise OSError(getattr(_errno, err), "not supported")

    monkeypatch.setattr(os, "posix_fallocate", unsupported)
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    w.append(encode("k", 1, 1))
    assert os.path.getsize(w.path) == MIB  # type: ignore[arg-type]
    w.close()
    assert [e.key for e in checkpoint_store.read_file(w.path)] == ["k"]  # type: ignore[arg-type]


def test_a_full_disk_fails_the_append_and_keeps_what_was_written(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import errno as _errno

    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    first = encode("a", 1, 1)
    w.append(first)

    def full(fd: int, offset: int, size: int) -> None:
        raise OSError(_errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(OSError, match="No space left"):
        w.append(encode("b", 2, b"x" * (2 * MIB)))
    w.close()
    assert [e.key for e in checkpoint_store.read_file(w.path)] == ["a"]  # type: ignore[arg-type]


def test_a_driver_without_stdin_keeps_one_checkpoint_file(tmp_path: os.PathLike[str]) -> None:
    """With descriptor 0 closed (a daemonised driver), the checkpoint file may get descriptor
    0: it is still this writer's open file."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os
        from parsl.dataflow.checkpoint_store import CheckpointWriter, encode
        os.close(0)
        w = CheckpointWriter("checkpoint")
        w.append(encode("a", 1, 1))
        w.open()
        w.append(encode("b", 2, 2))
        w.close()
        print(sorted(os.listdir("checkpoint")), os.path.getsize(w.path))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out == f"['tasks.pkl'] {len(MAGIC) + len(encode('a', 1, 1)) + len(encode('b', 2, 2))}\n"


def test_records_after_a_stretch_of_zeros_load(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """Zeros where records were (a crash on a file system that shows unwritten blocks as zeros)
    with records after them: the zeros are one damaged stretch, the records after it load, the
    first of them right where a read chunk starts."""
    a, b, c = encode("a", 1, 1), encode("b", 2, 2), encode("c", 3, 3)
    head = MAGIC + a
    data = head + bytes(2 * MIB - len(head)) + b + c
    path = _write(os.path.join(tmp_path, "tasks.pkl"), data)
    assert [e.key for e in checkpoint_store.read_file(path)] == ["a", "b", "c"]
    (warning,) = _warnings(caplog)
    assert f"byte offset {len(head)} skipped ({2 * MIB - len(head)} bytes of {len(data)})" in warning


def test_damage_of_every_shape_is_reported_where_it_is(tmp_path: os.PathLike[str], caplog: pytest.LogCaptureFixture) -> None:
    """A partial header, one junk byte before a record, damaged records one after another,
    and more damaged stretches than the warning lists."""
    path = os.path.join(tmp_path, "tasks.pkl")
    _write(path, MAGIC[:5])
    assert checkpoint_store.read_file(path) == []
    assert "byte offset 0 skipped (5 bytes of 5)" in _warnings(caplog)[0]
    caplog.clear()
    a, b, c = encode("a", 1, 1), encode("b", 2, 2), encode("c", 3, 3)
    _write(path, MAGIC + a + b"\x01" + b)
    assert [e.key for e in checkpoint_store.read_file(path)] == ["a", "b"]
    caplog.clear()
    _write(path, MAGIC + a + _frame("x", 1, crc_ok=False) + _frame("y", 2, crc_ok=False) + c)
    assert [e.key for e in checkpoint_store.read_file(path)] == ["a", "c"]
    caplog.clear()
    good = [encode(f"g{i}", i, i) for i in range(12)]
    data = MAGIC + b"".join(g + _frame(f"bad{i}", i, crc_ok=False) for i, g in enumerate(good[:11])) + good[11]
    _write(path, data)
    assert len(checkpoint_store.read_file(path)) == 12
    (warning,) = _warnings(caplog)
    assert warning.count(", ") == 9 and "... (11 in all)" in warning  # the first 10 offsets


def test_the_later_file_wins_a_tie(tmp_path: os.PathLike[str]) -> None:
    """Records of one key with the same time: the one in the later file (tasks.1.pkl after
    tasks.pkl) is kept."""
    d = os.path.join(tmp_path, "checkpoint")
    os.mkdir(d)
    _write(os.path.join(d, "tasks.pkl"), MAGIC + encode("k", 5, "first"))
    _write(os.path.join(d, "tasks.1.pkl"), MAGIC + encode("k", 5, "second"))
    assert checkpoint_store.load([d])["k"].value() == "second"


def test_without_hard_links_files_are_still_private(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import errno as _errno

    def no_links(src: str, dst: str) -> None:
        raise OSError(_errno.EPERM, "hard links not supported here")

    monkeypatch.setattr(os, "link", no_links)
    old = os.umask(0)
    try:
        w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
        w.open()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(w.path).st_mode) == 0o600  # type: ignore[arg-type]
    w.close()


def test_without_posix_fallocate_a_large_first_record_reserves_exactly(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "posix_fallocate")
    w = CheckpointWriter(os.path.join(tmp_path, "checkpoint"))
    w.append(encode("big", 1, b"b" * (3 * MIB)))  # from the header straight to 4 MiB
    assert os.path.getsize(w.path) == 4 * MIB  # type: ignore[arg-type]
    w.close()
