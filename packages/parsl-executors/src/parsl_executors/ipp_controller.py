"""The earlier path of :mod:`parsl_executors.ipp.controller` (``parsl.executors.ipp_controller``,
the 0.5.0 path, resolves through it)."""
from .ipp.controller import ATTACH_TIMEOUT, Controller, ControllerError, default_ipython_dir

__all__ = ["ATTACH_TIMEOUT", "Controller", "ControllerError", "default_ipython_dir"]
