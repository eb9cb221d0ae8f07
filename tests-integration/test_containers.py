"""Workers in containers on real engines: Docker (Debian's dockerd on a private socket) and
Podman (runc, private storage), started by tests-integration/services/{docker,podman}; images
built offline in the run (tests-integration/container_images.py). Engines use the host network
so they reach the controller on 127.0.0.1.

- the seeds' app1/app2 example (examples/docker) end to end: two sites, two images;
- a container killed mid-task is worker loss and the task is retried in a new container;
- a missing image and an unreachable daemon fail the task with a clear ScalingFailed in < 30 s;
- nothing of ours is left (``docker ps -a``) after cleanup, also after a SIGKILLed driver.
"""
from __future__ import annotations

import os
import pathlib
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import container_images as images
from ipp_helpers import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("ipp_stack")]
ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.fixture(params=["docker", "podman"])
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    return _ready(request.param, monkeypatch)


@pytest.fixture
def docker(monkeypatch: pytest.MonkeyPatch) -> str:
    return _ready("docker", monkeypatch)


def _ready(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    pytest.importorskip("parsl_containers", reason="needs parsl-containers")
    why = images.why_not_ready(name)
    if why:
        pytest.skip(why)
    images.build_images(name)
    for key, value in (images.engine_env(name) or {}).items():
        monkeypatch.setenv(key, value)  # the blocks inherit it
    return name


def _site(name: str, engine: str, image: str, **block: Any) -> dict[str, Any]:
    shape = {"initBlocks": 1, "minBlocks": 0, "maxBlocks": 1, "taskBlocks": 1, **block}
    return {
        "site": name,
        "auth": {"channel": None},
        "execution": {"executor": "ipp", "provider": "local", "container": {"type": engine, "image": image}, "block": shape},
    }


def test_seeds_example_two_sites_two_images(engine: str, tmp_path: pathlib.Path) -> None:
    shutil.copy(ROOT / "examples/docker/docker_apps.py", tmp_path)  # its runinfo/ and scripts/ go there
    env = {**os.environ, "PYTHONPATH": ""}
    run = subprocess.run([sys.executable, "docker_apps.py", engine], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    # app1 and app2 exist only in their images: each result proves its site ran in its image
    assert "app_1: [2, 4, 6]" in run.stdout and "app_2: [4, 16, 36]" in run.stdout
    assert images.ours(engine) == []


def test_container_killed_mid_task_is_worker_loss_and_retried(docker: str, tmp_path: pathlib.Path) -> None:
    from parsl import App, DataFlowKernel

    dfk = DataFlowKernel(config={"sites": [_site("pool", docker, images.WORKER_TAG)], "globals": {"lazyErrors": True, "retries": 1}})
    marker = tmp_path / "attempt-1"

    @App("python", dfk)
    def once_slow(marker: str) -> str:
        import os
        import time

        if os.path.exists(marker):
            return "second attempt"
        open(marker, "w").close()
        time.sleep(120)
        return "first attempt"

    fut = once_slow(str(marker))
    assert wait_until(marker.exists, 90), "the task never started in its container"
    first = images.ours(docker)
    assert len(first) == 1
    images.cli(docker, "kill", first[0])
    assert fut.result(timeout=120) == "second attempt"
    assert images.ours(docker) and images.ours(docker) != first  # a new container took over
    dfk.cleanup()
    assert images.ours(docker) == []
    log = (pathlib.Path(dfk.run_dir) / "parsl.log").read_text()
    assert "EngineLost" in log and "retry 1 of 1" in log


@pytest.mark.parametrize(("engine_name", "case"), [("docker", "missing image"), ("podman", "missing image"), ("docker", "stopped daemon")])
def test_engine_failure_is_a_clear_error_within_30s(engine_name: str, case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The stopped daemon is a socket no daemon listens on (the shared daemon stays up for
    the other tests); the docker client sees exactly what it sees when dockerd is stopped.
    Podman has no daemon to stop."""
    from parsl import App, DataFlowKernel
    from parsl.executors.errors import ScalingFailed

    engine = _ready(engine_name, monkeypatch)
    image, expect = "parsl-ci/absent:1", {"docker": "No such image", "podman": "image not known"}[engine]
    if case == "stopped daemon":
        image, expect = images.WORKER_TAG, "Cannot connect to the Docker daemon"
        monkeypatch.setenv("DOCKER_HOST", "unix:///var/tmp/parsl-docker/stopped.sock")
    dfk = DataFlowKernel(config={"sites": [_site("pool", engine, image)], "globals": {"lazyErrors": True}})

    @App("python", dfk)
    def never() -> int:
        return 1

    began = time.monotonic()
    with pytest.raises(ScalingFailed) as info:
        never().result(timeout=30)
    assert time.monotonic() - began < 30
    assert expect in info.value.stderr_tail and expect in str(info.value)
    blocks = len(dfk.executors["pool"].execution_provider._jobs)
    t0 = time.monotonic()
    dfk.cleanup()
    assert time.monotonic() - t0 < 30
    assert blocks == 3  # the cap; no endless resubmission


DRIVER = textwrap.dedent(
    """
    import sys, time
    from parsl import App, DataFlowKernel
    from parsl.interfaces import site_from_dict
    from libsubmit.providers.local.local import Local
    from parsl_executors.ipp import IPyParallelExecutor

    site = site_from_dict({"site": "pool", "auth": {"channel": None}, "execution": {"executor": "ipp",
        "provider": "local", "container": {"type": sys.argv[2], "image": sys.argv[1]},
        "block": {"initBlocks": 1, "maxBlocks": 1}}}, "sites[0]")
    ex = IPyParallelExecutor.from_site(site, {})
    ex.controller_misses = 100000  # the engine must not stop on its own when the controller goes
    dfk = DataFlowKernel(executors=[ex])

    @App("python", dfk)
    def forever():
        import time
        time.sleep(600)

    forever()
    ex.wait_for_engines(1, timeout=90)
    print("ready", flush=True)
    time.sleep(600)
    """
)


def test_containers_of_a_sigkilled_driver_are_removed_by_the_next_run(engine: str, tmp_path: pathlib.Path) -> None:
    docker = engine
    (tmp_path / "driver.py").write_text(DRIVER)
    before = set(images.ours(docker))
    driver = subprocess.Popen([sys.executable, "driver.py", images.WORKER_TAG, engine], cwd=tmp_path, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert driver.stdout is not None and driver.stdout.readline().strip() == "ready"
        left = set(images.ours(docker)) - before
        assert len(left) == 1
    finally:
        os.killpg(driver.pid, signal.SIGKILL)
        driver.wait()
    time.sleep(1)
    assert set(images.ours(docker)) - before == left  # SIGKILL left the container running

    from parsl import DataFlowKernel

    dfk = DataFlowKernel(config={"sites": [_site("pool", docker, images.WORKER_TAG, initBlocks=0)], "globals": {"lazyErrors": True}})
    try:
        assert not set(images.ours(docker)) & left  # removed when the next run started
    finally:
        dfk.cleanup()
    assert images.ours(docker) == []
