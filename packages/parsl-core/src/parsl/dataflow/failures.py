"""What a task's failure costs and leaves behind: the retry budget (``Config.retries`` spent by
``Config.retry_handler``, 1 per failure by default) and the in-run memo of a cached call's
failure."""
from __future__ import annotations

import logging
from typing import Any, Callable

from ..interfaces import Memoizer
from .taskrecord import TaskRecord

logger = logging.getLogger("parsl.dataflow")


def charge_failure(
    record: TaskRecord, exc: BaseException, handler: Callable[[BaseException, Any], float] | None, retries: int
) -> BaseException:
    """Add the cost of this failure to ``record.fail_cost``; return the exception the task
    carries on with. A handler that raises ends the retries, and its error (caused by the
    task's) becomes the task's."""
    if handler is None:
        record.fail_cost += 1
        return exc
    try:
        record.fail_cost += float(handler(exc, record))
    except Exception as e:
        logger.exception("the retry_handler raised on task %d; it is not retried", record.id)
        record.fail_cost = retries + 1
        if e.__cause__ is None:
            e.__cause__ = exc
        return e
    return exc


def memoize_failure(memoizer: Memoizer, record: TaskRecord, exc: BaseException) -> None:
    """A cached task that failed gives the same exception to identical calls later in the
    run (as upstream does); failures are never checkpointed."""
    try:
        memoizer.update_exception(record, exc)
    except Exception:
        logger.exception("could not memoize the failure of task %d", record.id)
