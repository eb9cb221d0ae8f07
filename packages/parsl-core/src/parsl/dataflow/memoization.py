"""App caching: the cache key of a call, and the memoizers (in memory; with checkpoints).

The key of a call covers the app function's name, its identity and body (``fn_hash``: a hash
of its module, qualified name and source, or of its code object when there is no source; so
editing the body changes the key, unlike upstream Parsl), every positional argument and every
keyword argument (``inputs`` and ``outputs`` included; keyword order and dict order do not
matter), except the keyword arguments named in ``ignore_for_cache``. Keys are the same in
every process, so checkpoints written by one run are found by the next.

Arguments become key bytes through :func:`id_for_memo`, a ``functools.singledispatch``
function; register a key function for your own types::

    @id_for_memo.register(MyType)
    def _(obj, output_ref=False):
        return obj.stable_bytes()

A key function may return any picklable value instead of bytes (upstream's key functions
return strings, lists...); it is pickled into the key.

A type with no key function gives :class:`~parsl.app.errors.UnkeyableArgument` on the call's
future, naming the type (pickling arbitrary objects does not give stable keys).
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import inspect
import logging
import os
import pickle
import threading
import time
import types
from concurrent.futures import Future
from functools import singledispatch
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ..app.errors import UnkeyableArgument
from ..data_provider.files import File
from ..interfaces.memoizer import MemoHit, MemoTask
from ..interfaces.memoizer import Memoizer as MemoizerInterface
from ..interfaces.provider import parse_walltime
from . import checkpoint_store
from .checkpoint_050 import write_run_record
from .checkpoint_store import CHECKPOINT_DIR, CheckpointWriter, Entry, encode
from .memo_050 import Memo050Methods

if TYPE_CHECKING:
    from ..config import Config

logger = logging.getLogger("parsl.dataflow.memoization")


class _Unkeyable(Exception):
    def __init__(self, obj: Any, detail: str = "") -> None:
        self.obj = obj
        self.detail = detail


@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Stable bytes identifying ``obj`` for the cache key."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
        return b"D" + _qualname(type(obj)) + key_bytes(fields)
    if isinstance(obj, enum.Enum):
        return b"E" + _qualname(type(obj)) + key_bytes(obj.value)
    raise _Unkeyable(obj)


def key_bytes(obj: Any, output_ref: bool = False) -> bytes:
    """``id_for_memo(obj)`` as bytes: a key function that returns another picklable value
    has it pickled (tagged, so it cannot collide with a bytes result)."""
    k = id_for_memo(obj, output_ref)
    if type(k) is bytes:
        return k
    if isinstance(k, (bytes, bytearray, memoryview)):
        return bytes(k)
    try:
        return _tagged(b"p", pickle.dumps(k, protocol=4))
    except Exception as e:
        raise _Unkeyable(obj, f"its key function returned an unpicklable {type(k).__name__}: {e}") from None


def _qualname(t: type) -> bytes:
    return f"{t.__module__}.{t.__qualname__}".encode() + b"\0"


def _tagged(tag: bytes, payload: bytes) -> bytes:
    return tag + len(payload).to_bytes(8, "little") + payload


@id_for_memo.register(type(None))
def _none(obj: None, output_ref: bool = False) -> bytes:
    return b"N"


@id_for_memo.register(bool)
def _bool(obj: bool, output_ref: bool = False) -> bytes:
    return b"T" if obj else b"F"


@id_for_memo.register(int)
def _int(obj: int, output_ref: bool = False) -> bytes:
    s = str(int(obj)).encode()
    return b"i" + len(s).to_bytes(8, "little") + s  # _tagged, inlined: ints are the common case


@id_for_memo.register(float)
def _float(obj: float, output_ref: bool = False) -> bytes:
    return _tagged(b"f", float(obj).hex().encode())


@id_for_memo.register(complex)
def _complex(obj: complex, output_ref: bool = False) -> bytes:
    return _tagged(b"c", f"{obj.real.hex()},{obj.imag.hex()}".encode())


@id_for_memo.register(str)
def _str(obj: str, output_ref: bool = False) -> bytes:
    s = obj.encode("utf-8", "surrogatepass")
    return b"s" + len(s).to_bytes(8, "little") + s


@id_for_memo.register(bytes)
def _bytes(obj: bytes, output_ref: bool = False) -> bytes:
    return _tagged(b"b", bytes(obj))


@id_for_memo.register(File)
def _file(obj: File, output_ref: bool = False) -> bytes:
    return _tagged(b"P", obj.url.encode("utf-8", "surrogatepass"))


@id_for_memo.register(list)
@id_for_memo.register(tuple)
def _seq(obj: Any, output_ref: bool = False) -> bytes:
    tag = b"L" if isinstance(obj, list) else b"U"
    return _tagged(tag, b"".join(key_bytes(x, output_ref) for x in obj))


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _set(obj: Any, output_ref: bool = False) -> bytes:
    return _tagged(b"S", b"".join(sorted(key_bytes(x, output_ref) for x in obj)))


@id_for_memo.register(dict)
def _dict(obj: dict[Any, Any], output_ref: bool = False) -> bytes:
    items = sorted(key_bytes(k) + key_bytes(v, output_ref) for k, v in obj.items())
    return _tagged(b"M", b"".join(items))


@id_for_memo.register(range)
def _range(obj: range, output_ref: bool = False) -> bytes:
    return _tagged(b"R", f"{obj.start},{obj.stop},{obj.step}".encode())


def function_hash(func: Callable[..., Any]) -> str:
    """A hash of the function's module, qualified name and body: its source if available,
    else its code object (hashed the same in every process, unlike ``marshal`` output, which
    depends on reference counts)."""
    target = inspect.unwrap(func)
    where = f"{getattr(target, '__module__', None)}.{getattr(target, '__qualname__', None)}\0".encode()
    try:
        body = where + b"src" + inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        if code is not None:
            body = where + b"code" + _code_bytes(code) + _defaults_bytes(target)
        else:
            body = where + f"{type(target).__module__}.{type(target).__qualname__}".encode()
    return hashlib.sha256(body).hexdigest()


def _defaults_bytes(func: Any) -> bytes:
    """The default argument values, which the source shows and the code object does not."""
    defaults = (tuple(getattr(func, "__defaults__", None) or ()), dict(getattr(func, "__kwdefaults__", None) or {}))
    try:
        return _tagged(b"d", key_bytes(defaults))
    except Exception:  # a default no key function knows: its type, at least
        return _tagged(b"d", repr([type(d).__qualname__ for d in (*defaults[0], *defaults[1].values())]).encode())


def _code_bytes(code: types.CodeType) -> bytes:
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars, code.co_argcount)).encode()]
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            parts.append(_code_bytes(c))
        elif isinstance(c, frozenset):  # its repr order changes with the string hash seed
            parts.append(repr(sorted(repr(x) for x in c)).encode())
        else:
            parts.append(repr(c).encode())
    return b"".join(_tagged(b"c", p) for p in parts)


#: the built-in key functions of exact atom types, called without singledispatch's lookup
#: while they are still the registered ones (a user may register their own for these types)
_ATOM_KEYS: dict[type, Callable[..., bytes]] = {
    int: _int,
    str: _str,
    float: _float,
    bool: _bool,
    bytes: _bytes,
    type(None): _none,
}
_REGISTRY = id_for_memo.registry
_PREFIXES: dict[tuple[str, str], bytes] = {}


def make_key(task: MemoTask) -> str:
    """The cache key of a call (see the module docstring)."""
    names = (task.func_name, task.fn_hash)
    prefix = _PREFIXES.get(names)
    if prefix is None:
        prefix = _PREFIXES[names] = task.func_name.encode() + b"\0" + task.fn_hash.encode() + b"\0"
    parts = [prefix]
    append = parts.append
    fast = _ATOM_KEYS
    registry = _REGISTRY
    pos, name = -1, None
    try:
        for pos, a in enumerate(task.args):  # noqa: B007  (pos names the argument in errors)
            t = type(a)
            f = fast.get(t)
            append(f(a) if f is not None and registry.get(t) is f else key_bytes(a))
        kwargs = task.kwargs
        if kwargs:
            ignore = task.ignore_for_cache
            for name in sorted(kwargs):
                if name in ignore:
                    continue
                append(_tagged(b"k", name.encode()) + key_bytes(kwargs[name], output_ref=(name == "outputs")))
    except _Unkeyable as u:
        where = name if name is not None else f"args[{pos}]"
        raise UnkeyableArgument(where, f"{type(u.obj).__module__}.{type(u.obj).__qualname__}", u.detail) from None
    return hashlib.sha256(b"".join(parts)).hexdigest()


class _Failed:
    """A cached call's failure, kept for the rest of the run (never checkpointed)."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


class InMemoryMemoizer(Memo050Methods, MemoizerInterface):
    """Results of cached calls kept in memory for the life of the kernel (no checkpoints)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._table: dict[str, Any] = {}
        self._lock = threading.Lock()

    def key(self, task: MemoTask) -> str:
        key = getattr(task, "memo_key", None)
        if key is None:
            key = make_key(task)
            try:
                task.memo_key = key  # type: ignore[attr-defined]
            except AttributeError:
                pass
        return key

    def lookup(self, task: MemoTask) -> MemoHit | None:
        if not (self.enabled and task.cache):
            return None
        key = self.key(task)
        table = self._table
        if key in table:
            v = table[key]
            return MemoHit(None, v.exception) if type(v) is _Failed else MemoHit(v)
        return None

    def update(self, task: MemoTask, result: Any) -> None:
        if not (self.enabled and task.cache):
            return
        key = self.key(task)
        with self._lock:
            self._table[key] = result

    def update_exception(self, task: MemoTask, exception: BaseException) -> None:
        if not (self.enabled and task.cache):
            return
        key = self.key(task)
        with self._lock:
            self._table.setdefault(key, _Failed(exception))

    def __len__(self) -> int:
        return len(self._table)


_MISS = object()
#: in task_exit mode, fsync the checkpoint at most this often (each record is still written
#: to the file before its future completes, so a killed driver loses nothing it reported)
SYNC_INTERVAL = 1.0


class _Loaded:
    """A result read from a checkpoint and not unpickled yet."""

    __slots__ = ("entry",)

    def __init__(self, entry: Entry) -> None:
        self.entry = entry


class BasicMemoizer(InMemoryMemoizer):
    """The default memoizer: results in memory, checkpointed to ``<run_dir>/checkpoint/``.

    Upstream's keywords build it for ``Config(memoizer=...)``::

        BasicMemoizer(checkpoint_mode="task_exit")            # reuses every earlier run's checkpoints
        BasicMemoizer(checkpoint_files=get_last_checkpoint(), checkpoint_mode="periodic",
                      checkpoint_period="00:10:00")

    ``checkpoint_files`` None (the default) with a ``checkpoint_mode`` loads the checkpoints of
    every earlier run under the run directory's parent (``runinfo/``), as upstream does.

    ::

        update(task, result) ─▶ table[key] = result
                                 ├─ task_exit: encode + append to this run's file now
                                 └─ otherwise: key noted as pending
        checkpoint() ─▶ encode every pending key ─▶ one append + fsync ─▶ checkpoint dir
        periodic thread ─▶ checkpoint() every ``period`` s, until close()
        close() ─▶ dfk_exit / periodic: checkpoint();  then fsync, close the file
        lookup(task) ─▶ table[key] ─▶ a result read from an older run is unpickled on first
                        use and copied into this run's checkpoint, so the newest checkpoint
                        alone is enough to resume from

    Checkpoint loading (``checkpoint_files``) happens in :meth:`start`. With ``enabled``
    False (the global ``appCache``/``memoize`` switch off) nothing is cached, loaded or
    written.
    """

    def __init__(
        self,
        enabled: bool = True,
        mode: str | None = None,
        period: float | None = None,
        checkpoint_files: Sequence[str] | None = None,
        *,
        checkpoint_mode: str | None = None,
        checkpoint_period: str | None = None,
        memoize: bool | None = None,
    ) -> None:
        from ..config import CHECKPOINT_MODES

        if memoize is not None:
            enabled = bool(memoize)
        if checkpoint_mode is not None:
            mode = checkpoint_mode
        if checkpoint_period is not None:
            period = float(parse_walltime(checkpoint_period))
        if mode == "periodic" and period is None and checkpoint_mode is not None:
            period = float(parse_walltime("00:30:00"))
        # upstream's default: a checkpoint mode and no files given reuses every earlier run
        self._all_earlier = checkpoint_files is None and checkpoint_mode is not None

        if mode not in CHECKPOINT_MODES:
            raise ValueError(f"checkpoint mode must be one of {CHECKPOINT_MODES}, got {mode!r}")
        if mode == "periodic" and (period is None or period <= 0):
            raise ValueError(f"periodic checkpointing needs a positive period in seconds, got {period!r}")
        super().__init__(enabled)
        self.mode = mode
        self._task_exit = mode == "task_exit"
        self.period = period
        self.checkpoint_files = tuple(checkpoint_files or ())
        self.checkpoint_dir: str | None = None
        self._writer: CheckpointWriter | None = None
        self._wlock = threading.Lock()
        self._pending: dict[str, str] = {}  # key -> the app's name, for warnings
        self._carry: list[bytes] = []
        self._last_sync = 0.0
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self._closed = False
        self._warned_unpicklable: set[str] = set()
        self._run_dir = ""
        self._written = 0

    # -- Memoizer ----------------------------------------------------------------------------

    def start(self, run_dir: str) -> None:
        if self._writer is not None and not self._closed:
            raise RuntimeError("this memoizer is in use by a live DataFlowKernel; give each kernel its own")
        self._closed = False  # a memoizer may serve one kernel after another
        self._stop = threading.Event()
        self._pending, self._carry = {}, []
        self.checkpoint_dir = os.path.join(run_dir, CHECKPOINT_DIR)
        self._run_dir, self._written = run_dir, 0
        if not self.enabled:
            if self.checkpoint_files or self.mode:
                logger.warning("app caching is off (appCache/memoize False): checkpoints are neither loaded nor written")
            return
        self._writer = CheckpointWriter(self.checkpoint_dir)
        if self._all_earlier:
            from ..utils import get_all_checkpoints

            earlier = [c for c in get_all_checkpoints(os.path.dirname(os.path.abspath(run_dir))) if os.path.abspath(c) != os.path.abspath(self.checkpoint_dir)]
            self.checkpoint_files = tuple(earlier)
        if self.checkpoint_files:
            self.load_checkpoints(self.checkpoint_files)
        if self.mode in ("task_exit", "periodic", "dfk_exit"):
            self._writer.open()  # the run's checkpoint exists (maybe empty) from the start
            self._write_run_record()
        if self.mode == "periodic":
            self._timer = threading.Thread(target=self._periodic, name="parsl-checkpoint", daemon=True)
            self._timer.start()

    def lookup(self, task: MemoTask) -> MemoHit | None:
        if not (self.enabled and task.cache):
            return None
        key = self.key(task)
        v = self._table.get(key, _MISS)
        if v is _MISS:
            return None
        if type(v) is _Loaded:
            return self._first_use(key, v)
        if type(v) is _Failed:
            return MemoHit(None, v.exception)
        return MemoHit(v)

    def update(self, task: MemoTask, result: Any) -> None:
        if not (self.enabled and task.cache):
            return
        key = self.key(task)
        if self._task_exit:
            try:
                record: bytes | None = encode(key, time.time_ns(), result)
            except Exception as e:
                self._unpicklable(task.func_name, e)
                record = None
            self._table[key] = result  # one dict store: atomic
            if record is not None:
                self._append(record)
            return
        with self._lock:
            self._table[key] = result
            self._pending[key] = task.func_name

    def checkpoint(self) -> str | None:
        """Write every result not yet checkpointed (and fsync); return the checkpoint
        directory (``None`` when caching is off)."""
        if not self.enabled or self._writer is None:
            return None
        if self._writer.closed:  # after cleanup: what is left goes to a file of its own
            assert self.checkpoint_dir is not None
            if not (self._pending or self._carry):
                return self.checkpoint_dir if os.path.isdir(self.checkpoint_dir) else None
            self._writer = CheckpointWriter(self.checkpoint_dir)
            try:
                return self._checkpoint()
            finally:
                self._writer.close()
        return self._checkpoint()

    def _checkpoint(self) -> str | None:
        assert self._writer is not None
        now = time.time_ns()
        with self._lock:
            keys, self._pending = self._pending, {}
            carry, self._carry = self._carry, []
            values = [(k, name, self._table[k]) for k, name in keys.items()]
        records = [r for k, name, v in values if (r := self._encode(k, now, v, name)) is not None]
        try:
            with self._wlock:
                self._writer.open()
                self._writer.append(b"".join(carry) + b"".join(records))
                self._writer.sync()
                self._last_sync = time.monotonic()
                self._written += len(records) + len(carry)
        except BaseException:
            with self._lock:  # nothing was written: keep it for the next checkpoint
                self._pending = {**keys, **self._pending}
                self._carry = carry + self._carry
            raise
        logger.info("checkpointed %d results to %s", len(records) + len(carry), self._writer.path)
        self._write_run_record()
        return self.checkpoint_dir

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        if self._writer is None:
            return
        try:
            if self.mode in ("dfk_exit", "periodic"):
                self.checkpoint()
        finally:
            with self._wlock:
                self._writer.close()
            if self.mode == "task_exit":
                self._write_run_record()

    # -- loading -----------------------------------------------------------------------------

    def load_checkpoints(self, paths: Sequence[str]) -> dict[str, Entry]:
        """Load the checkpoints ``paths`` stand for (run directories, checkpoint directories
        or files); the newest record wins for each key. Results are unpickled on first use.
        Returns what was read, by key."""
        if isinstance(paths, str):
            paths = [paths]
        if not self.enabled:
            logger.warning("app caching is off (appCache/memoize False): checkpoints %s not loaded", list(paths))
            return {}
        entries = checkpoint_store.load(paths)
        with self._lock:
            table = self._table
            for key, entry in entries.items():
                old = table.get(key, _MISS)
                if old is _MISS or (type(old) is _Loaded and old.entry.time_ns <= entry.time_ns):
                    table[key] = _Loaded(entry)
        logger.info("%d cached results loaded from %d checkpoint path(s)", len(entries), len(paths))
        return entries

    # -- internals ---------------------------------------------------------------------------

    def _first_use(self, key: str, loaded: _Loaded) -> MemoHit | None:
        with self._lock:
            v = self._table.get(key, _MISS)
            if type(v) is not _Loaded:  # another thread got here first, or it was replaced
                return None if v is _MISS else MemoHit(v)
            try:
                value = v.entry.value()
            except Exception as e:
                logger.warning("checkpointed result %s could not be unpickled (%s: %s); the task runs again", key, type(e).__name__, e)
                del self._table[key]
                return None
            self._table[key] = value
            if self.mode != "task_exit":
                self._carry.append(v.entry.frame)
        if self.mode == "task_exit":
            self._append(v.entry.frame)
        return MemoHit(value)

    def _encode(self, key: str, time_ns: int, value: Any, func_name: str) -> bytes | None:
        try:
            return encode(key, time_ns, value)
        except Exception as e:
            self._unpicklable(func_name, e)
            return None

    def _unpicklable(self, name: str, e: Exception) -> None:
        if name not in self._warned_unpicklable:
            self._warned_unpicklable.add(name)
            logger.warning("a result of %s cannot be pickled (%s: %s): it stays cached in memory but is not checkpointed", name, type(e).__name__, e)

    def _append(self, record: bytes) -> None:
        writer = self._writer
        if writer is None:
            return
        with self._wlock:
            if writer.closed:
                logger.warning("a result arrived after the checkpoint was closed; it is not checkpointed")
                return
            writer.append(record)
            self._written += 1
            now = time.monotonic()
            if now - self._last_sync >= SYNC_INTERVAL:
                writer.sync()
                self._last_sync = now

    def _write_run_record(self) -> None:
        """``checkpoint/dfk.pkl``, where 0.5.0 kept it (see :mod:`.checkpoint_050`)."""
        assert self.checkpoint_dir is not None
        try:
            write_run_record(self.checkpoint_dir, self._run_dir, self._written)
        except OSError as e:
            logger.warning("could not write %s/dfk.pkl: %s", self.checkpoint_dir, e)

    def _periodic(self) -> None:
        assert self.period is not None
        while not self._stop.wait(self.period):
            try:
                self.checkpoint()
            except Exception:
                logger.exception("periodic checkpoint failed")


#: the name this class had before it took upstream's
CheckpointMemoizer = BasicMemoizer


def from_config(cfg: Config) -> BasicMemoizer:
    """The memoizer a kernel uses when its config names none."""
    period = float(parse_walltime(cfg.checkpoint_period)) if cfg.checkpoint_period else None
    return BasicMemoizer(
        enabled=cfg.app_cache,
        mode=cfg.checkpoint_mode,
        period=period,
        checkpoint_files=cfg.checkpoint_files,
    )


class Memoizer(CheckpointMemoizer):
    """The 0.5.0 constructor: ``Memoizer(dfk, memoize=True, checkpoint={})``.

    ``memoize`` False disables caching; ``checkpoint`` is a dict of earlier results by hash
    (values or done futures, as ``DataFlowKernel.load_checkpoints`` returned in 0.5.0). Pass
    it to ``DataFlowKernel(memoizer=...)``; ``check_memo``, ``hash_lookup``, ``make_hash`` and
    ``update_memo`` work as documented (as on every memoizer of this version).
    """

    def __init__(self, dfk: Any = None, memoize: bool = True, checkpoint: Mapping[str, Any] | None = None) -> None:
        super().__init__(enabled=bool(memoize))
        self.dfk = dfk
        for key, value in (checkpoint or {}).items():
            if isinstance(value, Entry):
                self._table[key] = _Loaded(value)
            elif isinstance(value, Future):
                if value.done() and not value.cancelled() and value.exception() is None:
                    self._table[key] = value.result()
            else:
                self._table[key] = value
