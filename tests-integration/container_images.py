"""The container engines and images of the container tests.

The engines are started machine-wide by ``services/docker/start.sh`` and
``services/podman/start.sh`` (their base image, ``parsl-ci/worker-base``, holds python3 and the
worker's third-party dependencies). Here, once per test session, the project's own packages
are built into wheels and layered on top (``parsl-ci/worker:test``), and the seeds' example
images ``app1_v0.1``/``app2_v0.1`` are built from ``examples/docker`` on that: nothing is pulled
from a registry, and the containers run the code under test.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORKER_TAG = "parsl-ci/worker:test"
STATES = {"docker": pathlib.Path("/var/tmp/parsl-docker"), "podman": pathlib.Path("/var/tmp/parsl-podman")}
BASE = {"docker": "parsl-ci/worker-base:latest", "podman": "localhost/parsl-ci/worker-base:latest"}
_built: dict[str, Any] = {}


def engine_env(engine: str) -> dict[str, str] | None:
    """The variables of the engine's env.sh, or ``None`` when the service is not set up."""
    env: dict[str, str] = {}
    try:
        text = (STATES[engine] / "env.sh").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        for word in line.removeprefix("export ").split():
            key, _, value = word.partition("=")
            env[key] = value
    return env


def cli(engine: str, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **(engine_env(engine) or {})}
    done = subprocess.run([engine, *args], capture_output=True, text=True, timeout=timeout, env=env)
    if check and done.returncode != 0:
        raise RuntimeError(f"{engine} {' '.join(args[:3])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
    return done


def why_not_ready(engine: str) -> str | None:
    """Why the engine cannot be used here, or ``None``."""
    if engine_env(engine) is None:
        return f"the {engine} service is not set up (run tests-integration/services/{engine}/start.sh as root)"
    if shutil.which(engine) is None:
        return f"no {engine} command on PATH"
    try:
        done = cli(engine, "image", "inspect", BASE[engine], timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return f"{engine} did not answer within 30 s"
    if done.returncode != 0:
        return f"{engine}: base image {BASE[engine]} missing ({done.stderr.strip()[-300:]}); rerun services/{engine}/start.sh"
    return None


def _wheels() -> pathlib.Path:
    if "wheels" not in _built:
        out = pathlib.Path(tempfile.mkdtemp(prefix="parsl-ci-wheels-"))
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out / "dist"), str(ROOT / "packages/parsl-core"), str(ROOT / "packages/parsl-executors")],
            check=True, capture_output=True, timeout=300,
        )
        site = out / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), *map(str, (out / "dist").glob("*.whl"))], check=True, capture_output=True, timeout=300)
        (out / "Dockerfile").write_text(
            "ARG BASE\nFROM ${BASE}\n"
            f"COPY site/ /usr/local/lib/python{sys.version_info[0]}.{sys.version_info[1]}/dist-packages/\n"
        )
        _built["wheels"] = out
    return _built["wheels"]  # type: ignore[no-any-return]


def build_images(engine: str) -> str:
    """Build (once per session) the worker image and the example's app images; the worker tag."""
    if engine not in _built:
        ctx = _wheels()
        cli(engine, "build", "-q", "--build-arg", f"BASE={BASE[engine]}", "-t", WORKER_TAG, str(ctx), timeout=300)
        for app in ("app1", "app2"):
            cli(engine, "build", "-q", "--build-arg", f"BASE={WORKER_TAG}", "-t", f"{app}_v0.1", str(ROOT / "examples/docker" / app), timeout=300)
        cli(engine, "image", "prune", "-f", timeout=120)  # the previous sessions' layers
        _built[engine] = WORKER_TAG
    return WORKER_TAG  # type: ignore[no-any-return]


def ours(engine: str) -> list[str]:
    """Every container (running or not) that carries parsl's run label."""
    return cli(engine, "ps", "-aq", "--filter", "label=org.parsl.run").stdout.split()
