"""Upstream's ``parsl.channels.base``: the channel interface (``parsl.interfaces``)."""
from ..interfaces.channel import Channel

__all__ = ["Channel"]
