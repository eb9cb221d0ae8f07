"""The provider interface at its 0.5.0 import path
(``libsubmit.providers.provider_base.ExecutionProvider``); it is
:class:`parsl.interfaces.ExecutionProvider`."""
from parsl.interfaces import ExecutionProvider, JobState

__all__ = ["ExecutionProvider", "JobState"]
