"""Upstream Parsl's import path of the no-op staging of local files."""
from .file_staging import FileStaging as NoOpFileStaging

__all__ = ["NoOpFileStaging"]
