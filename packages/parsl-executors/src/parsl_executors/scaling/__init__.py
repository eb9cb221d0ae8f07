"""Block scaling: the pure decision, the strategy that applies it, and its triggers."""
from .blocks import BlockTable, HeldBlock
from .decision import Decision, ScalingPolicy, decide, target_blocks
from .flow_control import FlowControl, FlowNoControl, Timer
from .strategy import BlockScalable, Strategy

__all__ = ["BlockScalable", "BlockTable", "HeldBlock", "Decision", "FlowControl", "FlowNoControl", "ScalingPolicy", "Strategy", "Timer", "decide", "target_blocks"]
