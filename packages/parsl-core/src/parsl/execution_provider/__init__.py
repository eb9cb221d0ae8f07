"""0.5.0's ``parsl.execution_provider`` package: the execution-provider interface. The
providers themselves are in the ``libsubmit`` distribution (``libsubmit.providers.*``)."""
from ..interfaces.provider import ExecutionProvider

__all__ = ["ExecutionProvider"]
