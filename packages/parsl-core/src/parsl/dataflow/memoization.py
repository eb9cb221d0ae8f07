"""App caching: the cache key of a call and the in-memory memoizer.

The key of a call covers the app function's name, its body (``fn_hash``: a hash of its source,
or of its code object when there is no source), every positional argument and every keyword
argument (``inputs`` and ``outputs`` included; keyword order and dict order do not matter),
except the names listed in ``ignore_for_cache``.

Arguments become key bytes through :func:`id_for_memo`, a ``functools.singledispatch``
function; register a key function for your own types::

    @id_for_memo.register(MyType)
    def _(obj, output_ref=False):
        return obj.stable_bytes()

A type with no key function gives :class:`~parsl.app.errors.UnkeyableArgument` on the call's
future, naming the type (pickling arbitrary objects does not give stable keys).
"""
from __future__ import annotations

import dataclasses
import enum
import hashlib
import inspect
import marshal
import threading
from functools import singledispatch
from typing import Any, Callable

from ..app.errors import UnkeyableArgument
from ..data_provider.files import File
from ..interfaces.memoizer import MemoHit, Memoizer, MemoTask


class _Unkeyable(Exception):
    def __init__(self, obj: Any) -> None:
        self.obj = obj


@singledispatch
def id_for_memo(obj: Any, output_ref: bool = False) -> bytes:
    """Stable bytes identifying ``obj`` for the cache key."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
        return b"D" + _qualname(type(obj)) + id_for_memo(fields)
    if isinstance(obj, enum.Enum):
        return b"E" + _qualname(type(obj)) + id_for_memo(obj.value)
    raise _Unkeyable(obj)


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
    return _tagged(b"i", str(int(obj)).encode())


@id_for_memo.register(float)
def _float(obj: float, output_ref: bool = False) -> bytes:
    return _tagged(b"f", float(obj).hex().encode())


@id_for_memo.register(complex)
def _complex(obj: complex, output_ref: bool = False) -> bytes:
    return _tagged(b"c", f"{obj.real.hex()},{obj.imag.hex()}".encode())


@id_for_memo.register(str)
def _str(obj: str, output_ref: bool = False) -> bytes:
    return _tagged(b"s", obj.encode("utf-8", "surrogatepass"))


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
    return _tagged(tag, b"".join(id_for_memo(x, output_ref) for x in obj))


@id_for_memo.register(set)
@id_for_memo.register(frozenset)
def _set(obj: Any, output_ref: bool = False) -> bytes:
    return _tagged(b"S", b"".join(sorted(id_for_memo(x, output_ref) for x in obj)))


@id_for_memo.register(dict)
def _dict(obj: dict[Any, Any], output_ref: bool = False) -> bytes:
    items = sorted(id_for_memo(k) + id_for_memo(v, output_ref) for k, v in obj.items())
    return _tagged(b"M", b"".join(items))


@id_for_memo.register(range)
def _range(obj: range, output_ref: bool = False) -> bytes:
    return _tagged(b"R", f"{obj.start},{obj.stop},{obj.step}".encode())


def function_hash(func: Callable[..., Any]) -> str:
    """A hash of the function's body: its source if available, else its code object."""
    target = inspect.unwrap(func)
    try:
        body = inspect.getsource(target).encode()
    except (OSError, TypeError):
        code = getattr(target, "__code__", None)
        body = marshal.dumps(code) if code is not None else repr(target).encode()
    return hashlib.sha256(body).hexdigest()


def make_key(task: MemoTask) -> str:
    """The cache key of a call (see the module docstring)."""
    h = hashlib.sha256()
    h.update(task.func_name.encode() + b"\0" + task.fn_hash.encode() + b"\0")
    ignore = task.ignore_for_cache
    try:
        for i, a in enumerate(task.args):
            where = f"args[{i}]"
            h.update(id_for_memo(a))
        for name in sorted(task.kwargs):
            if name in ignore:
                continue
            where = name
            h.update(_tagged(b"k", name.encode()) + id_for_memo(task.kwargs[name], output_ref=(name == "outputs")))
    except _Unkeyable as u:
        raise UnkeyableArgument(where, f"{type(u.obj).__module__}.{type(u.obj).__qualname__}") from None
    return h.hexdigest()


class BasicMemoizer(Memoizer):
    """Results of cached calls kept in memory for the life of the kernel."""

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
            return MemoHit(table[key])
        return None

    def update(self, task: MemoTask, result: Any) -> None:
        if not (self.enabled and task.cache):
            return
        key = self.key(task)
        with self._lock:
            self._table[key] = result

    def __len__(self) -> int:
        return len(self._table)
