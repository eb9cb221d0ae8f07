"""Suite-wide pytest hooks.

Under ``CI=true`` a skipped test fails the run, unless its node id matches an entry of
``.ci/allowed-skips.txt`` (each entry a glob and the reason it may skip). Locally, skips stay
skips: a missing daemon or extra is reported, not fatal.
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

import pytest

ALLOW_LIST = Path(__file__).resolve().parent / ".ci" / "allowed-skips.txt"
_BAD_SKIPS = pytest.StashKey[list]()


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def load_allow_list(path: Path = ALLOW_LIST) -> list[tuple[str, str]]:
    """``[(glob, reason)]``. An entry is ``<node-id glob>  # <reason>``; an entry without a
    reason is an error, so nobody allow-lists a skip without saying why."""
    entries = []
    if not path.exists():
        return entries
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pattern, sep, reason = line.partition("#")
        if not sep or not reason.strip() or not pattern.strip():
            raise pytest.UsageError(f"{path}:{n}: an allowed skip needs a node-id glob and '# <reason>': {raw!r}")
        entries.append((pattern.strip(), reason.strip()))
    return entries


def unallowed_skips(nodeids: list[str], entries: list[tuple[str, str]]) -> list[str]:
    return [n for n in nodeids if not any(fnmatch.fnmatchcase(n, glob) for glob, _ in entries)]


def _skipped_nodeids(session: pytest.Session) -> list[str]:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return []
    return [rep.nodeid for rep in reporter.stats.get("skipped", [])]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not in_ci():
        return
    bad = unallowed_skips(_skipped_nodeids(session), load_allow_list())
    session.config.stash[_BAD_SKIPS] = bad
    if bad and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    bad = config.stash.get(_BAD_SKIPS, [])
    if bad:
        terminalreporter.section("skips not allowed in CI", red=True)
        terminalreporter.line(f"{len(bad)} test(s) skipped under CI=true; start the service they need, or add them to "
                              f"{ALLOW_LIST.relative_to(ALLOW_LIST.parents[1])} with the reason:")
        for nodeid in bad:
            terminalreporter.line(f"  {nodeid}")

