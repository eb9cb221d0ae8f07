"""What the kernel knows about one task: a slotted record, not a dict.

Functions written for today's upstream Parsl (``retry_handler``, ``std_autopath``) receive it
and may read it as upstream's dict: ``record['id']``, ``record['func_name']``,
``record['kwargs']``, ``record['fail_count']``... (see :data:`DICT_KEYS`).
"""
from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable

from ..interfaces.task_feed import pack_full as _pack_full
from ..interfaces.task_feed import pack_local_try as _pack_local_try
from ..interfaces.task_feed import pack_state as _pack_state
from .states import Event, States, next_state

_time = time.time
logger = logging.getLogger(__name__)
_LAUNCHED, _RUNNING = States.launched, States.running

#: upstream task-record keys readable with ``record[key]``, and the attribute each reads
DICT_KEYS = {
    "id": "id",
    "func": "func",
    "func_name": "func_name",
    "fn_hash": "fn_hash",
    "hashsum": "memo_key",
    "args": "args",
    "kwargs": "kwargs",
    "app_fu": "app_fu",
    "exec_fu": "exec_fu",
    "status": "state",
    "depends": "depends",
    "fail_count": "fail_count",
    "fail_cost": "fail_cost",
    "memoize": "cache",
    "ignore_for_cache": "ignore_for_cache",
    "join": "join",
    "dfk": "dfk",
    "executor": "executor_label",
}

if TYPE_CHECKING:
    from ..interfaces import ParslExecutor, TaskFeed
    from .futures import AppFuture


class TaskRecord:
    """One task. ``func`` is what the executor runs; ``depends`` the futures it waits for."""

    __slots__ = (
        "app_fu",
        "args",
        "bash",
        "cache",
        "depends",
        "dfk",
        "exec_fu",
        "executor",
        "fail_cost",
        "fail_count",
        "fn_hash",
        "func",
        "func_name",
        "id",
        "ignore_for_cache",
        "internal",
        "join",
        "kwargs",
        "launched",
        "log",
        "memo_key",
        "pending",
        "run",
        "sites",
        "state",
        "submitted",
        "try_no",
    )
    #: monitoring only, set by the kernel (time.time()): when it was submitted, and when its
    #: latest try was launched (unset until then)
    submitted: float
    launched: float | None

    def __init__(
        self,
        id: int,
        func: Callable[..., Any],
        func_name: str,
        fn_hash: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        app_fu: AppFuture,
        sites: tuple[str, ...] | None,
        cache: bool,
        ignore_for_cache: tuple[str, ...],
        join: bool,
        dfk: Any = None,
        internal: bool = False,
    ) -> None:
        self.id = id
        self.func = func
        self.func_name = func_name
        self.fn_hash = fn_hash
        self.args = args
        self.kwargs = kwargs
        self.app_fu = app_fu
        self.sites = sites
        self.state = States.pending
        self.fail_count = 0
        self.fail_cost = 0.0
        self.depends: list[Future[Any]] | None = None
        self.pending = 0
        self.cache = cache
        self.ignore_for_cache = ignore_for_cache
        self.memo_key: str | None = None
        self.join = join
        self.internal = internal
        self.dfk = dfk
        self.executor: ParslExecutor | None = None
        self.exec_fu: Future[Any] | None = None
        self.bash = False  # a bash app (its success means exit code 0)
        self.log: TaskFeed | None = None  # the monitor's feed, when monitoring is on
        # monitoring only: the try under way (set at launch), and where and when it ran: a
        # RunInfo, or the future of an executor that times its runs on this process's threads;
        # ``submitted`` and ``launched`` (time.time()) are set by the kernel when monitoring
        self.try_no = 0
        self.run: Any = None

    def on(self, event: Event) -> States:
        """Apply ``event`` to this task's state (see :mod:`parsl.dataflow.states`) and, when
        monitoring, record it: a move out of a try as that try's row, other moves as state
        rows. Launches are recorded by the kernel, which knows the executor by then."""
        old = self.state
        self.state = new = next_state(old, event)
        log = self.log
        # (a first launch, from pending, is recorded by the kernel's _send: skip it early)
        if log is not None and (new is not _LAUNCHED or old is _LAUNCHED or old is _RUNNING):
            try:  # free in CPython 3.11 unless it raises
                ex = self.executor
                label = ex.label if ex is not None else None  # executor_label, inline on the hot path
                if (old is _LAUNCHED or old is _RUNNING) and new is not _RUNNING:  # a try ended
                    run, self.run = self.run, None
                    if run is None or isinstance(run, tuple):
                        log.publish(self.id)
                        log.try_ended(self.id, self.try_no, label, run, new._value_, _time())
                    else:  # a python app timed by a thread of this process: its future has the run
                        # the row is packed here, unrolled (the hot path): a FULL row when this
                        # task's row is not out yet (see parsl.interfaces.task_feed), else a short one
                        codes = log.codes
                        if log.unpublished.pop(self.id, None) is not None:
                            log.full.append(_pack_full(self.id, codes[self.func_name], self.submitted, self.try_no, codes[label], self.launched, codes[run.parsl_thread], run.parsl_started, run.parsl_ended, log.state_codes[new._value_]))
                        else:
                            log.local_tries.append(_pack_local_try(self.id, self.try_no, codes[label], codes[run.parsl_thread], run.parsl_started, run.parsl_ended, log.state_codes[new._value_]))
                else:
                    log.publish(self.id)
                    # feed.state(...) unrolled; _value_, not .value: Enum.value is a property
                    log.states.append(_pack_state(self.id, self.fail_count, log.state_codes[new._value_], _time(), log.codes[label]))
            except Exception:  # a bug of monitoring's must not leave the task unfinished
                self.log = None
                logger.exception("monitoring could not record task %d moving to %s; it records nothing more of it", self.id, new._value_)
        return new

    @property
    def executor_label(self) -> str | None:
        ex = self.executor
        return ex.label if ex is not None else None

    def __getitem__(self, key: str) -> Any:
        """Upstream's dict view: ``record['id']``, ``record['kwargs']``, ..."""
        try:
            return getattr(self, DICT_KEYS[key])
        except KeyError:
            raise KeyError(f"task records have no key {key!r}; readable keys: {', '.join(sorted(DICT_KEYS))}") from None

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __repr__(self) -> str:
        return f"<TaskRecord {self.id} {self.func_name} {self.state.value}>"
