"""The web view over real HTTP on 127.0.0.1: the run list, a live run's page refreshing
itself, the JSON summary, and nothing served outside the runinfo directory."""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request

import pytest

import parsl
from parsl import python_app
from parsl_monitoring import SqliteMonitor
from parsl_monitoring.web import serve_in_thread


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PARSL_MONITORING", raising=False)
    yield
    parsl.clear()


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_lists_runs_and_serves_a_live_then_finished_run(tmp_path):
    @python_app
    def inc(x):
        return x + 1

    with parsl.load(parsl.Config(monitoring=True)):
        [inc(i) for i in range(5)][-1].result()
    gate = threading.Event()

    @python_app
    def held():
        gate.wait(30)
        return 0

    server, url = serve_in_thread(tmp_path / "runinfo", refresh=1)
    try:
        assert server.server_address[0] == "127.0.0.1"
        with parsl.load(parsl.Config(monitoring=SqliteMonitor(flush_interval=0.05))) as dfk:
            fut = held()
            live_name = dfk.run_dir.rsplit("/", 1)[1]
            status, index = get(url)
            assert status == 200 and index.count("<tr class='run'>") == 2
            assert f"href='/run/{live_name}'" in index and "<b>live</b>" in index
            status, page = get(f"{url}run/{live_name}")
            assert status == 200 and '<meta http-equiv="refresh" content="1">' in page and "live" in page
            gate.set()
            fut.result()
        status, page = get(f"{url}run/{live_name}")
        assert status == 200 and 'http-equiv="refresh"' not in page  # finished: no more refreshing
        status, body = get(f"{url}api/run/000")
        doc = json.loads(body)
        assert doc["tasks"] == 5 and doc["by_state"] == {"exec_done": 5} and doc["live"] is False
    finally:
        gate.set()
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("path", ["run/..", "run/../..", "run/%2e%2e", "run/000/../../etc", "api/run/nope", "etc/passwd", "run/"])
def test_nothing_outside_the_runinfo_directory_is_served(tmp_path, path):
    (tmp_path / "runinfo").mkdir()
    (tmp_path / "monitoring.db").write_text("not for the web")
    server, url = serve_in_thread(tmp_path / "runinfo")
    try:
        status, body = get(url + path)
        assert status == 404 and "not for the web" not in body
    finally:
        server.shutdown()
        server.server_close()
