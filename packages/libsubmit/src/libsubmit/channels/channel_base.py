"""The channel interface at its 0.5.0 import path (``libsubmit.channels.channel_base.Channel``);
it is :class:`parsl.interfaces.Channel`."""
from parsl.interfaces import Channel

__all__ = ["Channel"]
