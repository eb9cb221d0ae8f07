"""Files and the movement of data between where it lives and where apps run."""
from .files import File

__all__ = ["File"]
