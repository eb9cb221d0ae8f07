"""Workers in containers: time to first result with the ipp executor's engines in a container
(docker, and podman when set up) against the same executor with bare engines, same run.

Needs the engines of tests-integration/services/{docker,podman}/start.sh; the worker image is
built from the checkout (tests-integration/container_images.py). An engine that is not set up
gives no row (it is named on stderr). Target: at most twice the bare time (>= 0.5x).
Run alone: ``python bench/scenarios/containers.py``.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_ns: dict[str, Any] = {"__name__": "__main__"}
exec("def noop(*a):\n    return None\n", _ns)
noop = _ns["noop"]


def _site(container: dict[str, str] | None) -> dict[str, Any]:
    execution: dict[str, Any] = {"executor": "ipp", "provider": "local", "block": {"initBlocks": 1, "maxBlocks": 1, "taskBlocks": 1}}
    if container:
        execution["container"] = container
    return {"site": "pool", "auth": {"channel": None}, "execution": execution}


def _first_result(container: dict[str, str] | None) -> float:
    import parsl

    work = tempfile.mkdtemp(prefix="bench-containers-")
    cwd = os.getcwd()
    os.chdir(work)
    try:
        t = time.perf_counter()
        dfk = parsl.DataFlowKernel(config={"sites": [_site(container)], "globals": {"lazyErrors": True}})
        try:
            parsl.python_app(noop, data_flow_kernel=dfk)().result(timeout=120)
            return time.perf_counter() - t
        finally:
            dfk.cleanup()
    finally:
        os.chdir(cwd)


def run(quick: bool) -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT / "tests-integration"))
    import container_images as images

    rows = []
    for engine in ("docker", "podman"):
        why = images.why_not_ready(engine)
        if why:
            print(f"containers bench: no {engine} row: {why}", file=sys.stderr)
            continue
        tag = images.build_images(engine)
        saved = dict(os.environ)
        os.environ.update(images.engine_env(engine) or {})
        try:
            bare, boxed = float("inf"), float("inf")
            for _ in range(1 if quick else 2):  # interleaved, best of each: the machine is shared
                bare = min(bare, _first_result(None))
                boxed = min(boxed, _first_result({"type": engine, "image": tag}))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        rows.append({
            "scenario": f"containers {engine}",
            "metric": "DataFlowKernel to first result, engine in a container vs bare engine (same executor)",
            "ours": round(boxed, 3), "baseline": round(bare, 3), "unit": "s", "higher_is_better": False, "target": ">= 0.5x",
        })
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv[1:]):
        print(f"{r['scenario']}: in a container {r['ours']} s, bare {r['baseline']} s ({r['baseline'] / r['ours']:.2f}x)")
