"""The execution-provider interface: how executors obtain blocks of resources.

::

    +---------------------+
    |                     |
    | script_string ----->| submit
    |   job id     <------|----+
    |                     |
    | [ ids ]      ------>| status
    | [ JobState ] <------|----+
    |                     |
    | [ ids ]      ------>| cancel
    | [ bool ]     <------|----+
    |                     |
    | True/False   <------| scaling_enabled
    +---------------------+

Executors talk to providers only through this interface; channels and launchers are private
to providers.
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar, Mapping, Sequence


class JobState(str, enum.Enum):
    """The state of one block (one scheduler job)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    CANCELLED = "CANCELLED"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    TIMEOUT = "TIMEOUT"
    HELD = "HELD"
    UNKNOWN = "UNKNOWN"

    @property
    def terminal(self) -> bool:
        return self in _TERMINAL


_TERMINAL = frozenset({JobState.CANCELLED, JobState.COMPLETED, JobState.FAILED, JobState.TIMEOUT})


@dataclass(frozen=True)
class BlockShape:
    """The shape of a block and the bounds on how many there may be (§3.6.3-3.6.4 of the
    0.5.0 guide). ``tasks_per_node`` is ``taskBlocks``: a number or a bash expression such as
    ``$(($CORES / 2))`` evaluated on the node."""

    nodes_per_block: int = 1
    tasks_per_node: int | str = 1
    walltime: str = "00:10:00"
    init_blocks: int = 1
    min_blocks: int = 0
    max_blocks: int = 10
    parallelism: float = 1.0

    def __post_init__(self) -> None:
        from ..errors import ConfigurationError

        for name in ("nodes_per_block", "init_blocks", "min_blocks", "max_blocks"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ConfigurationError(f"must be an integer, got {type(v).__name__} {v!r}", name)
        if isinstance(self.parallelism, bool) or not isinstance(self.parallelism, (int, float)):
            raise ConfigurationError(f"must be a number between 0 and 1, got {type(self.parallelism).__name__} {self.parallelism!r}", "parallelism")
        if not isinstance(self.tasks_per_node, (int, str)) or isinstance(self.tasks_per_node, bool):
            raise ConfigurationError(f"must be a number or a bash expression, got {self.tasks_per_node!r}", "tasks_per_node")
        if not isinstance(self.walltime, str):
            raise ConfigurationError(f'must be an "HH:MM:SS" string, got {type(self.walltime).__name__} {self.walltime!r}', "walltime")
        if self.nodes_per_block < 1:
            raise ConfigurationError("must be at least 1", "nodes_per_block")
        if self.min_blocks < 0 or self.init_blocks < 0 or self.max_blocks < 0:
            raise ConfigurationError("block counts cannot be negative", "min_blocks/init_blocks/max_blocks")
        if self.min_blocks > self.max_blocks:
            raise ConfigurationError(
                f"min_blocks ({self.min_blocks}) is above max_blocks ({self.max_blocks})", "min_blocks"
            )
        if not 0.0 <= self.parallelism <= 1.0:
            raise ConfigurationError(f"must be between 0 and 1, got {self.parallelism}", "parallelism")
        if isinstance(self.tasks_per_node, int) and self.tasks_per_node < 1:
            raise ConfigurationError("must be at least 1", "tasks_per_node")
        parse_walltime(self.walltime)


def parse_walltime(walltime: str) -> int:
    """``"HH:MM:SS"`` (or ``"MM:SS"`` / ``"SS"``) to seconds; a clear error otherwise."""
    from ..errors import ConfigurationError

    parts = str(walltime).split(":")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise ConfigurationError(f"walltime {walltime!r} is not in HH:MM:SS form", "walltime")
    seconds = 0
    for p in parts:
        seconds = seconds * 60 + int(p)
    return seconds


class ExecutionProvider(ABC):
    """Define the strict interface for all Execution Providers.

    ``shape`` is the shape of the provider's blocks and the bounds on how many there may be
    (``taskBlocks``, ``nodes``, ``initBlocks``/``minBlocks``/``maxBlocks``, ``parallelism``);
    executors that scale read it from here, so a typed config states it once, on the provider.
    """

    shape: BlockShape = BlockShape()
    #: ``True`` when :meth:`submit` takes ``env=``: environment variables every process of the
    #: block gets, written into the block's private script (mode 0700 in a 0700 directory) and
    #: never onto a command line, so secrets such as connection keys can travel in them.
    #: Executors keep secrets out of ``cmd_string`` (it can show up in process listings).
    passes_env: ClassVar[bool] = False

    @abstractmethod
    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str:
        """Submit ``cmd_string`` as one block of ``blocksize`` tasks; return the job id.
        Failure raises an exception carrying the scheduler's message. ``env`` is only given
        to providers whose :attr:`passes_env` is ``True``."""

    @abstractmethod
    def status(self, job_ids: Sequence[str]) -> list[JobState]:
        """The state of each job, in the order given."""

    @abstractmethod
    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """Cancel each job; ``True`` where the cancel was accepted."""

    @property
    def scaling_enabled(self) -> bool:
        return True

    @property
    def channels_required(self) -> bool:
        """Whether this provider runs its commands through a channel."""
        return False

    @property
    def current_capacity(self) -> int:
        """Blocks currently held (submitted and not terminal)."""
        return 0
