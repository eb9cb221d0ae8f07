"""Anonymous usage statistics (§3.11 of the 0.5.0 guide), opt-in.

Nothing is sent unless the user opts in (``Config(usage_tracking=True)``, the 0.5.0 global
``usageTracking: True``, or ``PARSL_TRACKING=true`` in the environment) AND names where to send
it with ``PARSL_TRACKING_ENDPOINT=host:port``; the project names no endpoint of its own.
``PARSL_TRACKING=false`` always wins. Two UDP datagrams per run, one at start and one at
cleanup, each a small JSON object with exactly these fields and nothing else:

    {"event": "start" | "end",
     "run": a random UUID made for this run (it links the two datagrams, nothing more),
     "parsl_v": the parsl-core version, "python_v": "3.11.7", "os": "Linux" (platform.system()),
     "sites": number of executors,
     "tasks": tasks submitted, "failed": tasks failed}      (the last two only at "end")

No user name, host name, path, address, time or any hash of them is sent: hashes of such
low-entropy strings can be reversed by trying candidates, so they identify people.
"""
from __future__ import annotations

import json
import logging
import os
import platform
import socket
from typing import Any

logger = logging.getLogger(__name__)

#: every field a datagram may carry (a test holds the tracker to this list)
FIELDS = frozenset({"event", "run", "parsl_v", "python_v", "os", "sites", "tasks", "failed"})


def resolve(opt_in: bool, env: dict[str, str] | None = None) -> tuple[str, int] | None:
    """Where to send, or None when tracking is off. Bad endpoints are logged, not raised."""
    env = dict(os.environ) if env is None else env
    flag = env.get("PARSL_TRACKING", "").strip().lower()
    if flag in ("false", "0", "no", "off"):
        return None
    if not (opt_in or flag in ("true", "1", "yes", "on")):
        return None
    endpoint = env.get("PARSL_TRACKING_ENDPOINT", "").strip()
    if not endpoint:
        logger.warning("usage tracking is on but PARSL_TRACKING_ENDPOINT is not set (host:port); nothing is sent")
        return None
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        logger.warning("PARSL_TRACKING_ENDPOINT %r is not host:port; nothing is sent", endpoint)
        return None
    return host, int(port)


class UsageTracker:
    """Sends the start and end datagrams of one run; never raises, never blocks for long."""

    def __init__(self, endpoint: tuple[str, int], run_id: str, sites: int) -> None:
        self.endpoint = endpoint
        from .. import __version__

        self.base = {
            "run": run_id,
            "parsl_v": __version__,
            "python_v": platform.python_version(),
            "os": platform.system(),
            "sites": sites,
        }

    def _send(self, fields: dict[str, Any]) -> None:
        payload = json.dumps({**self.base, **fields}).encode()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(1.0)
                s.sendto(payload, self.endpoint)
        except OSError as e:
            logger.debug("usage datagram not sent: %s", e)

    def start(self) -> None:
        self._send({"event": "start"})

    def end(self, tasks: int, failed: int) -> None:
        self._send({"event": "end", "tasks": tasks, "failed": failed})
