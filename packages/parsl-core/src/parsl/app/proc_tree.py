"""Killing every process a bash-app command started, including those that left its process
group (``setsid``) or were orphaned (double fork).

::

    command started with PARSL_TASK_TOKEN=<random> in its environment, in its own session
    kill_tree(proc, token, grace)
        sweep: /proc ─▶ pids whose parent chain leads to proc.pid
                       + pids in its process group or session
                       + pids whose environment carries the token (orphans, setsid children)
        SIGTERM to all ─▶ up to ``grace`` s for the leader ─▶ sweep again ─▶ SIGKILL to all
        (repeated until a sweep finds nothing, so a process forking meanwhile is caught)

Only processes of this user can be read or signalled, which are the only ones a command
can have started. Where ``/proc`` is missing, the process group alone is killed.
"""
from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

TOKEN_VAR = "PARSL_TASK_TOKEN"


def _table() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, pgid, sid) of every process visible in /proc."""
    out: dict[int, tuple[int, int, int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 4 and fields[0] != b"Z":
            out[int(name)] = (int(fields[1]), int(fields[2]), int(fields[3]))
    return out


def _has_token(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return needle in f.read()
    except OSError:
        return False


def sweep(root: int, token: str | None = None) -> set[int]:
    """Live pids of the tree rooted at ``root`` (see the module docstring); ``root``
    included while it lives."""
    table = _table()
    me = os.getpid()
    found = {p for p, (_, pgid, sid) in table.items() if pgid == root or sid == root}
    if root in table:
        found.add(root)
    children: dict[int, list[int]] = {}
    for p, (ppid, _, _) in table.items():
        children.setdefault(ppid, []).append(p)
    stack = list(found)
    while stack:
        for c in children.get(stack.pop(), ()):
            if c not in found:
                found.add(c)
                stack.append(c)
    if token:
        needle = f"{TOKEN_VAR}={token}".encode() + b"\0"
        uid = os.getuid()
        for p in table:
            if p not in found and p != me:
                try:
                    if os.stat(f"/proc/{p}").st_uid == uid and _has_token(p, needle):
                        found.add(p)
                except OSError:
                    pass
    found.discard(me)
    return found


def _signal_all(pids: set[int], sig: int) -> None:
    for p in pids:
        try:
            os.kill(p, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_tree(proc: subprocess.Popen[Any], token: str | None = None, grace: float = 0.5) -> None:
    """End ``proc`` (the leader of its own session) and everything it started: SIGTERM,
    ``grace`` seconds for the leader, then SIGKILL until nothing is left. Reaps the leader."""
    pids = sweep(proc.pid, token) or {proc.pid}
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        pass
    _signal_all(pids, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    for _ in range(20):
        pids |= sweep(proc.pid, token)
        _signal_all(pids, signal.SIGSTOP)  # frozen processes cannot fork more
        _signal_all(pids, signal.SIGKILL)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if proc.poll() is None:
            try:
                proc.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        pids = sweep(proc.pid, token)
        if not pids:
            break
