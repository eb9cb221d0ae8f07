"""Upstream's ``parsl.providers.base``: the provider interface (``parsl.interfaces``)."""
from ..interfaces.provider import ExecutionProvider, JobState

__all__ = ["ExecutionProvider", "JobState"]
