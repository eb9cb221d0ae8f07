"""The memoizer methods of the 0.5.0 developer guide, on every memoizer of this version.

0.5.0 kept ``memo_lookup_table``: hash → a done Future, and the DFK called these methods with
its task dicts. Here they take such a dict (``func_name``, ``fn_hash``, ``args``, ``kwargs``,
``memoize``) or a task record, and work on the memoizer's own table.
"""
from __future__ import annotations

from concurrent.futures import Future
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any


def as_memo_task(task: Any, task_id: Any = None) -> Any:
    """A 0.5.0 task dict as the task a memoizer reads (a task record is returned as is)."""
    if not isinstance(task, dict):
        return task
    return SimpleNamespace(
        id=task.get("id", task_id),
        func_name=task.get("func_name", ""),
        fn_hash=task.get("fn_hash") or "",
        args=tuple(task.get("args", ())),
        kwargs=dict(task.get("kwargs", {})),
        ignore_for_cache=tuple(task.get("ignore_for_cache", ())),
        cache=bool(task.get("memoize", True)),
    )


def _done(value: Any, exception: BaseException | None = None) -> Future[Any]:
    f: Future[Any] = Future()
    if exception is not None:
        f.set_exception(exception)
    else:
        f.set_result(value)
    return f


def _hit_future(hit: Any) -> Future[Any]:
    return _done(hit.value, getattr(hit, "exception", None))


class Memo050Methods:
    """``make_hash``, ``check_memo``, ``hash_lookup`` and ``update_memo`` as 0.5.0 documents
    them. The class using this mixin provides ``enabled``, ``key()``, ``lookup()``,
    ``update()`` and ``_table``."""

    enabled: bool
    _table: dict[str, Any]

    if TYPE_CHECKING:  # provided by the memoizer

        def key(self, task: Any) -> str: ...

        def lookup(self, task: Any) -> Any: ...

        def update(self, task: Any, result: Any) -> None: ...

    def make_hash(self, task: Any) -> str:
        """Create a hash of the task inputs (the cache key of this version)."""
        return self.key(as_memo_task(task))

    def check_memo(self, task_id: Any, task: Any) -> tuple[bool, Future[Any] | None]:
        """Look the task up: ``(present, future of the result)``; with caching off for it,
        ``(False, None)``. A task dict gets its ``hashsum`` set, as in 0.5.0."""
        t = as_memo_task(task, task_id)
        if not (self.enabled and t.cache):
            if isinstance(task, dict):
                task["hashsum"] = None
            return False, None
        hashsum = self.key(t)
        if isinstance(task, dict):
            task["hashsum"] = hashsum
        hit = self.lookup(t)
        return (True, _hit_future(hit)) if hit is not None else (False, None)

    def hash_lookup(self, hashsum: str) -> Future[Any]:
        """The done future of the result stored under ``hashsum``; KeyError when absent."""
        if hashsum not in self._table:
            raise KeyError(hashsum)
        probe = SimpleNamespace(memo_key=hashsum, cache=True)
        hit = self.lookup(probe)
        if hit is None:
            raise KeyError(hashsum)
        return _hit_future(hit)

    def update_memo(self, task_id: Any, task: Any, r: Any) -> None:
        """Remember the result of the done future ``r`` (a failure is not remembered)."""
        t = as_memo_task(task, task_id)
        if not (self.enabled and t.cache):
            return
        if isinstance(r, Future):
            if r.exception() is not None:
                return
            r = r.result()
        self.update(t, r)
