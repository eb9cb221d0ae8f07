"""Benchmark: staging 1,000 small files over HTTP with 8 concurrent transfers, beside curl.

One ``python -m http.server`` on 127.0.0.1 (its own process) serves N files of 1 KiB; in the
same run, best of 3 rounds each:

* ours: ``File(url).stage_in()`` for every file on a kernel whose data manager runs 8
  transfers at once, then every DataFuture waited for (streamed into temp files, renamed);
* baseline: ``curl --parallel --parallel-max 8`` fetching the same N URLs into a directory.

Run alone: ``python bench/scenarios/staging.py [--quick]``. Needs curl
(``apt-get install curl``).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

import parsl
from parsl import File
from parsl.data_provider.data_manager import DataManager

CONCURRENCY = 8


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(root: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", root],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/f0.dat", timeout=1).read()
            return proc, port
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the benchmark's http.server did not start") from None
            time.sleep(0.1)


def _ours(urls: list[str], dest: str) -> float:
    dm = DataManager(max_threads=CONCURRENCY)
    with parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(working_dir=dest)], data_manager=dm)):
        t0 = time.perf_counter()
        futs = [File(u).stage_in() for u in urls]
        for f in futs:
            f.result()
        return time.perf_counter() - t0


def _curl(urls: list[str], dest: str) -> float:
    cfg = os.path.join(dest, "..", f"curl-{os.path.basename(dest)}.cfg")
    with open(cfg, "w") as f:
        for u in urls:
            f.write(f'url = "{u}"\noutput = "{os.path.join(dest, u.rsplit("/", 1)[1])}"\n')
    t0 = time.perf_counter()
    subprocess.run(["curl", "--silent", "--no-progress-meter", "--show-error", "--fail", "--parallel", "--parallel-max", str(CONCURRENCY), "-K", cfg], check=True)
    return time.perf_counter() - t0


def run(quick: bool) -> list[dict[str, Any]]:
    if shutil.which("curl") is None:
        raise RuntimeError("the staging benchmark compares with curl: install it (apt-get install curl)")
    n = 200 if quick else 1_000
    rounds = 1 if quick else 3
    work = tempfile.mkdtemp(prefix="parsl-bench-staging-")
    here = os.getcwd()
    os.chdir(work)
    root = os.path.join(work, "served")
    os.mkdir(root)
    payload = os.urandom(1024)
    for i in range(n):
        with open(os.path.join(root, f"f{i}.dat"), "wb") as f:
            f.write(payload)
    proc, port = _serve(root)
    urls = [f"http://127.0.0.1:{port}/f{i}.dat" for i in range(n)]
    best: dict[str, float] = {}
    try:
        for r in range(rounds):
            for name, fn in (("ours", _ours), ("curl", _curl)):
                dest = os.path.join(work, f"{name}-{r}")
                os.mkdir(dest)
                elapsed = fn(urls, dest)
                if len(os.listdir(dest)) != n:
                    raise RuntimeError(f"{name} staged {len(os.listdir(dest))} of {n} files")
                best[name] = min(best.get(name, float("inf")), elapsed)
    finally:
        proc.kill()
        proc.wait()
        parsl.clear()
        os.chdir(here)
        shutil.rmtree(work, ignore_errors=True)
    return [
        {
            "scenario": "http_stage_in",
            "metric": f"{n} files of 1 KiB over HTTP, {CONCURRENCY} concurrent transfers (baseline: curl --parallel)",
            "ours": round(n / best["ours"], 1),
            "baseline": round(n / best["curl"], 1),
            "unit": "files/s",
            "higher_is_better": True,
            "target": ">= 0.7x",
        }
    ]


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(row)
