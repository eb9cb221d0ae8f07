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
