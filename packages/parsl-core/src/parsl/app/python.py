"""Today's upstream import path of :class:`PythonApp`."""
from .app import PythonApp

__all__ = ["PythonApp"]
