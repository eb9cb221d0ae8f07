"""``parsl status`` / ``top`` / ``report`` / ``run``, run as a user runs them: as commands, on
the store of a real workflow."""
from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

WORKFLOW = textwrap.dedent(
    """
    import parsl
    from parsl import python_app

    @python_app
    def inc(x):
        return x + 1

    @python_app
    def boom(x):
        raise ValueError("the root of all evil")

    with parsl.load(parsl.Config(monitoring=True)) as dfk:
        good = [inc(i) for i in range(8)]
        bad = boom(good[0])
        down = [inc(bad) for _ in range(3)]
        further = inc(down[0])
        parsl.wait_for_current_tasks()
        print(dfk.run_dir, bad.tid)
    """
)


def parsl_cmd(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PARSL_MONITORING", "PARSL_PROGRESS")}
    return subprocess.run([sys.executable, "-m", "parsl.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=check)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "wf.py").write_text(WORKFLOW)
    out = subprocess.run([sys.executable, "wf.py"], cwd=d, capture_output=True, text=True, check=True, timeout=120)
    run_dir, bad = out.stdout.split()
    return d, Path(run_dir), int(bad)


def test_status_names_the_root_cause_and_what_it_took_down(run):
    d, run_dir, bad = run
    out = parsl_cmd("status", str(run_dir), cwd=d).stdout
    assert "finished, 13 tasks" in out
    assert "exec_done 8, failed 1, dep_fail 4" in out
    assert re.search(rf"task {bad} \(boom\) -> 4\s+ValueError: the root of all evil", out), out


def test_status_defaults_to_the_newest_run_under_runinfo(run):
    d, run_dir, _ = run
    assert parsl_cmd("status", cwd=d).stdout.startswith(f"run {run_dir.name}:")


def test_status_without_a_store_says_how_to_get_one(tmp_path):
    proc = parsl_cmd("status", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "runinfo/ does not exist" in proc.stderr
    (tmp_path / "runinfo" / "000").mkdir(parents=True)
    proc = parsl_cmd("status", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and "Config(monitoring=True)" in proc.stderr


def test_top_once_prints_the_status(run):
    d, run_dir, _ = run
    assert "exec_done 8" in parsl_cmd("top", "--once", str(run_dir), cwd=d).stdout


def test_report_writes_html_with_every_task_and_a_png(run):
    d, run_dir, bad = run
    parsl_cmd("report", str(run_dir), "-o", "r.html", "--png", "g.png", cwd=d)
    html = (d / "r.html").read_text()
    assert len(re.findall(r'<g id="task_\d+" class="node task state_', html)) == 13
    assert f'<g id="task_{bad}" class="node task state_failed"' in html
    assert html.count('class="edge failure_chain"') == 4  # bad -> 3 victims -> 1 more
    assert len(re.findall(r'<rect class="bar outcome-', html)) == 9  # 8 good tries and the failed one
    assert (d / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(d.glob(".r.html.tmp-*"))


def test_unknown_command_lists_what_is_installed(tmp_path):
    proc = parsl_cmd("stauts", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "status" in proc.stderr


def _script(d: Path) -> Path:
    s = d / "plain.py"
    s.write_text(
        "import sys, time, parsl\n"
        "from parsl import python_app\n"
        "@python_app\n"
        "def nap(x):\n    time.sleep(0.01)\n    return x\n"
        "with parsl.load() as dfk:\n"
        "    print(sum(f.result() for f in [nap(i) for i in range(int(sys.argv[1]))]))\n"
    )
    return s


def test_parsl_run_monitors_an_unchanged_script_and_passes_its_arguments(tmp_path):
    _script(tmp_path)
    proc = parsl_cmd("run", "plain.py", "40", cwd=tmp_path)
    assert proc.stdout.strip() == str(sum(range(40)))
    assert "%|" not in proc.stderr  # no terminal attached: no progress bar
    out = parsl_cmd("status", cwd=tmp_path).stdout
    assert "exec_done 40" in out and "script plain.py" in out


def test_parsl_run_shows_a_progress_bar_in_a_terminal(tmp_path):
    _script(tmp_path)
    pid, fd = pty.fork()
    if pid == 0:  # the child: a terminal on stdout and stderr
        os.chdir(tmp_path)
        os.execv(sys.executable, [sys.executable, "-m", "parsl.cli", "run", "plain.py", "60"])
    chunks = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 1)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace")
    assert os.WEXITSTATUS(status) == 0, text
    assert "workflow" in text and "60/60" in text, text
