"""``cleanup()`` returns within a bound whatever the executors do, and a container on the
threads executor is a configuration error."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future

import pytest

from parsl import DataFlowKernel
from parsl.errors import ConfigurationError
from parsl.executors.threads import ThreadPoolExecutor
from parsl.interfaces import ParslExecutor


class StuckOnShutdown(ParslExecutor):
    """An executor whose shutdown hangs (as on a dead daemon) until released."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.release = threading.Event()
        self.shut = threading.Event()

    def submit(self, func, /, *args, **kwargs):  # type: ignore[no-untyped-def]
        f: Future[object] = Future()
        f.set_result(func(*args, **kwargs))
        return f

    def shutdown(self, block: bool = True) -> None:
        self.release.wait(60)
        self.shut.set()


def test_cleanup_returns_within_the_bound_and_names_stuck_executors(tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    stuck = StuckOnShutdown("stuck")
    fine = ThreadPoolExecutor(label="fine")
    dfk = DataFlowKernel(executors=[stuck, fine], rundir=str(tmp_path / "run"))
    dfk.executor_shutdown_timeout = 0.5
    caplog.set_level(logging.ERROR, logger="parsl.dataflow")
    t = time.monotonic()
    dfk.cleanup()
    took = time.monotonic() - t
    assert took < 5, f"cleanup took {took:.1f} s"
    assert "executors stuck did not shut down within" in caplog.text
    assert fine._shutdown and not stuck.shut.is_set()
    stuck.release.set()
    assert stuck.shut.wait(5)  # it finishes on its own thread


def test_a_container_on_threads_is_a_configuration_error() -> None:
    site = {"site": "local", "auth": {"channel": None}, "execution": {"executor": "threads", "container": {"type": "docker", "image": "app1_v0.1"}}}
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.container: the threads executor runs apps inside this Python process"):
        DataFlowKernel(config={"sites": [site]})
    with pytest.raises(ConfigurationError, match=r"execution\.container"):
        ThreadPoolExecutor(config=site)
    with pytest.raises(ConfigurationError, match=r"^container: "):
        ThreadPoolExecutor(container={"type": "docker", "image": "x"})


def test_a_container_on_an_executor_without_container_support_is_a_configuration_error() -> None:
    from parsl import plugins

    class NoContainers(StuckOnShutdown):
        @classmethod
        def from_site(cls, site, controller):  # type: ignore[no-untyped-def]
            return cls(site.name)

    plugins.register("executor", "nocontainers", NoContainers)
    try:
        site = {"site": "s", "auth": {"channel": None}, "execution": {"executor": "nocontainers", "container": {"type": "docker", "image": "x"}}}
        with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.container: the 'nocontainers' executor cannot run its workers in a container"):
            DataFlowKernel(config={"sites": [site]})
    finally:
        plugins.unregister("executor", "nocontainers")
