"""Finding an address of this machine that workers elsewhere can reach (upstream's
``parsl.addresses``). Nothing here sends a packet: the route lookup "connects" a UDP socket,
which only asks the kernel's routing table.

``address_by_query`` (which asks a web service for the public address) is deliberately not
provided: nothing in this project contacts other hosts.
"""
from __future__ import annotations

import fcntl
import socket
import struct

__all__ = ["address_by_hostname", "address_by_interface", "address_by_route", "get_all_addresses", "get_any_address"]

_SIOCGIFADDR = 0x8915


def address_by_hostname() -> str:
    """The address this machine's host name resolves to."""
    return socket.gethostbyname(socket.getfqdn())


def address_by_route() -> str:
    """The local address of the default route (the one traffic to the internet would leave
    from); nothing is sent."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET-1: routing lookup only, no packet for UDP connect
        return str(s.getsockname()[0])


def address_by_interface(ifname: str) -> str:
    """The IPv4 address of network interface ``ifname`` (e.g. ``"eth0"``, ``"ib0"``); an
    OSError if it has none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        packed = fcntl.ioctl(s.fileno(), _SIOCGIFADDR, struct.pack("256s", ifname[:15].encode()))
    return socket.inet_ntoa(packed[20:24])


def get_all_addresses() -> set[str]:
    """Every address found by the methods above (interfaces by name, the route, the host
    name); methods that fail are skipped."""
    found: set[str] = set()
    for _, name in socket.if_nameindex():
        try:
            found.add(address_by_interface(name))
        except OSError:
            pass
    for method in (address_by_route, address_by_hostname):
        try:
            found.add(method())
        except OSError:
            pass
    return found


def get_any_address() -> str:
    """One reachable-looking address: the route's, else the host name's, else loopback."""
    for method in (address_by_route, address_by_hostname):
        try:
            return method()
        except OSError:
            continue
    return "127.0.0.1"
