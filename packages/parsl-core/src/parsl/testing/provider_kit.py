"""A conformance kit for execution providers: the life-cycle every provider must honour,
written once and run against each real scheduler.

Subclass it in a test module (the subclass's name must start with ``Test``)::

    class TestSlurmConformance(ProviderConformance):
        def make_provider(self, workdir):
            return Slurm(channel=LocalChannel(scriptDir=str(workdir / "scripts")))

and optionally override :meth:`render_script` + :attr:`golden_file` (script golden test and
``bash -n``), :meth:`make_failing_provider` (error mapping), the :meth:`workdir` fixture (a
directory the scheduler's jobs can write to), :attr:`poll_timeout` and :attr:`poll_interval`.

The kit only uses :mod:`parsl.interfaces`; it never imports a plugin.
"""
from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import time
from collections.abc import Iterator
from typing import Callable

import pytest

from parsl.interfaces import ExecutionProvider, JobState

__all__ = ["ProviderConformance", "wait_for_state"]


def wait_for_state(
    provider: ExecutionProvider,
    job_id: str,
    until: Callable[[JobState], bool],
    timeout: float,
    interval: float = 0.25,
) -> list[JobState]:
    """Poll ``provider.status([job_id])`` until ``until(state)``; return the distinct states
    seen, in order. Fails the test (with the states seen) on timeout."""
    seen: list[JobState] = []
    deadline = time.monotonic() + timeout
    while True:
        (state,) = provider.status([job_id])
        if not seen or seen[-1] is not state:
            seen.append(state)
        if until(state):
            return seen
        if time.monotonic() > deadline:
            pytest.fail(f"job {job_id} did not reach the expected state within {timeout} s; states seen: {[s.value for s in seen]}")
        time.sleep(interval)


class ProviderConformance:
    """The provider life-cycle: submit → PENDING/RUNNING → COMPLETED; cancel → CANCELLED;
    job names validated; the generated script matches its golden file and parses with
    ``bash -n``; a refused submit raises an error carrying the scheduler's message."""

    #: seconds to wait for a block to reach a state
    poll_timeout: float = 60.0
    poll_interval: float = 0.25
    #: the golden copy of :meth:`render_script`'s output (``UPDATE_GOLDEN=1`` rewrites it)
    golden_file: pathlib.Path | None = None

    # ---- hooks ------------------------------------------------------------------------------
    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        raise NotImplementedError("subclasses build the provider under test here")

    def render_script(self, provider: ExecutionProvider) -> str | None:
        """The submit script the provider would write for a fixed block; ``None`` if the
        provider has no script."""
        return None

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str] | None:
        """A provider whose submit the scheduler refuses, the error type expected and a
        fragment of the scheduler's message that the error must carry."""
        return None

    @pytest.fixture
    def workdir(self, tmp_path: pathlib.Path) -> pathlib.Path:
        """A directory the provider's jobs can write to."""
        return tmp_path

    @pytest.fixture
    def provider(self, workdir: pathlib.Path) -> Iterator[ExecutionProvider]:
        provider = self.make_provider(workdir)
        self._submitted: list[str] = []
        yield provider
        live = [j for j, s in zip(self._submitted, provider.status(self._submitted), strict=True) if not s.terminal] if self._submitted else []
        if live:
            provider.cancel(live)

    def _submit(self, provider: ExecutionProvider, cmd: str, job_name: str = "kit") -> str:
        job = provider.submit(cmd, 1, job_name)
        assert isinstance(job, str) and job, f"submit must return a non-empty job id string, got {job!r}"
        self._submitted.append(job)
        return job

    # ---- the tests -------------------------------------------------------------------------
    def test_implements_the_interface(self, provider: ExecutionProvider) -> None:
        assert isinstance(provider, ExecutionProvider)
        assert isinstance(provider.scaling_enabled, bool)
        assert isinstance(provider.channels_required, bool)
        assert provider.current_capacity == 0
        assert provider.status([]) == []

    def test_block_runs_and_completes(self, provider: ExecutionProvider, workdir: pathlib.Path) -> None:
        marker = workdir / "block-ran.txt"
        job = self._submit(provider, f"echo ran-on-$(hostname) >> {shlex.quote(str(marker))}")
        seen = wait_for_state(provider, job, lambda s: s.terminal, self.poll_timeout, self.poll_interval)
        assert seen[-1] is JobState.COMPLETED, f"states seen: {seen}"
        assert set(seen) <= {JobState.PENDING, JobState.RUNNING, JobState.COMPLETED}, f"states seen: {seen}"
        assert marker.read_text().startswith("ran-on-")
        # terminal states are stable
        assert provider.status([job]) == [JobState.COMPLETED]

    def test_failing_block_is_not_completed(self, provider: ExecutionProvider) -> None:
        job = self._submit(provider, "exit 3")
        seen = wait_for_state(provider, job, lambda s: s.terminal, self.poll_timeout, self.poll_interval)
        self.check_failed_state(seen[-1])

    def check_failed_state(self, state: JobState) -> None:
        """Most schedulers report a block whose command failed as FAILED; a provider whose
        scheduler cannot tell overrides this."""
        assert state is JobState.FAILED, f"expected FAILED, got {state}"

    def test_cancel_ends_a_running_block(self, provider: ExecutionProvider, workdir: pathlib.Path) -> None:
        started = workdir / "started.txt"
        job = self._submit(provider, f"touch {shlex.quote(str(started))}; sleep 300")
        wait_for_state(provider, job, lambda s: s is JobState.RUNNING or s.terminal, self.poll_timeout, self.poll_interval)
        deadline = time.monotonic() + self.poll_timeout
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(self.poll_interval)
        assert started.exists(), "the block never started its command"
        assert provider.current_capacity >= 1
        assert provider.status([job, job]) == [JobState.RUNNING, JobState.RUNNING]
        assert provider.cancel([job]) == [True]
        seen = wait_for_state(provider, job, lambda s: s.terminal, self.poll_timeout, self.poll_interval)
        assert seen[-1] is JobState.CANCELLED, f"states seen: {seen}"
        assert provider.current_capacity == 0

    @pytest.mark.parametrize("bad", ["two words", "x;rm -rf ~", "$(id)", "", "a\nb", "-dash"])
    def test_job_names_are_validated(self, provider: ExecutionProvider, bad: str) -> None:
        with pytest.raises(ValueError, match="job name"):
            provider.submit("true", 1, bad)

    def test_script_matches_golden_and_parses(self, workdir: pathlib.Path) -> None:
        provider = self.make_provider(workdir)
        text = self.render_script(provider)
        if text is None:
            pytest.skip("this provider writes no submit script")
        subprocess.run(["bash", "-n"], input=text, text=True, check=True)
        if self.golden_file is None:
            return
        if os.environ.get("UPDATE_GOLDEN"):
            self.golden_file.parent.mkdir(parents=True, exist_ok=True)
            self.golden_file.write_text(text)
        assert text == self.golden_file.read_text()

    def test_refused_submit_carries_the_scheduler_message(self, workdir: pathlib.Path) -> None:
        made = self.make_failing_provider(workdir)
        if made is None:
            pytest.skip("no way to make this scheduler refuse a submit")
        provider, error, fragment = made
        with pytest.raises(error) as info:
            provider.submit("true", 1, "refused")
        assert fragment in str(info.value), f"the error does not carry {fragment!r}: {info.value}"
