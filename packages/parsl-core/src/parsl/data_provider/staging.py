"""Upstream Parsl's import path of the staging-provider base class (it is
:class:`parsl.interfaces.Staging`: one contract, two names)."""
from ..interfaces.staging import Staging

__all__ = ["Staging"]
