"""Checkpoints across real driver processes: a driver killed with SIGKILL resumes without
running any completed task again, and drivers started together never share a run dir or a
checkpoint file."""
from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from parsl.dataflow import checkpoint_store

N = 1000

DRIVER = textwrap.dedent(
    """
    import json, os, sys
    import parsl
    from parsl import python_app
    from parsl.utils import get_last_checkpoint

    side_log, done_log, out, mode = sys.argv[1:5]
    N = int(sys.argv[5])
    checkpoint_mode = sys.argv[6]

    @python_app(cache=True, ignore_for_cache=["log"])
    def work(i, log=None):
        import time
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, f"{i}\\n".encode())
        os.close(fd)
        time.sleep(0.01)
        return [i, i * i + 7, f"result-{i}"]

    done = os.open(done_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def report(fut):
        os.write(done, f"{fut.result()[0]}\\n".encode())

    cfg = parsl.Config(
        executors=[parsl.ThreadPoolExecutor(max_workers=4)],
        checkpoint_mode=checkpoint_mode,
        checkpoint_files=get_last_checkpoint() if mode == "resume" else (),
    )
    with parsl.load(cfg):
        futs = [work(i, log=side_log) for i in range(N)]
        for f in futs:
            f.add_done_callback(report)
        results = [f.result() for f in futs]
    with open(out, "w") as f:
        json.dump(results, f)
    """
)


def _lines(path: str) -> list[int]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [int(x) for x in f.read().split("\n")[:-1]]  # a last line without newline is torn


def _run(cwd: str, tag: str, mode: str, checkpoint_mode: str = "task_exit") -> subprocess.Popen[bytes]:
    os.makedirs(cwd, exist_ok=True)
    script = os.path.join(cwd, "driver.py")
    with open(script, "w") as f:
        f.write(DRIVER)
    return subprocess.Popen(
        [sys.executable, script, f"side-{tag}.log", f"done-{tag}.log", f"out-{tag}.json", mode, str(N), checkpoint_mode],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "checkpoint_mode"),
    [(signal.SIGKILL, "task_exit"), (signal.SIGINT, "dfk_exit"), (signal.SIGINT, "task_exit")],
    ids=["sigkill-task_exit", "sigint-dfk_exit", "sigint-task_exit"],
)
def test_driver_killed_then_resumed(tmp_path: os.PathLike[str], sig: signal.Signals, checkpoint_mode: str) -> None:
    """SIGKILL: nothing runs at exit, so only task_exit keeps results. SIGINT: the kernel is
    cleaned up at exit (outstanding tasks finish, a dfk_exit checkpoint is written)."""
    ref_dir = os.path.join(tmp_path, "ref")
    p = _run(ref_dir, "ref", "fresh")
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    with open(os.path.join(ref_dir, "out-ref.json")) as f:
        reference = json.load(f)

    work = os.path.join(tmp_path, "work")
    p = _run(work, "1", "fresh", checkpoint_mode)
    deadline = time.monotonic() + 120
    while len(_lines(os.path.join(work, "done-1.log"))) < 500:
        assert p.poll() is None, "the driver ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.002)
    p.send_signal(sig)
    p.wait(timeout=60)
    assert p.returncode != 0
    if sig == signal.SIGKILL:
        assert p.returncode == -signal.SIGKILL
    done1 = set(_lines(os.path.join(work, "done-1.log")))
    ran1 = _lines(os.path.join(work, "side-1.log"))

    run1_ckpt = os.path.join(work, "runinfo", "000", "checkpoint")
    checkpointed = {e.value()[0] for f in checkpoint_store.tasks_files(run1_ckpt) for e in checkpoint_store.read_file(f)}
    assert len(done1) >= 500
    if sig == signal.SIGKILL:
        assert len(checkpointed) < N, "every task finished before the kill; nothing was tested"
    assert done1 <= checkpointed, "a result the driver saw was not in its checkpoint"
    assert checkpointed <= set(ran1)

    p = _run(work, "2", "resume", checkpoint_mode)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    ran2 = _lines(os.path.join(work, "side-2.log"))
    counts = collections.Counter(ran2)
    assert not (set(ran2) & checkpointed), "a completed task ran again"
    assert set(ran2) == set(range(N)) - checkpointed, "an unfinished task did not run"
    assert all(c == 1 for c in counts.values()), "an unfinished task ran more than once"
    with open(os.path.join(work, "out-2.json")) as f:
        assert json.load(f) == reference


CONCURRENT = textwrap.dedent(
    """
    import os, sys, time
    import parsl
    from parsl import python_app

    tag = sys.argv[1]
    while not os.path.exists("go"):
        time.sleep(0.001)

    @python_app(cache=True)
    def f(i, tag):
        return [tag, i]

    if sys.argv[2] == "shared":  # every driver told to use the same run dir
        dfk = parsl.DataFlowKernel(executors=[parsl.ThreadPoolExecutor(max_workers=2)], rundir="shared", checkpointMode="task_exit")
    else:
        dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], checkpoint_mode="task_exit"))
    with dfk:
        assert [f(i, tag).result() for i in range(10)] == [[tag, i] for i in range(10)]
        print(dfk.run_dir)
    """
)


@pytest.mark.slow
def test_twenty_drivers_started_together_get_their_own_run_dirs(tmp_path: os.PathLike[str]) -> None:
    script = os.path.join(tmp_path, "driver.py")
    with open(script, "w") as f:
        f.write(CONCURRENT)
    procs = [
        subprocess.Popen([sys.executable, script, f"d{i}", "numbered"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(20)
    ]
    time.sleep(1.0)  # let them all import parsl and reach the starting line
    open(os.path.join(tmp_path, "go"), "w").close()
    run_dirs = []
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        run_dirs.append((f"d{i}", out.decode().strip()))
    assert len({d for _, d in run_dirs}) == 20
    for tag, d in run_dirs:
        assert os.path.dirname(d) == os.path.join(tmp_path, "runinfo")
        ckpt = os.path.join(d, "checkpoint")
        assert sorted(os.listdir(ckpt)) == ["dfk.pkl", "tasks.pkl"]
        entries = checkpoint_store.read_file(os.path.join(ckpt, "tasks.pkl"))
        assert sorted(e.value()[1] for e in entries) == list(range(10))
        assert {e.value()[0] for e in entries} == {tag}


@pytest.mark.slow
def test_drivers_told_to_share_a_run_dir_still_write_separate_files(tmp_path: os.PathLike[str]) -> None:
    script = os.path.join(tmp_path, "driver.py")
    with open(script, "w") as f:
        f.write(CONCURRENT)
    procs = [
        subprocess.Popen([sys.executable, script, f"d{i}", "shared"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(10)
    ]
    time.sleep(1.0)
    open(os.path.join(tmp_path, "go"), "w").close()
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    ckpt = os.path.join(tmp_path, "shared", "checkpoint")
    files = sorted(os.listdir(ckpt))
    assert files == sorted(["dfk.pkl", "tasks.pkl"] + [f"tasks.{n}.pkl" for n in range(1, 10)])
    tags = []
    for name in files:
        if name == "dfk.pkl":  # the run record 0.5.0 kept beside tasks.pkl
            continue
        entries = checkpoint_store.read_file(os.path.join(ckpt, name))
        assert sorted(e.value()[1] for e in entries) == list(range(10))
        (tag,) = {e.value()[0] for e in entries}
        tags.append(tag)
    assert sorted(tags) == sorted(f"d{i}" for i in range(10))
