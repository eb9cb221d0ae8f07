"""Block scaling: the pure decision, the strategy that applies it, and its triggers."""
from .accessors import BlockAccessors
from .blocks import BlockTable, HeldBlock
from .decision import Decision, ScalingPolicy, decide, target_blocks
from .failures import BlockFailures
from .flow_control import FlowControl, FlowNoControl, Timer
from .strategy import BlockScalable, Strategy

__all__ = ["BlockAccessors", "BlockFailures", "BlockScalable", "BlockTable", "HeldBlock", "Decision", "FlowControl", "FlowNoControl", "ScalingPolicy", "Strategy", "Timer", "decide", "target_blocks"]
