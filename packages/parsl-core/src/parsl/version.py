"""0.5.0's ``parsl.version``: ``VERSION``, the installed parsl-core version."""
from typing import Any


def __getattr__(name: str) -> Any:
    if name == "VERSION":
        import parsl

        return parsl.__version__
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
