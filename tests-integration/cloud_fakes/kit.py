"""The provider conformance kit run against an in-process cloud fake: each test gets its own
fake (started, then stopped with every VM it ran), the provider is torn down after each test,
and the fake must then hold nothing."""
from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import ProviderConformance

from .rest import FakeREST


class FakeCloudConformance(ProviderConformance):
    poll_timeout = 60.0
    poll_interval = 0.1
    #: the fake's class (built with the VMs' work directory)
    fake_class: type[FakeREST]
    #: the option that makes the cloud refuse a submit, and a fragment of its message
    refusal: tuple[dict[str, Any], str]

    def build(self, workdir: pathlib.Path, fake: Any, **options: Any) -> ExecutionProvider:
        raise NotImplementedError

    def leftovers(self, fake: Any) -> Any:
        """What the fake still holds (must be empty after teardown)."""
        raise NotImplementedError

    @pytest.fixture(autouse=True)
    def _fakes(self) -> Iterator[None]:
        self._started: list[FakeREST] = []
        yield
        for fake in self._started:
            fake.__exit__(None, None, None)

    def _fake(self, workdir: pathlib.Path) -> Any:
        fake = self.fake_class(workdir / "vms").__enter__()  # type: ignore[call-arg]
        self._started.append(fake)
        return fake

    @pytest.fixture
    def provider(self, workdir: pathlib.Path) -> Iterator[ExecutionProvider]:  # type: ignore[override]
        provider = self.make_provider(workdir)
        self._submitted: list[str] = []
        yield provider
        provider.teardown()  # type: ignore[attr-defined]
        assert not self.leftovers(self._started[-1])
        assert not pathlib.Path(provider.state_file).exists()  # type: ignore[attr-defined]

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return self.build(workdir, self._fake(workdir))

    def render_script(self, provider: ExecutionProvider) -> str:
        return provider.user_data("parsl-kit-block", "process_worker --block 1")  # type: ignore[attr-defined,no-any-return]

    def check_failed_state(self, state: JobState) -> None:
        # a VM halts the same way whatever its workers' exit code: the cloud cannot tell
        assert state is JobState.COMPLETED

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        from libsubmit.error import CloudAPIError

        options, fragment = self.refusal
        return self.build(workdir, self._fake(workdir), **options), CloudAPIError, fragment


_DRIVER = """
import importlib, json, sys, time
spec = json.loads(sys.argv[1])
cls = getattr(importlib.import_module(spec["module"]), spec["cls"])
provider = cls(**spec["kwargs"])
provider.poll_interval = 0.05
print(" ".join(provider.submit("sleep 600", 1, "killed") for _ in range(spec["blocks"])), flush=True)
time.sleep(600)
"""


def killed_driver(provider_class: type, kwargs: dict[str, Any], blocks: int = 1, env: dict[str, str] | None = None) -> list[str]:
    """Run a driver process that builds ``provider_class(**kwargs)``, submits ``blocks``
    blocks and prints their ids; SIGKILL it once they are printed. Returns the ids."""
    import json
    import os
    import signal
    import subprocess
    import sys

    spec = json.dumps({"module": provider_class.__module__, "cls": provider_class.__name__, "kwargs": kwargs, "blocks": blocks})
    proc = subprocess.Popen([sys.executable, "-c", _DRIVER, spec], stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    try:
        assert proc.stdout is not None
        ids = proc.stdout.readline().split()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert len(ids) == blocks, f"the driver printed {ids!r}"
    return ids
