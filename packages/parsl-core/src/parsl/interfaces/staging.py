"""The staging interface: moving a :class:`~parsl.data_provider.files.File` between where it
lives (its URL scheme) and where an app runs.

::

    DataManager ── can_stage_in(file)? ──▶ Staging (first that says yes, by scheme)
                ── stage_in(file, working_dir) ──▶ local File (blocking; the DataManager runs
                                                  it off the caller's thread and hands out a
                                                  DataFuture)
"""
from __future__ import annotations

from abc import ABC
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:
    from ..data_provider.files import File


class Staging(ABC):
    """One way of moving files. Every method has a do-nothing default."""

    #: URL schemes this staging handles, e.g. ``("file",)`` or ``("http", "https")``
    schemes: ClassVar[tuple[str, ...]] = ()

    def can_stage_in(self, file: File) -> bool:
        return file.scheme in self.schemes

    def can_stage_out(self, file: File) -> bool:
        return file.scheme in self.schemes

    def stage_in(self, file: File, working_dir: str | None) -> File:
        """Make ``file`` readable locally; return the local File. Default: already local."""
        return file

    def stage_out(self, file: File, working_dir: str | None) -> None:
        """Send a locally produced ``file`` to where its URL points. Default: nothing to do."""
