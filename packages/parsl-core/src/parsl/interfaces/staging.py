"""The staging interface: moving a :class:`~parsl.data_provider.files.File` between where it
lives (its URL scheme) and where an app runs. It is upstream Parsl's staging-provider contract
(also importable as ``parsl.data_provider.staging.Staging``), so providers written for
upstream plug in unchanged.

::

    app(inputs=[File('https://h/x')], outputs=[File('ftp://h/y')])
      │ DataManager, per remote File, asks the executor's storage_access (or the plugin
      │ registered for the File's scheme) in order: the first that can_stage_in / can_stage_out
      ├─ stage_in(dm, executor, file, parent_fut)  ─▶ DataFuture the app waits for, or None
      ├─ replace_task(dm, executor, file, func)     ─▶ func wrapped to fetch inside the task, or None
      ├─ stage_out(dm, executor, file, app_fu)      ─▶ future done when the file has left, or None
      └─ replace_task_stage_out(dm, executor, file, func) ─▶ func wrapped to push after it ran, or None

A provider may set ``file.local_path`` on the File it is given: that is where the app sees the
file (the app receives a File whose path is that local path).
"""
from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

if TYPE_CHECKING:
    from ..data_provider.data_manager import DataManager
    from ..data_provider.files import File


class Staging:
    """One way of moving files. Every method has a do-nothing default: a provider overrides
    the ones it needs. ``executor`` is the label of the executor the task runs on."""

    #: URL schemes this staging handles, e.g. ``("http", "https")``; used by the default
    #: :meth:`can_stage_in` / :meth:`can_stage_out`
    schemes: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_site_data(cls, data: Mapping[str, Any]) -> Staging:
        """The instance a 0.5.0 site's ``data`` block asks for (default: ``cls()``); the
        data manager calls this for plugins found by URL scheme."""
        return cls()

    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def can_stage_out(self, file: File) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, dm: DataManager, executor: str, file: File, parent_fut: Future[Any] | None) -> Future[Any] | None:
        """Start moving ``file`` to where ``executor`` runs apps; return a future (upstream's
        providers return a DataFuture) that the app waits for, or None when nothing has to happen before the task (``parent_fut`` is
        the future of the app producing ``file``, if any)."""
        return None

    def stage_out(self, dm: DataManager, executor: str, file: File, app_fu: Future[Any]) -> Future[Any] | None:
        """Arrange for ``file`` to be sent where its URL points once ``app_fu`` succeeds;
        return a future done when it has arrived, or None."""
        return None

    def replace_task(self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]) -> Callable[..., Any] | None:
        """A replacement for the task's function that stages ``file`` in first, inside the
        task (on the worker), or None."""
        return None

    def replace_task_stage_out(self, dm: DataManager, executor: str, file: File, func: Callable[..., Any]) -> Callable[..., Any] | None:
        """A replacement for the task's function that stages ``file`` out after it ran,
        inside the task, or None."""
        return None
