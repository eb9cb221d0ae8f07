"""Staging for ``file://`` URLs and plain paths: the file is already where apps run."""
from __future__ import annotations

from typing import ClassVar

from ..interfaces.staging import Staging


class FileStaging(Staging):
    """No-op staging for local files (registered as the ``file`` staging plugin)."""

    schemes: ClassVar[tuple[str, ...]] = ("file",)
