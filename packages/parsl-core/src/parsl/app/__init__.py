"""Apps: python, bash and join apps, their futures and errors.

0.5.0 spells the decorator both ``App`` and ``app``, and ``from parsl import *`` exports
``app``; but ``parsl.app`` is also this subpackage (``parsl.app.errors``, ``parsl.app.futures``
are documented paths). So the subpackage module is itself callable: ``app('python', dfk)``
is ``App('python', dfk)``.
"""
from __future__ import annotations

import sys
import types
from typing import Any


class _CallableAppModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from .app import App

        return App(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableAppModule
