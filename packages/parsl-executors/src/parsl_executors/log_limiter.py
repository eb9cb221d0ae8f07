"""Rate-limits a log stream by kind of record, so junk sent to a controller's ports cannot
flood its log.

::

    controller stdout ──lines──▶ RateLimitedLog.feed(line)
                                   record = head line ("<time> [source] LEVEL | text") + its
                                            continuation lines (a traceback)
                                   kind   = source, level and text up to the first ':'
                                   first record of a kind in an interval ──▶ written (lines cut
                                                                            at max_line chars)
                                   the rest ──▶ counted
                  tick() / close() ──▶ one line per kind with a count of what was suppressed

Thread-safe: ``feed`` runs on the reader thread, ``tick`` on the guard's main loop.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Callable, TextIO

__all__ = ["RateLimitedLog"]

_HEAD = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d")
_PREFIX = re.compile(r"^\S+ \S+ ")  # the timestamp
_SOURCE = re.compile(r"^(\[[^\]]{0,40}\])\s*(.*)$")
_DATA = re.compile(r"""[\[<('"\d]|b'|b"|: """)


class RateLimitedLog:
    """Writes records to ``out``: per kind, the first in each ``interval`` seconds in full,
    then one summary line with the count of those it held back."""

    def __init__(self, out: TextIO, interval: float = 10.0, max_line: int = 400, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out
        self.interval = interval
        self.max_line = max_line
        self.clock = clock
        self._lock = threading.Lock()
        self._window_start = clock()
        self._seen: dict[str, int] = {}  # kind -> records this interval
        self._passing = True  # whether the current record's continuation lines are written

    @staticmethod
    def kind(line: str) -> str:
        """The record's source and the fixed start of its text: cut before the first quote,
        bracket, parenthesis, digit or ': ', where data taken from a message (which an
        attacker controls) begins."""
        body = _PREFIX.sub("", line, count=1)
        m = _SOURCE.match(body)
        source, text = (m.group(1), m.group(2)) if m else ("", body)
        return f"{source} {_DATA.split(text, 1)[0].strip()[:60]}".strip()

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        with self._lock:
            self._roll()
            if _HEAD.match(line):
                k = self.kind(line)
                n = self._seen.get(k, 0) + 1
                self._seen[k] = n
                self._passing = n == 1
            if self._passing:
                self._write(line if len(line) <= self.max_line else line[: self.max_line] + f" ... [{len(line) - self.max_line} more characters]")

    def tick(self) -> None:
        """Close the interval if it is over (called about once a second)."""
        with self._lock:
            self._roll()

    def close(self) -> None:
        with self._lock:
            self._summarise()

    def _roll(self) -> None:
        if self.clock() - self._window_start >= self.interval:
            self._summarise()

    def _summarise(self) -> None:
        for k, n in self._seen.items():
            if n > 1:
                stamp = time.strftime("%Y-%m-%d %H:%M:%S")
                self._write(f"{stamp} [parsl log limiter] WARNING | {n - 1} more records like {k!r} in the last {self.interval:.0f} s were not written")
        self._seen.clear()
        self._window_start = self.clock()

    def _write(self, text: str) -> None:
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except (OSError, ValueError):
            pass
