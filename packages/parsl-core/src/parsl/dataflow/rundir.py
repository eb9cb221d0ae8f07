"""Run directories: ``runinfo/000``, ``runinfo/001``, ... created race-free."""
from __future__ import annotations

import os


def make_rundir(base: str = "runinfo") -> str:
    """Create and return the next numbered run directory under ``base`` (mode 0700: it will
    hold checkpoints and logs).

    ``os.mkdir`` is atomic, so drivers started at the same moment in the same directory each
    get their own number: a loser of a race moves on to the next number.
    """
    os.makedirs(base, exist_ok=True)
    numbers = [int(n) for n in os.listdir(base) if n.isdigit()]
    n = max(numbers) + 1 if numbers else 0
    while True:
        path = os.path.join(base, f"{n:03d}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            n += 1
            continue
        return os.path.abspath(path)
