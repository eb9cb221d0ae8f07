"""Launchers are pure functions: golden strings, bash -n, and the emitted shell run for real
where the tool exists here (bash for single node, Open MPI's mpiexec when installed)."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess

import pytest

from libsubmit import launchers
from libsubmit.launchers import LAUNCHERS, singleNodeLauncher
from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.interfaces import Launcher

GOLDEN = pathlib.Path(__file__).parent / "golden" / "launchers"
CMD = "process_worker --url 'tcp://127.0.0.1:5000' \"$HOME\""


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_golden(name: str) -> None:
    text = LAUNCHERS[name](CMD, 2, nodes_per_block=3)
    golden = GOLDEN / f"{name}.sh"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
@pytest.mark.parametrize("tasks", [1, 4, "$(($CORES / 2))"])
def test_emitted_shell_parses(name: str, tasks: int | str) -> None:
    text = LAUNCHERS[name](CMD, tasks, nodes_per_block=2)
    subprocess.run(["bash", "-n"], input=text, text=True, check=True)


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_registered_as_plugins_and_match_protocol(name: str) -> None:
    fn = plugins.get("launcher", name)
    assert fn is LAUNCHERS[name]
    assert isinstance(fn, Launcher)


def test_documented_names_and_walltime_keyword() -> None:
    for doc in ("singleNodeLauncher", "srunLauncher", "srunMpiLauncher", "aprunLauncher"):
        fn = getattr(launchers, doc)
        assert fn("echo x", "1", walltime=10) == fn("echo x", 1)


@pytest.mark.parametrize("name", sorted(LAUNCHERS))
def test_050_positional_signature_cmd_taskblocks_walltime(name: str) -> None:
    """0.5.0 documents ``(cmd_string, taskBlocks, walltime=None)``: a third positional argument
    is the walltime, never the node count."""
    fn = LAUNCHERS[name]
    assert fn(CMD, 2, "00:10:00") == fn(CMD, 2) == fn(CMD, 2, None, 1)
    assert fn(CMD, 2, "00:10:00", 3) == fn(CMD, 2, nodes_per_block=3)
    assert plugins.get("launcher", "singleNode") is singleNodeLauncher
    assert plugins.get("launcher", "srunMpi") is launchers.srunMpiLauncher


@pytest.mark.parametrize("tasks", [0, -1, "", "1\nrm -rf /", True, 1.5])
def test_bad_task_blocks(tasks: object) -> None:
    with pytest.raises(ConfigurationError, match="taskBlocks"):
        singleNodeLauncher("echo", tasks)  # type: ignore[arg-type]


def test_bad_nodes_and_command() -> None:
    with pytest.raises(ConfigurationError, match="nodes_per_block"):
        singleNodeLauncher("echo", 1, nodes_per_block=0)
    with pytest.raises(ConfigurationError, match="cmd_string"):
        singleNodeLauncher("  ", 1)


def _run(script: str, tmp_path: pathlib.Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})})


def test_single_node_runs_each_worker(tmp_path: pathlib.Path) -> None:
    cmd = 'echo "worker $$ sees '"'quoted'"' args" >> out.txt'
    r = _run(singleNodeLauncher(cmd, 3), tmp_path)
    assert r.returncode == 0, r.stderr
    lines = (tmp_path / "out.txt").read_text().splitlines()
    assert len(lines) == 3 and all(line.endswith("sees 'quoted' args") for line in lines)
    assert len({line.split()[1] for line in lines}) == 3  # three distinct processes


def test_single_node_bash_expression_uses_cores(tmp_path: pathlib.Path) -> None:
    r = _run(singleNodeLauncher("echo x >> out.txt", "$(($CORES * 2))"), tmp_path)
    assert r.returncode == 0, r.stderr
    assert len((tmp_path / "out.txt").read_text().splitlines()) == 2 * os.cpu_count()  # type: ignore[operator]


def test_single_node_reports_a_failing_worker(tmp_path: pathlib.Path) -> None:
    r = _run(singleNodeLauncher('mkdir lock 2>/dev/null || exit 7', 2), tmp_path)
    # mkdir is atomic: exactly one of the two workers fails
    assert r.returncode == 7


@pytest.mark.skipif(shutil.which("mpiexec") is None, reason="mpiexec not installed (apt-get install openmpi-bin)")
def test_mpiexec_runs_workers(tmp_path: pathlib.Path) -> None:
    # Open MPI refuses root and more ranks than cores unless told otherwise; hwloc's GL plugin
    # would wait 30 s on any server that happens to listen on 127.0.0.1:6000-6063 (an X display)
    env = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1", "OMPI_MCA_rmaps_base_oversubscribe": "1", "HWLOC_COMPONENTS": "-gl"}
    r = _run(launchers.mpiexecLauncher('echo "rank $OMPI_COMM_WORLD_RANK" >> out.txt', 3, nodes_per_block=1), tmp_path, env)
    assert r.returncode == 0, r.stderr
    ranks = sorted((tmp_path / "out.txt").read_text().splitlines())
    assert ranks == ["rank 0", "rank 1", "rank 2"]
