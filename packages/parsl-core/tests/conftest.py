"""Fixtures for parsl-core's tests: each test runs in its own directory, and every kernel it
makes is cleaned up afterwards."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import parsl
from parsl.dataflow import loader


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    yield
    # no kernel may outlive its test
    current = loader.current_or_none()
    if current is not None:
        current.cleanup()
    parsl.clear()


@pytest.fixture
def dfk() -> Iterator[parsl.DataFlowKernel]:
    """A kernel on 4 local threads, run dir under the test's tmp dir."""
    k = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=4)])
    yield k
    k.cleanup()


@pytest.fixture
def no_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend only parsl-core is installed (an entry-point scan holding just its builtins)."""
    from importlib import metadata

    from parsl import plugins

    scan: dict[str, dict[str, metadata.EntryPoint]] = {k: {} for k in plugins.KINDS}
    for (kind, name), value in plugins._BUILTINS.items():
        scan[kind][name] = metadata.EntryPoint(name, value, plugins.KINDS[kind])
    monkeypatch.setattr(plugins, "_scan", scan)
    monkeypatch.setattr(plugins, "_loaded", {})
