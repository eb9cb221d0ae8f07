"""0.5.0 import path of :class:`PythonApp`."""
from .app import PythonApp

__all__ = ["PythonApp"]
