"""Run directories: ``runinfo/000``, ``runinfo/001``, ... created race-free."""
from __future__ import annotations

import os


def make_rundir(base: str = "runinfo") -> str:
    """Create and return the next numbered run directory under ``base`` (mode 0700: it will
    hold checkpoints and logs).

    ``os.mkdir`` is atomic, so drivers started at the same moment in the same directory each
    get their own number: a loser of a race moves on to the next number.
    """
    from ..errors import ConfigurationError

    try:
        os.makedirs(base, exist_ok=True)
        numbers = [int(n) for n in os.listdir(base) if n.isdigit()]
    except OSError as e:
        raise ConfigurationError(
            f"cannot make run directories under {base!r}: {e.strerror or e} (give a directory you can write to)", "run_dir"
        ) from None
    n = max(numbers) + 1 if numbers else 0
    while True:
        path = os.path.join(base, f"{n:03d}")
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            n += 1
            continue
        except OSError as e:
            raise ConfigurationError(f"cannot make the run directory {path!r}: {e.strerror or e}", "run_dir") from None
        return os.path.abspath(path)
