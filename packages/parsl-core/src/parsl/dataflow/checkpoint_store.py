"""The on-disk checkpoint format: append-only files of framed, checksummed records.

::

    <run_dir>/checkpoint/                 0700, created by the first writer
        tasks.pkl                         0600, one writer (one DataFlowKernel) per file
        tasks.1.pkl, tasks.2.pkl, ...     further writers that share the run dir

    file   = MAGIC  record*
    MAGIC  = b"PRSLCKP2"                  (8 bytes; version 1 files, b"PRSLCKP1", have no SYNC)
    record = SYNC  length:u32  time_ns:u64  crc:u32  payload[length]      (little endian)
             SYNC = b"\xa7PRSLrec" (8 bytes), crc = crc32(length, time_ns and payload bytes)
    payload = key_length:u16  key (utf-8)  pickle(result)

A record is copied to the end of the file (through a memory map, see
:class:`CheckpointWriter`), so a reader sees it either whole or as a torn tail; zero bytes
after the last record are space the writer preallocated, not damage. The file is read as a
stream. A record whose frame is incomplete or whose checksum fails is skipped: the reader
resynchronises on the next SYNC that starts a valid record, so only damaged records are lost,
and one WARNING names the file and the byte offsets. Only records that pass the checksum are
ever unpickled, and only when their key is asked for (:class:`Entry`).

A file is created under a temporary name, given its header, then hard-linked to the first free
``tasks[.N].pkl`` name (``link`` fails rather than overwrite), so no file is ever shared by two
writers and no file exists without its header. Loading refuses a file that is not owned by the
current user or that other users can write to: unpickling it would run their code.
"""
from __future__ import annotations

import errno
import logging
import mmap
import os
import pickle
import re
import stat
import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from ..errors import ParslError

logger = logging.getLogger("parsl.dataflow.checkpoint")

MAGIC = b"PRSLCKP2"
#: files written before record markers (still read)
MAGIC_V1 = b"PRSLCKP1"
#: starts every record of a version 2 file, so a reader can find the next record after damage
SYNC = b"\xa7PRSLrec"
#: larger length fields are damage, not records
MAX_RECORD = 1 << 34
CHECKPOINT_DIR = "checkpoint"
_FRAME = struct.Struct("<IQI")
_KEYLEN = struct.Struct("<H")
_HEAD = struct.Struct("<IQ")
_CRC = struct.Struct("<I")
_PROTOCOL = pickle.HIGHEST_PROTOCOL
_NAME = re.compile(r"^tasks(?:\.(\d+))?\.pkl$")


class CheckpointError(ParslError):
    """A checkpoint cannot be read or written."""


class BadCheckpoint(CheckpointError, ValueError):
    """A path given to load checkpoints from is not a checkpoint (missing, or not in this
    format)."""


class UnsafeCheckpoint(CheckpointError, PermissionError):
    """A checkpoint file other users can write to (or owned by another user) was refused:
    unpickling it could run their code."""


@dataclass(frozen=True)
class Entry:
    """One checked record: ``frame`` is the record exactly as stored (to copy it into a later
    checkpoint); the pickled result in it starts at ``start`` and is unpickled only by
    :meth:`value`."""

    key: str
    time_ns: int
    frame: bytes
    start: int

    @property
    def payload(self) -> bytes:
        return self.frame[self.start :]

    def value(self) -> Any:
        return pickle.loads(memoryview(self.frame)[self.start :])


def encode(key: str, time_ns: int, value: Any) -> bytes:
    """One record (sync marker + frame + payload) for ``key``. Raises if ``value`` cannot be
    pickled."""
    try:
        body = pickle.dumps(value, _PROTOCOL)
    except Exception:
        import cloudpickle  # results such as lambdas or locally defined classes

        body = cloudpickle.dumps(value, protocol=_PROTOCOL)
    k = key.encode()
    payload = _KEYLEN.pack(len(k)) + k + body
    head = _HEAD.pack(len(payload), time_ns)
    return SYNC + head + _CRC.pack(zlib.crc32(payload, zlib.crc32(head))) + payload


class _Source:
    """The bytes of one checkpoint file, read forward in chunks (never the whole file at
    once); ``at(off, n)`` is valid for offsets at or after the last :meth:`drop`."""

    CHUNK = 1 << 20

    def __init__(self, fd: int | None = None, data: bytes = b"") -> None:
        self.fd = fd
        self.buf = bytearray(data)
        self.base = 0
        self.eof = fd is None

    def fill(self, upto: int) -> None:
        while not self.eof and self.base + len(self.buf) < upto:
            assert self.fd is not None
            # a chunk at a time: ``upto`` may come from a damaged length field, or be "all"
            # (end()), and os.read allocates what it is asked for before reading
            chunk = os.read(self.fd, self.CHUNK)
            if not chunk:
                self.eof = True
            self.buf += chunk

    def at(self, off: int, n: int) -> bytes:
        self.fill(off + n)
        return bytes(self.buf[off - self.base : off - self.base + n])

    def end(self) -> int:
        self.fill(1 << 62)
        return self.base + len(self.buf)

    def drop(self, off: int) -> None:
        if off - self.base >= self.CHUNK:
            del self.buf[: off - self.base]
            self.base = off

    def find(self, needle: bytes, off: int) -> int:
        """The first offset >= ``off`` where ``needle`` starts, or -1."""
        while True:
            i = self.buf.find(needle, max(0, off - self.base))
            if i >= 0:
                return self.base + i
            if self.eof:
                return -1
            self.fill(self.base + len(self.buf) + self.CHUNK)

    def zeros_from(self, off: int) -> bool:
        while True:
            self.fill(off + self.CHUNK)
            rest = self.buf[off - self.base :]
            if rest.count(0) != len(rest):
                return False
            if self.eof:
                return True
            self.drop(self.base + len(self.buf))
            off = self.base


def _record_at(src: _Source, off: int, sync: bool) -> Entry | None:
    """The valid record starting at ``off``, or None (damaged, torn or not a record)."""
    lead = len(SYNC) if sync else 0
    head = src.at(off, lead + _FRAME.size)
    if len(head) < lead + _FRAME.size or (sync and head[:lead] != SYNC):
        return None
    length, t_ns, crc = _FRAME.unpack_from(head, lead)
    if length < _KEYLEN.size or length > MAX_RECORD:
        return None
    frame = src.at(off, lead + _FRAME.size + length)
    if len(frame) < lead + _FRAME.size + length:
        return None
    body = memoryview(frame)[lead + _FRAME.size :]
    if zlib.crc32(body, zlib.crc32(frame[lead : lead + 12])) != crc:
        return None
    (klen,) = _KEYLEN.unpack_from(body, 0)
    if _KEYLEN.size + klen > length:
        return None
    kstart = lead + _FRAME.size + _KEYLEN.size
    try:
        key = frame[kstart : kstart + klen].decode()
    except UnicodeDecodeError:
        return None
    return Entry(key, t_ns, frame, kstart + klen)


def decode(path: str, src: _Source) -> tuple[list[Entry], list[tuple[int, int]]]:
    """Parse one checkpoint file: its valid records, and the (offset, length) of each damaged
    stretch skipped. Version 2 files resynchronise on the next record marker after damage, so only
    damaged records are lost; version 1 files (no markers) skip a damaged record whose length
    field still leads to a valid record, and otherwise end at the damage."""
    header = src.at(0, len(MAGIC))
    if header not in (MAGIC, MAGIC_V1):
        if MAGIC.startswith(header) or MAGIC_V1.startswith(header):  # empty, or part of the header
            return [], ([(0, len(header))] if header else [])
        raise BadCheckpoint(f"{path} is not a parsl checkpoint file (it does not start with {MAGIC!r} or {MAGIC_V1!r})")
    sync = header == MAGIC
    entries: list[Entry] = []
    damaged: list[tuple[int, int]] = []
    off = len(MAGIC)
    while True:
        src.drop(off)
        if not src.at(off, 1):
            return entries, damaged
        e = _record_at(src, off, sync)
        if e is not None:
            entries.append(e)
            off += len(e.frame)
            continue
        if src.zeros_from(off):
            return entries, damaged  # the preallocated tail of a file whose writer did not close it
        if sync:
            nxt = src.find(SYNC, off + 1)
            while nxt >= 0 and _record_at(src, nxt, True) is None:
                nxt = src.find(SYNC, nxt + 1)
        else:
            head = src.at(off, _FRAME.size)
            nxt = off + _FRAME.size + _FRAME.unpack_from(head)[0] if len(head) == _FRAME.size else -1
            if nxt >= 0 and _record_at(src, nxt, False) is None:
                nxt = -1
        damaged.append((off, (nxt if nxt >= 0 else src.end()) - off))
        if nxt < 0:
            return entries, damaged
        off = nxt


def decode_file(path: str, data: bytes) -> tuple[list[Entry], int | None]:
    """Parse the bytes of one checkpoint file: the valid records, and the offset of the first
    damaged stretch (``None`` when the file is whole)."""
    entries, damaged = decode(path, _Source(data=data))
    return entries, (damaged[0][0] if damaged else None)


def read_file(path: str) -> list[Entry]:
    """The valid records of one checkpoint file, read as a stream; refuses unsafe files and
    anything that is not a regular file (a FIFO is never waited on), warns once about damage."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; a symlink is fine, the file it
    # reaches is checked
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        check_safe(path, st)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        src = _Source(fd)
        entries, damaged = decode(path, src)
        size = st.st_size
    finally:
        os.close(fd)
    if damaged:
        logger.warning(
            "checkpoint file %s: damaged or truncated record(s) at byte offset %s skipped (%d bytes of %d); "
            "%d valid records kept (only the damaged records' tasks will run again)",
            path,
            ", ".join(str(o) for o, _ in damaged[:10]) + (f" ... ({len(damaged)} in all)" if len(damaged) > 10 else ""),
            sum(n for _, n in damaged),
            size,
            len(entries),
        )
    return entries


def check_safe(path: str, st: os.stat_result) -> None:
    """Refuse a checkpoint that is not a regular file of ours, or that others can write."""
    if not stat.S_ISREG(st.st_mode):
        raise BadCheckpoint(f"{path} is not a regular file")
    getuid = getattr(os, "getuid", None)
    if getuid is not None and st.st_uid != getuid():
        raise UnsafeCheckpoint(f"refusing checkpoint file {path}: it is owned by uid {st.st_uid}, not by you (uid {getuid()})")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise UnsafeCheckpoint(
            f"refusing checkpoint file {path}: other users can write to it (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"if you trust its content, run: chmod go-w {path}"
        )


def files_in(path: str) -> list[str]:
    """The checkpoint files a user-given path stands for: a file, a checkpoint directory, or
    a run directory holding ``checkpoint/``."""
    if not isinstance(path, (str, os.PathLike)):
        raise BadCheckpoint(f"a checkpoint path must be a string, got {type(path).__name__}: {path!r}")
    path = os.fspath(path)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise BadCheckpoint(f"checkpoint {path!r} does not exist (give a run directory, its checkpoint/ directory or a tasks.pkl file)")
    found = tasks_files(path)
    if found:
        return found
    sub = os.path.join(path, CHECKPOINT_DIR)
    if os.path.isdir(sub):
        found = tasks_files(sub)
    if not found:
        logger.warning("%s holds no checkpoint files; nothing loaded from it", path)
    return found


def tasks_files(d: str) -> list[str]:
    named = []
    for n in os.listdir(d):
        m = _NAME.match(n)
        if m:
            named.append((int(m.group(1) or 0), os.path.join(d, n)))
    return [p for _, p in sorted(named)]


def load(paths: Iterable[str]) -> dict[str, Entry]:
    """Read every checkpoint ``paths`` stand for; the newest record wins for each key (ties:
    the later path, then the later record)."""
    from .checkpoint_050 import read_any  # this format, or 0.5.0's

    table: dict[str, Entry] = {}
    for p in paths:
        for f in files_in(p):
            n = 0
            for e in read_any(f):
                old = table.get(e.key)
                if old is None or e.time_ns >= old.time_ns:
                    table[e.key] = e
                n += 1
            logger.info("loaded %d checkpoint records from %s", n, f)
    return table


def make_private_dir(path: str) -> None:
    """Create ``path`` (mode 0700) or make sure an existing one is ours and private."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        st = os.stat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise CheckpointError(f"{path} exists and is not a directory") from None
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, 0o700)
        return
    os.chmod(path, 0o700)  # mkdir's mode is filtered through the umask


class CheckpointWriter:
    """Appends records to this writer's own file in ``directory`` (created on first use).

    Records are copied into a shared memory map of the file: the copy is in the page cache
    (so it survives the death of this process) as soon as :meth:`append` returns, and it costs
    no system call, so the thread that completes a task never gives up the GIL to
    checkpoint it. The file grows in preallocated steps (``posix_fallocate``: a full disk is
    an error here, never a SIGBUS later); the zero bytes past the last record are not damage,
    and :meth:`close` cuts them off. :meth:`sync` is the fsync.
    """

    _STEP = 1 << 20

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path: str | None = None
        self._fd = -1
        self._map: mmap.mmap | None = None
        self._size = 0
        self._capacity = 0
        self._dirty = False
        self.closed = False

    def open(self) -> str:
        if self.closed:
            raise CheckpointError(f"the checkpoint writer for {self.directory} is closed")
        if self._fd >= 0:
            assert self.path is not None
            return self.path
        make_private_dir(self.directory)
        tmp = os.path.join(self.directory, f".tasks.{os.getpid()}.{uuid.uuid4().hex}.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.fchmod(fd, 0o600)
            _write_all(fd, MAGIC)
            os.fsync(fd)
            try:
                name = self._claim(lambda name: os.link(tmp, name))
            except OSError as e:
                if isinstance(e, FileExistsError) or e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                    raise
                # no hard links here: claim a name with O_EXCL; a reader may see it before its
                # header is written, which it treats as an empty checkpoint
                os.close(fd)
                os.unlink(tmp)
                fd = -1
                name = self._claim(lambda name: os.close(os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)))
                fd = os.open(name, os.O_RDWR)
                _write_all(fd, MAGIC)
                os.fsync(fd)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        if os.path.exists(tmp):
            os.unlink(tmp)
        _fsync_dir(self.directory)
        self._fd, self.path, self._size = fd, name, len(MAGIC)
        logger.info("checkpoint file %s created", name)
        return name

    def _claim(self, create: Callable[[str], object]) -> str:
        """The first ``tasks[.N].pkl`` name that ``create`` makes without FileExistsError."""
        n = 0
        while True:
            name = os.path.join(self.directory, "tasks.pkl" if n == 0 else f"tasks.{n}.pkl")
            try:
                create(name)
                return name
            except FileExistsError:
                n += 1

    def append(self, data: bytes) -> None:
        """Add whole records at the end of the file. If this fails (no space) nothing of
        ``data`` is in the file."""
        if not data:
            return
        if self._fd < 0:
            self.open()
        end = self._size + len(data)
        if end > self._capacity:
            self._grow(end)
        assert self._map is not None
        self._map[self._size : end] = data
        self._size = end
        self._dirty = True

    def _grow(self, needed: int) -> None:
        cap = max(self._capacity * 2, self._STEP)
        while cap < needed:
            cap *= 2
        _allocate(self._fd, cap)
        if self._map is None:
            self._map = mmap.mmap(self._fd, cap)
        else:
            self._map.resize(cap)
        self._capacity = cap

    def sync(self) -> None:
        if self._fd >= 0 and self._dirty:
            if self._map is not None:
                self._map.flush()
            os.fsync(self._fd)
            self._dirty = False

    def close(self) -> None:
        """Sync, cut the preallocated tail off and close. Idempotent."""
        self.closed = True
        if self._fd < 0:
            return
        try:
            self._dirty = True
            self.sync()
            if self._map is not None:
                self._map.close()
                self._map = None
            os.ftruncate(self._fd, self._size)
            os.fsync(self._fd)
        finally:
            os.close(self._fd)
            self._fd = -1


def _allocate(fd: int, size: int) -> None:
    fallocate = getattr(os, "posix_fallocate", None)  # not on macOS
    if fallocate is None:
        _fill(fd, size)
        return
    try:
        fallocate(fd, 0, size)
    except OSError as e:
        if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL, getattr(errno, "ENOTSUP", errno.EOPNOTSUPP)):
            raise
        _fill(fd, size)  # a file system without preallocation


def _fill(fd: int, size: int) -> None:
    """Preallocate by writing zeros (so a full disk shows here, not as a SIGBUS later)."""
    end = os.fstat(fd).st_size
    zeros = bytes(min(1 << 20, max(size - end, 0)))
    while end < size:
        end += os.pwrite(fd, zeros[: size - end], end)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
