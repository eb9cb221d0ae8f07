"""Fixtures for parsl-data's tests: real servers on 127.0.0.1, a kernel on local threads whose
staged files land in ``wd``, each test in its own directory."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import parsl
from parsl.dataflow import loader
from parsl_data.testing import FTPTestServer, HTTPTestServer


@pytest.fixture(autouse=True)
def _in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    yield
    current = loader.current_or_none()
    if current is not None:
        current.cleanup()
    parsl.clear()


@pytest.fixture
def served(tmp_path: Path) -> Path:
    """The directory the servers serve: a few small files."""
    root = tmp_path / "served"
    (root / "in").mkdir(parents=True)
    (root / "out").mkdir()
    (root / "in" / "unsorted.txt").write_text("pear\napple\nfig\n")
    (root / "in" / "big.bin").write_bytes(os.urandom(300_000))
    return root


@pytest.fixture
def http_server(served: Path) -> Iterator[HTTPTestServer]:
    with HTTPTestServer(str(served)) as srv:
        yield srv


@pytest.fixture
def ftp_server(served: Path) -> Iterator[FTPTestServer]:
    with FTPTestServer(str(served)) as srv:
        yield srv


@pytest.fixture
def wd(tmp_path: Path) -> Path:
    d = tmp_path / "wd"
    d.mkdir()
    return d


@pytest.fixture
def kernel(wd: Path) -> Iterator[parsl.DataFlowKernel]:
    """Threads whose staged files land in ``wd``; transfers on the data manager's threads."""
    with parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=4, working_dir=str(wd))])) as dfk:
        yield dfk

