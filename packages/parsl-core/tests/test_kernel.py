"""The DataFlowKernel's own decisions, with real threads: retries, lazy and eager failure,
cancellation, submission failures, join apps, its public properties."""
from __future__ import annotations
