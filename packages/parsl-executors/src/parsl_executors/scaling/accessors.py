"""The read-only properties shared by the executors that keep their blocks in a
:class:`~.blocks.BlockTable` (htex, ipp, swift_t).

::

    executor._policy ───────────▶ policy            the ScalingPolicy it was built with
    executor._block_provider() ─▶ scaling_enabled   the provider's, False without one
    executor._blocks ───────────▶ blocks            block id → provider job id

Put :class:`BlockAccessors` before ``ParslExecutor`` in the bases: ``scaling_enabled`` is
abstract there, and so is ``policy`` in :class:`~.strategy.BlockScalable`.
"""
from __future__ import annotations

from abc import ABC, abstractmethod

from parsl.interfaces import ExecutionProvider

from .blocks import BlockTable
from .decision import ScalingPolicy


class BlockAccessors(ABC):
    """``policy``, ``scaling_enabled`` and ``blocks`` of an executor with ``_policy`` and
    ``_blocks``; it names its provider through :meth:`_block_provider`."""

    _policy: ScalingPolicy
    _blocks: BlockTable

    @abstractmethod
    def _block_provider(self) -> ExecutionProvider | None:
        """Where the blocks come from (None: none, so no scaling)."""

    @property
    def policy(self) -> ScalingPolicy:
        return self._policy

    @property
    def scaling_enabled(self) -> bool:
        provider = self._block_provider()
        return provider is not None and provider.scaling_enabled

    @property
    def blocks(self) -> dict[str, str]:
        """Block id → provider job id, for blocks not known to have ended."""
        return self._blocks.jobs()
