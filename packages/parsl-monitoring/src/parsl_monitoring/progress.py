"""Progress bars: a line on stderr when it is a terminal, a widget in Jupyter (ipywidgets),
never in logs, nothing when no one can see it.

::

    monitor.progress() ──(every 0.2 s)──▶ refresher thread ──▶ TerminalBar | NotebookBar
"""
from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from parsl.interfaces import Monitor

REFRESH = 0.2


class Bar(Protocol):
    def show(self, done: int, total: int) -> None: ...

    def close(self) -> None: ...


def in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def attached() -> bool:
    """Whether anybody can see a progress bar: a terminal on stderr, or a notebook."""
    try:
        return sys.stderr.isatty() or in_notebook()
    except (AttributeError, ValueError):
        return False


def format_line(label: str, done: int, total: int, elapsed: float, width: int) -> str:
    """``label: 42% |█████     | 420/1,000 tasks [3.1 s, 135/s]`` fitted into ``width``."""
    rate = done / elapsed if elapsed > 0 else 0.0
    counts = f"{done:,}/{total:,} tasks [{elapsed:.1f} s, {rate:,.0f}/s]"
    pct = f"{100 * done / total:3.0f}%" if total else "  -%"
    room = max(width - len(label) - len(pct) - len(counts) - 6, 0)
    filled = int(room * done / total) if total else 0
    bar = "█" * filled + " " * (room - filled)
    return f"{label}: {pct} |{bar}| {counts}"[:width]


class TerminalBar:
    def __init__(self, label: str, stream: Any = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()

    def show(self, done: int, total: int) -> None:
        width = shutil.get_terminal_size((100, 20)).columns - 1
        self.stream.write("\r" + format_line(self.label, done, total, time.monotonic() - self.start, width))
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class NotebookBar:
    """An ipywidgets progress bar (``pip install 'parsl-monitoring[jupyter]'``); a text line in
    the cell's output when ipywidgets is missing."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.start = time.monotonic()
        try:
            import ipywidgets
            from IPython.display import display
        except ImportError:
            self.widget = None
            return
        self.widget = ipywidgets.IntProgress(value=0, min=0, max=1, description=label)
        self.text = ipywidgets.Label()
        display(ipywidgets.HBox([self.widget, self.text]))

    def show(self, done: int, total: int) -> None:
        if self.widget is None:
            print("\r" + format_line(self.label, done, total, time.monotonic() - self.start, 100), end="", flush=True)
            return
        self.widget.max = max(total, 1)
        self.widget.value = done
        self.text.value = f"{done:,}/{total:,} tasks"

    def close(self) -> None:
        if self.widget is None:
            print()


def live_bar(monitor: Monitor, label: str, force: bool = False, stream: Any = None) -> Callable[[], None] | None:
    """Show ``monitor.progress()`` as a bar until the returned function is called. None when
    nothing is attached to show it on (unless ``force``)."""
    if not (force or attached()):
        return None
    bar: Bar = NotebookBar(label) if in_notebook() else TerminalBar(label, stream)
    stop = threading.Event()

    def refresh() -> None:
        while True:
            stopping = stop.wait(REFRESH)
            bar.show(*monitor.progress())
            if stopping:
                bar.close()
                return

    t = threading.Thread(target=refresh, name=f"parsl-progress-{label}", daemon=True)
    t.start()

    def close() -> None:
        stop.set()
        t.join()

    return close
