"""Anonymous usage statistics (§3.11 of the 0.5.0 guide), opt-in.

Nothing is sent unless the user opts in (``Config(usage_tracking=True)``, the 0.5.0 global
``usageTracking: True``, or ``PARSL_TRACKING=true`` in the environment) AND names where to send
it with ``PARSL_TRACKING_ENDPOINT=host:port``; the project names no endpoint of its own.
``PARSL_TRACKING=false`` always wins. Two UDP datagrams per run, one at start and one at
cleanup, each a small JSON object of anonymised fields:

    {"event": "start"|"end", "uid": sha256(user+host), "hname": sha256(host),
     "script": sha256(script path), "run": run id, "t": unix time, "sites": n,
     "tasks": n, "failed": n}   (the last two at "end")
"""
from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import socket
import sys
import time
from typing import Any

logger = logging.getLogger(__name__)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


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
        self.base = {
            "uid": _sha(f"{getpass.getuser()}@{socket.gethostname()}"),
            "hname": _sha(socket.gethostname()),
            "script": _sha(os.path.abspath(sys.argv[0]) if sys.argv and sys.argv[0] else "<interactive>"),
            "run": run_id,
            "sites": sites,
        }

    def _send(self, fields: dict[str, Any]) -> None:
        payload = json.dumps({**self.base, **fields, "t": time.time()}).encode()
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
