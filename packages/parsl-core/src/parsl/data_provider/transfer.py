"""A base for staging providers that move one file with one blocking call (HTTP, FTP, ...).

::

    TransferStaging.stage_in ── executor shares our filesystem? ── yes ─▶ dm.transfer(fetch)
                                                                          on the manager's threads
                                                              └─ no ──▶ replace_task: InTask
                                                                        (fetch on the worker, then func)
    TransferStaging.stage_out ─ same choice ─▶ push after the app succeeded

A subclass writes :meth:`fetch` (and :meth:`push` if it can upload); :func:`atomic_target`
gives it a temporary file beside the destination that takes the destination's name only once
complete, so no partial file ever stands where the app looks.
"""
from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator

from ..interfaces.staging import Staging
from .errors import StagingError

if TYPE_CHECKING:
    from .data_manager import DataManager
    from .files import File


@contextlib.contextmanager
def atomic_target(path: str) -> Iterator[str]:
    """Yield a temporary path in ``path``'s directory; on success it is renamed to ``path``,
    on any error it is removed."""
    directory, name = os.path.split(os.path.abspath(path))
    if not os.path.isdir(directory):
        os.makedirs(directory, exist_ok=True)
    # a name no other transfer uses (the writer creates the file)
    tmp = os.path.join(directory, f".{name}.{os.urandom(6).hex()}.partial")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class TransferStaging(Staging):
    """Staging by one blocking call per file. Subclasses set ``schemes`` and write
    :meth:`fetch`; those that can upload set ``can_push = True`` and write :meth:`push`.
    ``in_task = False`` keeps transfers on the submitting side even for executors whose
    workers stage (a Globus transfer is submitted by the client whatever the executor)."""

    can_push: ClassVar[bool] = False
    in_task: ClassVar[bool] = True

    def fetch(self, file: File, local_path: str) -> None:
        """Copy the remote ``file`` to ``local_path`` (blocking)."""
        raise NotImplementedError

    def push(self, local_path: str, file: File) -> None:
        """Copy ``local_path`` to where the remote ``file`` points (blocking)."""
        raise NotImplementedError(f"{type(self).__name__} cannot stage files out")

    def can_stage_out(self, file: File) -> bool:
        return self.can_push and super().can_stage_out(file)

    def fetch_into(self, file: File, local_path: str) -> None:
        """:meth:`fetch`, its destination directory made first."""
        directory = os.path.dirname(os.path.abspath(local_path))
        if not os.path.isdir(directory):
            os.makedirs(directory, exist_ok=True)
        self.fetch(file, local_path)

    def _on_worker(self, dm: DataManager, executor: str) -> bool:
        return self.in_task and dm.stages_on_workers(executor)

    def stage_in(self, dm: DataManager, executor: str, file: File, parent_fut: Future[Any] | None) -> Future[Any] | None:
        file.local_path = dm.local_path_for(executor, file)
        if self._on_worker(dm, executor):
            return None
        local = file.local_path
        return dm.transfer(file, "in", lambda: self.fetch_into(file, local), after=parent_fut)

    def replace_task(self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]) -> Callable[..., Any] | None:
        if not self._on_worker(dm, executor):
            return None
        return InTask(self, "in", file, dm.local_path_for(executor, file), func)

    def stage_out(self, dm: DataManager, executor: str, file: File, app_fu: Future[Any]) -> Future[Any] | None:
        if not file.local_path:
            file.local_path = dm.local_path_for(executor, file)
        if self._on_worker(dm, executor):
            return None
        local = file.local_path
        return dm.transfer(file, "out", lambda: self.push(local, file), after=app_fu)

    def replace_task_stage_out(self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]) -> Callable[..., Any] | None:
        if not self._on_worker(dm, executor):
            return None
        return InTask(self, "out", file, file.local_path or dm.local_path_for(executor, file), func)


class InTask:
    """A task function that fetches one file before the task (``direction='in'``) or pushes
    one it produced after it (``'out'``); pickled to the worker with the task."""

    def __init__(self, staging: TransferStaging, direction: str, file: File, local_path: str, func: Callable[..., Any]) -> None:
        self.staging, self.direction, self.file, self.local_path, self.func = staging, direction, file, local_path, func
        self.__name__ = getattr(func, "__name__", "task")

    def _move(self) -> None:
        try:
            if self.direction == "in":
                self.staging.fetch_into(self.file, self.local_path)
            else:
                self.staging.push(self.local_path, self.file)
        except StagingError:
            raise
        except Exception as e:
            raise StagingError(self.file.url, self.direction, f"{type(e).__name__}: {e}") from e

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.direction == "in":
            self._move()
            return self.func(*args, **kwargs)
        result = self.func(*args, **kwargs)
        self._move()
        return result
