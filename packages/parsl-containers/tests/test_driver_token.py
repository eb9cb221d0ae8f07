"""Which containers are orphans: the driver token names host, pid and the pid's start time."""
from __future__ import annotations

import socket
import subprocess

from parsl.interfaces.container import driver_gone, driver_token


def test_this_process_is_not_gone() -> None:
    assert not driver_gone(driver_token())


def test_an_exited_process_is_gone() -> None:
    p = subprocess.Popen(["true"])
    token = driver_token(p.pid)
    p.wait()
    assert driver_gone(token)


def test_a_reused_pid_is_gone() -> None:
    host, pid, start = driver_token().split(":")
    assert start, "this platform has /proc"
    assert driver_gone(f"{host}:{pid}:{int(start) - 1}")


def test_drivers_on_other_hosts_are_never_judged() -> None:
    assert socket.gethostname() != "other-host.example"
    assert not driver_gone("other-host.example:1:1")
    assert not driver_gone("garbage")
