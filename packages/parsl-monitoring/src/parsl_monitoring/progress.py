"""Progress bars: on stderr when it is a terminal, as a widget in Jupyter, never in logs.

::

    monitor.progress() ──(every 0.2 s)──▶ refresher thread ──▶ tqdm bar (terminal or notebook)
"""
from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from parsl.interfaces import Monitor

REFRESH = 0.2


def in_notebook() -> bool:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def attached() -> bool:
    """Whether anybody can see a progress bar: a terminal on stderr, or a notebook."""
    try:
        return sys.stderr.isatty() or in_notebook()
    except (AttributeError, ValueError):
        return False


def _bar(total: int, label: str) -> Any:
    if in_notebook():
        from tqdm.auto import tqdm as notebook_tqdm

        return notebook_tqdm(total=total, desc=label, unit="task")
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="task", file=sys.stderr, dynamic_ncols=True, leave=True)


def live_bar(monitor: Monitor, label: str, force: bool = False) -> Callable[[], None] | None:
    """Show ``monitor.progress()`` as a bar until the returned function is called. None when
    nothing is attached to show it on (unless ``force``)."""
    if not (force or attached()):
        return None
    stop = threading.Event()
    done, total = monitor.progress()
    bar = _bar(total, label)
    bar.update(done)

    def refresh() -> None:
        shown = done
        while True:
            stopping = stop.wait(REFRESH)
            finished, submitted = monitor.progress()
            if submitted != bar.total:
                bar.total = submitted
                bar.refresh()
            if finished > shown:
                bar.update(finished - shown)
                shown = finished
            if stopping:
                bar.close()
                return

    t = threading.Thread(target=refresh, name=f"parsl-progress-{label}", daemon=True)
    t.start()

    def close() -> None:
        stop.set()
        t.join()

    return close
