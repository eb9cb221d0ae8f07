"""The memoizer interface: how the kernel asks "have we computed this call before?".

::

    DataFlowKernel ── lookup(task) ──▶ Memoizer ──▶ MemoHit(value) | None
                   ── update(task, result) ──▶ (remember a successful result)
                   ── update_exception(task, exc) ──▶ (remember a failure, for this run)
                   ── checkpoint() ──▶ checkpoint directory | None
                   ── load_checkpoints(paths) ──▶ results of earlier runs, by key
                   ── close() ──▶ (final checkpoint in dfk_exit mode, release files)
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence


class MemoTask(Protocol):
    """What a memoizer may read from a task."""

    id: int
    func_name: str
    fn_hash: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    ignore_for_cache: tuple[str, ...]
    cache: bool


@dataclass(frozen=True)
class MemoHit:
    """A result found for a task's key: its value, or the exception an identical call
    failed with earlier in the run."""

    value: Any
    exception: BaseException | None = None


class Memoizer(ABC):
    """Remembers results of cached apps across calls (and, with checkpoints, across runs)."""

    def start(self, run_dir: str) -> None:
        """Called once by the kernel with its run directory."""

    @abstractmethod
    def lookup(self, task: MemoTask) -> MemoHit | None:
        """The remembered result for ``task``, or ``None``. May raise an error naming an
        argument that cannot be keyed; the kernel fails the task with it."""

    @abstractmethod
    def update(self, task: MemoTask, result: Any) -> None:
        """Remember the successful ``result`` of ``task`` (after retries are exhausted)."""

    def update_exception(self, task: MemoTask, exception: BaseException) -> None:
        """Remember that ``task`` failed (after retries), so identical calls later in the run
        fail the same way. Default: not remembered."""

    def checkpoint(self) -> str | None:
        """Write what changed since the last checkpoint; return the checkpoint directory."""
        return None

    def load_checkpoints(self, paths: Sequence[str]) -> Mapping[str, Any]:
        """Reuse results checkpointed by earlier runs (run directories, checkpoint directories
        or files). A memoizer that keeps no checkpoints refuses."""
        from ..errors import ConfigurationError

        raise ConfigurationError(f"the memoizer {type(self).__name__} cannot load checkpoints", "memoizer")

    def close(self) -> None:
        """Flush and release. Idempotent."""
