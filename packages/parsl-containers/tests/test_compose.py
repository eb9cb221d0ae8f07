"""The command lines each engine composes, golden-tested, and the shell they hold run for real.

No Singularity or Apptainer runtime exists on these machines (neither is packaged for Debian
12), so for those engines no engine runs: their command lines are checked against golden
files, parsed by bash, and the script they hand to the container is executed by a stand-in
``singularity`` on PATH that runs it on the host (the binds and the image are ignored). Docker
and Podman run for real in tests-integration/test_containers_*.py.
"""
from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import sys

import pytest

from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.interfaces import ContainerEngine, Mount, WorkerLaunch, container_from_spec
from parsl_containers.daemon import Docker, Podman
from parsl_containers.singularity import Apptainer, Singularity

GOLDEN = pathlib.Path(__file__).parent / "golden"
LAUNCH = WorkerLaunch(
    command="exec python3 -m worker --url 'tcp://127.0.0.1:5000' \"$HOME\"",
    workdir="/home/alice/run dir",
    mounts=(Mount("/scratch/runinfo/000"), Mount("/data/refs", "/refs", read_only=True), Mount("/home/alice/run dir")),
    env={"OMP_NUM_THREADS": "1"},
    pass_env=("PARSL_BLOCK", "PARSL_KEY_FILE"),
    labels={"org.parsl.run": "r-1", "org.parsl.executor": "pool_app1", "org.parsl.driver": "vm:42:777"},
    python_path=("/home/alice/code",),
    block_env="PARSL_BLOCK",
)
ENGINES: dict[str, ContainerEngine] = {
    "docker": Docker("app1_v0.1"),
    "podman": Podman("localhost/app1_v0.1", init=True, run_args=["--cpus", "1"]),
    "singularity": Singularity("/images/app1.sif", exec_args=["--nv"]),
    "apptainer": Apptainer("/images/app1.sif"),
}


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_golden(name: str) -> None:
    text = ENGINES[name].wrap(LAUNCH) + "\n"
    golden = GOLDEN / f"{name}.sh"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)


@pytest.mark.parametrize("name", ["docker", "podman"])
def test_daemon_engines_label_mount_and_pass_without_values(name: str) -> None:
    argv = shlex.split(ENGINES[name].wrap(LAUNCH))
    assert argv[:2] == [name, "run"] and ["--pull", "never"] == argv[3:5]
    assert "org.parsl.run=r-1" in argv and "org.parsl.block=${PARSL_BLOCK:-}" in argv
    # one bind per host path, the work dir and the code dir included
    binds = [argv[i + 1] for i, a in enumerate(argv) if a == "-v"]
    assert binds == ["/home/alice/run dir:/home/alice/run dir", "/home/alice/code:/home/alice/code:ro", "/scratch/runinfo/000:/scratch/runinfo/000", "/data/refs:/refs:ro"]
    # passed variables are named, never given a value on the command line
    assert "PARSL_KEY_FILE" in argv and not any(a.startswith("PARSL_KEY_FILE=") for a in argv)


def _fake_singularity(tmp_path: pathlib.Path) -> dict[str, str]:
    """A stand-in ``singularity`` that drops the options and the image and runs the rest."""
    fake = tmp_path / "bin" / "singularity"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/bash\n[ \"$1\" = exec ] || exit 64; shift\n"
        "while [ $# -gt 0 ]; do case $1 in --bind|--env) shift 2;; --*) shift;; *) break;; esac; done\n"
        "shift  # the image\nexec \"$@\"\n"
    )
    fake.chmod(0o755)
    return {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}"}


def test_singularity_inner_script_runs(tmp_path: pathlib.Path) -> None:
    work = tmp_path / "work dir"
    code = tmp_path / "code"
    work.mkdir()
    code.mkdir()
    (code / "mymod.py").write_text("VALUE = 42\n")
    probe = f"{shlex.quote(sys.executable)} -c 'import os, mymod; print(os.getcwd(), mymod.VALUE)'"
    cmd = Singularity("/images/x.sif").wrap(WorkerLaunch(command=probe, workdir=str(work), python_path=(str(code),)))
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=_fake_singularity(tmp_path), cwd="/", timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [*str(work).split(), "42"]


def test_missing_workdir_exits_125(tmp_path: pathlib.Path) -> None:
    cmd = Singularity("/images/x.sif").wrap(WorkerLaunch(command="true", workdir=str(tmp_path / "absent")))
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, env=_fake_singularity(tmp_path), timeout=60)
    assert out.returncode == 125


def test_plugins_registered_and_built_from_the_050_dict() -> None:
    assert {"docker", "podman", "singularity", "apptainer"} <= set(plugins.names("container"))
    engine = container_from_spec({"type": "podman", "image": "app2_v0.1", "pull": "missing"}, "sites[1].execution.container")
    assert isinstance(engine, Podman) and engine.image == "app2_v0.1" and engine.pull == "missing"


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        ({"type": "dokcer", "image": "x"}, r"sites\[0\]\.execution\.container\.type.*did you mean 'docker'"),
        ({"type": "docker"}, r"sites\[0\]\.execution\.container\.image: must name a container image"),
        ({"type": "docker", "image": " "}, r"container\.image"),
        ({"image": "x"}, r"sites\[0\]\.execution\.container\.type: missing"),
        ({"type": "docker", "image": "x", "pull": "sometimes"}, r"container\.pull: must be one of never, missing, always"),
        ({"type": "docker", "image": "x", "gpus": 2}, r"sites\[0\]\.execution\.container\.gpus: unknown key 'gpus' for the 'docker' container engine"),
        ({"type": "docker", "image": "x", "run_arg": ["--gpus"]}, r"container\.run_arg: .*did you mean 'run_args'"),
        ({"type": "singularity", "image": "x", "pull": "never"}, r"container\.pull: unknown key 'pull' for the 'singularity'"),
        ("docker:x", r"expected a dict"),
    ],
)
def test_bad_container_specs_name_the_key(spec: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        container_from_spec(spec, "sites[0].execution.container")  # type: ignore[arg-type]


def test_bad_names_in_a_launch() -> None:
    with pytest.raises(ConfigurationError, match="not an environment variable name"):
        Docker("x").wrap(WorkerLaunch(command="true", workdir="/", pass_env=("A;rm -rf /",)))
    with pytest.raises(ConfigurationError, match="worker command is empty"):
        Docker("x").wrap(WorkerLaunch(command=" ", workdir="/"))


def test_remove_refuses_an_empty_filter() -> None:
    with pytest.raises(ValueError, match="without a label filter"):
        Docker("x").remove({})


def test_missing_cli_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    engine = Docker("x", executable="/nonexistent/docker")
    assert engine.remove({"org.parsl.run": "r"}, timeout=5) == [] and engine.remove_orphans(timeout=5) == []
    assert "not on PATH" in caplog.text
