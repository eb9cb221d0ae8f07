"""The launcher interface: a pure function from a worker command to the shell that starts
``tasks_per_node`` copies of it on each of ``nodes_per_block`` nodes of a block.

The positional order is 0.5.0's documented one, ``(cmd_string, taskBlocks, walltime)``;
providers pass ``nodes_per_block`` by keyword."""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Launcher(Protocol):
    def __call__(self, command: str, tasks_per_node: int | str, walltime: object = None, nodes_per_block: int = 1) -> str: ...
