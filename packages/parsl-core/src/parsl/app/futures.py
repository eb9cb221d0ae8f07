"""DataFutures: futures for the files an app produces (0.5.0 path ``parsl.app.futures``)."""
from __future__ import annotations

from concurrent.futures import Future
from typing import Any

from ..data_provider.files import File
from ..dataflow.lean_future import LeanFuture


class DataFuture(LeanFuture):
    """A datafuture points at an AppFuture.

    It resolves, to its :class:`~parsl.data_provider.files.File` (a ``str`` holding the
    filepath), when the app that produces the file completes, and fails with that app's
    exception if the app fails.
    """

    def __init__(
        self,
        fut: Future[Any] | None,
        file_obj: str | File,
        parent: Any = None,
        tid: int | None = None,
        *,
        take_parent_file: bool = False,
    ) -> None:
        super().__init__()
        # staging futures resolve to the File they produced (the staged copy)
        self._take_parent_file = take_parent_file
        self.file_obj = file_obj if isinstance(file_obj, File) else File(file_obj)
        self.parent = fut if fut is not None else parent
        self._tid = tid
        if fut is not None:
            fut.add_done_callback(self.parent_callback)

    def parent_callback(self, parent_fu: Future[Any]) -> None:
        """Callback from the app's future: resolve to the file, or to the app's exception."""
        exc = parent_fu.exception()
        if exc is not None:
            self.set_exception(exc)
        elif self._take_parent_file and isinstance(parent_fu.result(), File):
            self.set_result(parent_fu.result())
        else:
            self.set_result(self.file_obj)

    @property
    def tid(self) -> int | None:
        """Returns the task_id of the task that will resolve this DataFuture."""
        return self._tid

    @property
    def filepath(self) -> str:
        """Filepath of the File object this datafuture represents."""
        return self.file_obj.filepath

    @property
    def filename(self) -> str:
        """Filepath of the File object this datafuture represents."""
        return self.file_obj.filename

    def cancel(self) -> bool:
        """Cancel the task that this DataFuture is tracking (only possible before it runs)."""
        parent = self.parent
        if parent is not None and not parent.cancel():
            return False
        return super().cancel()

    def __repr__(self) -> str:
        state = self._state.lower()
        return f"<DataFuture at {id(self):#x} state={state} file={self.file_obj!r} tid={self._tid}>"
