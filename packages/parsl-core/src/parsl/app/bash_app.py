"""0.5.0 import path of :class:`BashApp`."""
from .app import BashApp

__all__ = ["BashApp"]
