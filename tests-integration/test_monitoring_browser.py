"""The monitoring report and web view rendered by a real browser: Debian's Chromium driven by
Playwright (headless, no sandbox, no background networking). The DAG's nodes and colours and
the timeline's bars are counted in the DOM; screenshots go to ``$PARSL_ARTIFACTS`` (default
``/tmp/parsl-artifacts``) for CI to keep."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("PARSL_ARTIFACTS", "/tmp/parsl-artifacts"))

pytestmark = pytest.mark.integration

WORKFLOW = textwrap.dedent(
    """
    import parsl
    from parsl import python_app

    @python_app
    def inc(x):
        return x + 1

    @python_app
    def boom(x):
        raise ValueError("broken input")

    with parsl.load(parsl.Config(monitoring=True, retries=1)) as dfk:
        first = [inc(i) for i in range(6)]
        second = [inc(f) for f in first]
        bad = boom(second[0])
        down = [inc(bad) for _ in range(2)]
        parsl.wait_for_current_tasks()
        print(dfk.run_dir)
    """
)
TASKS = 6 + 6 + 1 + 2
TRIES = 6 + 6 + 2  # the failing task ran twice (retries=1); dependency failures never ran


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (tests-integration/services/browser/start.sh installs it)")
    if shutil.which("dot") is None:
        pytest.skip("graphviz is not installed (tests-integration/services/browser/start.sh installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (requirements-dev.txt)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("browser")
    (d / "wf.py").write_text(WORKFLOW)
    out = subprocess.run([sys.executable, "wf.py"], cwd=d, capture_output=True, text=True, check=True, timeout=120)
    return d, Path(out.stdout.strip())


def _check_page(page, name: str) -> None:
    nodes = page.locator("#dag g.node.task")
    assert nodes.count() == TASKS
    fills = page.eval_on_selector_all(
        "#dag g.node.task", "els => els.map(e => [e.getAttribute('class'), (e.querySelector('path, polygon') || {}).getAttribute('fill')])"
    )
    by_state = {}
    for cls, fill in fills:
        by_state.setdefault(cls.split("state_")[1], set()).add(fill)
    assert by_state == {"exec_done": {"#4caf50"}, "failed": {"#e53935"}, "dep_fail": {"#fb8c00"}}
    assert page.locator("#dag g.edge.failure_chain").count() == 2
    assert page.locator("#timeline rect.bar").count() == TRIES
    assert page.locator("#timeline rect.bar.outcome-retried").count() == 1
    assert page.locator("#timeline rect.bar.outcome-failed").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    assert (ARTIFACTS / f"{name}.png").stat().st_size > 10_000


def test_report_renders_in_chromium(browser, run):
    d, run_dir = run
    from parsl_monitoring.report import write_report

    out = write_report(run_dir, d / "report.html")
    page = browser.new_page()
    page.goto(out.as_uri())
    assert "Root causes" in page.content()
    _check_page(page, "monitoring-report")
    page.close()


def test_web_view_renders_in_chromium(browser, run):
    d, _ = run
    from parsl_monitoring.web import serve_in_thread

    server, url = serve_in_thread(d / "runinfo")
    try:
        page = browser.new_page()
        page.goto(url)
        assert page.locator("#runs tr.run").count() == 1
        page.locator("#runs a").first.click()
        page.wait_for_selector("#dag")
        _check_page(page, "monitoring-web")
        page.close()
    finally:
        server.shutdown()
        server.server_close()
