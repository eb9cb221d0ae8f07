"""Threshold/interval triggers for the scaling strategy (§6.5.11 of the 0.5.0 guide).

::

    submit ──notify()──▶ event count ─┐
                                       ├─▶ timer thread ──▶ callback(kind)   ("threshold" | "timer")
    every `interval` s ────────────────┘        (one thread; at most one callback at a time)

:class:`FlowControl` calls back at least every ``interval`` seconds, and sooner when
``threshold`` events arrived since the last callback. :class:`Timer` calls back on the
interval only; :class:`FlowNoControl` never calls back.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

logger = logging.getLogger(__name__)


class FlowControl:
    """Implements threshold-interval based flow control.

    Args:
        callback: called as ``callback(kind)`` from the timer thread; or (0.5.0 style,
            ``FlowControl(dfk, config)``) a DataFlowKernel, whose block-scaled executors a
            :class:`~parsl_executors.scaling.Strategy` then scales.
        threshold: events (``notify`` calls) that trigger an early callback.
        interval: seconds after which the callback runs anyway.
    """

    def __init__(self, callback: Callable[[str | None], Any] | Any, *args: Any, threshold: int = 20, interval: float = 5, name: str = "parsl-flow-control") -> None:
        callback = _as_callback(callback)
        if threshold < 1:
            raise ValueError(f"threshold must be at least 1, got {threshold!r}")
        if interval <= 0:
            raise ValueError(f"interval must be positive, got {interval!r}")
        self.callback = callback
        self.threshold = threshold
        self.interval = interval
        self._cond = threading.Condition()
        self._events = 0
        self._closed = False
        self._last = time.monotonic()
        self.callbacks = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def notify(self, event_id: Any = None) -> None:
        """Let the FlowControl system know that there is an event."""
        with self._cond:
            self._events += 1
            if self._events >= self.threshold:
                self._cond.notify()

    def make_callback(self, kind: str | None = None) -> None:
        """Makes the callback and resets the timer."""
        with self._cond:
            self._events = 0
            self._last = time.monotonic()
        try:
            self.callback(kind)
        except Exception:
            logger.exception("flow-control callback failed")
        self.callbacks += 1

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and self._events < self.threshold:
                    left = self._last + self.interval - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._closed:
                    return
                kind = "threshold" if self._events >= self.threshold else "timer"
            self.make_callback(kind)

    def close(self, timeout: float = 30) -> None:
        """Stop the timer thread and wait for it (and any callback in progress) to end."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)


def _as_callback(target: Any) -> Callable[[str | None], Any]:
    if callable(target):
        return target  # type: ignore[no-any-return]
    from .strategy import Strategy

    return Strategy(target).strategize


class Timer(FlowControl):
    """Calls back every ``interval`` seconds; ``notify`` does nothing."""

    def __init__(self, callback: Callable[[str | None], Any], *args: Any, interval: float = 5, name: str = "parsl-timer") -> None:
        super().__init__(callback, threshold=1, interval=interval, name=name)

    def notify(self, event_id: Any = None) -> None:
        return None


class FlowNoControl:
    """Same interface as :class:`FlowControl`; never calls back."""

    def __init__(self, callback: Callable[[str | None], Any] | Any = None, *args: Any, threshold: int = 2, interval: float = 2, **kwargs: Any) -> None:
        self.callback = _as_callback(callback) if callback is not None else None
        self.threshold = threshold
        self.interval = interval
        self.callbacks = 0

    def notify(self, event_id: Any = None) -> None:
        """This notify fn does nothing."""

    def make_callback(self, kind: str | None = None) -> None:
        """Calls back once, on request."""
        if self.callback is not None:
            self.callback(kind)
            self.callbacks += 1

    def close(self, timeout: float = 30) -> None:
        """This close fn does nothing."""
