"""Building the IPyParallelExecutor from 0.5.0 dicts and sites; the controller settings."""
from __future__ import annotations

import json
import os

import pytest

from parsl.errors import ConfigurationError
from parsl.interfaces import ExecutorContext, site_from_dict


def test_controller_from_the_0_5_0_block() -> None:
    from parsl_executors.ipp.controller import Controller

    c = Controller.from_dict({"publicIp": "10.0.0.5", "port": 55000, "reuse": True, "profile": "p", "ipythonDir": "/x"})
    assert (c.public_ip, c.port, c.reuse, c.profile, c.ipython_dir) == ("10.0.0.5", 55000, True, "p", "/x")
    assert Controller.from_dict(None).public_ip == "127.0.0.1"
    with pytest.raises(ConfigurationError, match=r"controller\.publicIp"):
        Controller.from_dict({"publicIp": "*"})


def test_reuse_without_a_running_controller_is_a_clear_error(tmp_path) -> None:
    from parsl_executors.ipp.controller import Controller, ControllerError

    c = Controller(reuse=True, profile="none", ipython_dir=str(tmp_path))
    with pytest.raises(ControllerError, match="no running controller"):
        c.start(str(tmp_path))


def test_own_controller_binds_the_configured_address(tmp_path) -> None:
    pytest.importorskip("ipyparallel")
    from parsl_executors.ipp.controller import Controller

    c = Controller.from_dict({"publicIp": "127.0.0.1"})
    c.start(str(tmp_path))
    try:
        with open(c.engine_file) as f:
            info = json.load(f)
        assert info["interface"] == "tcp://127.0.0.1"
        assert c.profile_dir.startswith(str(tmp_path))
    finally:
        pid = c.pid
        c.close()
        c.close()
    assert not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z"


def test_executor_from_a_0_5_0_site_dict() -> None:
    from parsl_executors.ipp import IPyParallelExecutor

    site = {"site": "Cluster", "auth": {"channel": None},
            "execution": {"executor": "ipp", "provider": None, "block": {"taskBlocks": 3, "minBlocks": 1, "maxBlocks": 5, "parallelism": 0.5}}}
    ex = IPyParallelExecutor(config=site)
    assert ex.label == "Cluster"
    assert (ex.policy.tasks_per_block, ex.policy.min_blocks, ex.policy.max_blocks, ex.policy.parallelism) == (3, 1, 5, 0.5)
    assert not ex.scaling_enabled


def test_from_site_unknown_provider_names_the_key() -> None:
    from parsl_executors.ipp import IPyParallelExecutor

    site = site_from_dict({"site": "X", "execution": {"executor": "ipp", "provider": "nosuchprovider"}}, "sites[1]")
    with pytest.raises(ConfigurationError, match=r"sites\[1\]\.execution\.provider"):
        IPyParallelExecutor.from_site(site, {})


def test_the_ipp_entry_point_and_lazy_paths() -> None:
    from parsl import plugins
    from parsl.executors.ipp import IPyParallelExecutor as Lazy
    from parsl_executors import IPyParallelExecutor

    assert plugins.get("executor", "ipp") is IPyParallelExecutor is Lazy


def test_the_ipp_package_keeps_the_earlier_and_0_5_0_paths() -> None:
    from parsl.executors.ipp_controller import Controller as Lazy050
    from parsl_executors import Controller as Top
    from parsl_executors import EngineLost
    from parsl_executors.ipp import ENGINE_JSON_VAR, IPyParallelExecutor
    from parsl_executors.ipp import Controller as InPackage
    from parsl_executors.ipp import EngineLost as LostInPackage
    from parsl_executors.ipp.controller import Controller
    from parsl_executors.ipp.executor import IPyParallelExecutor as InModule
    from parsl_executors.ipp_controller import Controller as Earlier

    assert IPyParallelExecutor is InModule
    assert Controller is InPackage is Earlier is Lazy050 is Top
    assert EngineLost is LostInPackage and ENGINE_JSON_VAR == "PARSL_IPP_ENGINE_JSON"
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        import parsl_executors.ipp as package

        package.Nope  # noqa: B018


def test_an_engine_importing_the_task_runner_loads_nothing_else() -> None:
    """What an engine imports to run a task (``ipp.worker``) pulls in neither the executor
    nor cloudpickle nor parsl: the package resolves its names lazily."""
    import subprocess
    import sys

    code = "import sys, parsl_executors.ipp.worker; print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in ('parsl', 'parsl_executors', 'cloudpickle', 'ipyparallel'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert loaded == ["parsl_executors", "parsl_executors.ipp", "parsl_executors.ipp.worker"]


def test_not_started_and_no_provider_errors(tmp_path) -> None:
    from parsl.executors.errors import ScalingFailed
    from parsl_executors.ipp import IPyParallelExecutor

    ex = IPyParallelExecutor()
    with pytest.raises(RuntimeError, match="not been started"):
        ex.submit(print)
    with pytest.raises(ScalingFailed):
        ex.scale_out(1)
    ex.shutdown()
    ex.shutdown()


Holdings = tuple[set[int], set[int], set[str], set[int]]


def _holdings() -> Holdings:
    """What this process holds: its descendant processes, its threads, its open files, and
    its open zmq sockets (which need no file descriptor of their own: their connections live
    in the shared context's I/O thread)."""
    import gc
    import threading

    import psutil
    import zmq

    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.add(f"{fd}:{os.readlink(f'/proc/self/fd/{fd}')}")
        except OSError:  # the listing's own fd, closed by now
            pass
    sockets = {id(o) for o in gc.get_objects() if isinstance(o, zmq.Socket) and not o.closed}
    return {c.pid for c in psutil.Process().children(recursive=True)}, {t.ident or 0 for t in threading.enumerate()}, fds, sockets


def _settled_holdings(before: Holdings, timeout: float = 30) -> Holdings:
    """What is held beyond ``before`` once it stops shrinking (threads and processes end
    asynchronously after a non-blocking shutdown), waiting at most ``timeout`` seconds."""
    import time

    from ipp_test_support import alive

    deadline = time.monotonic() + timeout
    while True:
        procs, threads, fds, sockets = _holdings()
        extra = ({p for p in procs - before[0] if alive(p)}, threads - before[1], fds - before[2], sockets - before[3])
        if not any(extra) or time.monotonic() > deadline:
            return extra
        time.sleep(0.1)


def test_start_failure_releases_everything(tmp_path) -> None:
    """A start that fails, early (no controller to reuse) or late (its own controller is up,
    the client connected, one block of engines running, and the provider refuses the second
    block), leaves no process, thread, open file or zmq socket behind, and hands its block
    back to the provider."""
    pytest.importorskip("ipyparallel")
    import psutil
    import zmq
    from ipp_test_support import ProcessBlocks, wait_gone

    from parsl.executors.errors import ScalingFailed
    from parsl.interfaces import BlockShape
    from parsl_executors.ipp import IPyParallelExecutor

    # ipyparallel's clients share the process-wide zmq context, made once and kept, whose
    # I/O and reaper threads (with their epoll and eventfd) start with its first socket: they
    # belong to the baseline; any other socket, context or thread is the start's to release
    zmq.Context.instance().socket(zmq.PUSH).close(linger=0)
    before = _holdings()
    ex = IPyParallelExecutor(controller={"reuse": True, "profile": "absent", "ipythonDir": str(tmp_path)})
    with pytest.raises(Exception, match="no running controller"):
        ex.start(ExecutorContext("r", str(tmp_path)))
    assert _settled_holdings(before) == (set(), set(), set(), set())
    ex.shutdown()

    seen: dict[int, str] = {}  # every process the late failure had running when it failed: its command

    class SecondBlockRefused(ProcessBlocks):
        def submit(self, cmd_string, blocksize, job_name="parsl.auto", *, env=None):  # type: ignore[no-untyped-def]
            if not self.procs:
                return super().submit(cmd_string, blocksize, job_name, env=env)
            ex.wait_for_engines(2, timeout=60)  # the first block's engines are connected
            for c in psutil.Process().children(recursive=True):
                seen[c.pid] = " ".join(c.cmdline())
            raise RuntimeError("quota exceeded")

    run_dir = tmp_path / "late"
    run_dir.mkdir()
    prov = SecondBlockRefused(str(run_dir))
    ex = IPyParallelExecutor(prov, shape=BlockShape(tasks_per_node=2, init_blocks=2, min_blocks=0, max_blocks=2), engine_dir=str(tmp_path))
    before = _holdings()
    with pytest.raises(ScalingFailed, match="could not start block 1: RuntimeError: quota exceeded"):
        ex.start(ExecutorContext("late", str(run_dir)))
    modules = [c.split()[2] if c.split()[1:2] == ["-m"] else c.split()[0] for c in seen.values()]
    assert modules.count("parsl_executors.ipp.guard") == 1 and "ipyparallel.controller" in modules, modules
    assert modules.count("parsl_executors.ipp.engine") == 2 and modules.count("/bin/bash") == 1, modules
    assert wait_gone(sorted(seen), timeout=30) == []  # each of them
    assert prov.cancelled == {"0"}  # and the block was handed back to its provider
    assert _settled_holdings(before) == (set(), set(), set(), set())
    with pytest.raises(Exception):
        ex.submit(print, "never")
    ex.shutdown()


def test_container_launch_command(tmp_path) -> None:
    """The engine launch goes through the container plugin named by the site (composed only
    here; tests-integration/test_containers_*.py run it on real engines)."""
    import shlex

    pytest.importorskip("parsl_containers")
    from parsl_executors.ipp import IPyParallelExecutor

    engine_file = tmp_path / "engine.json"
    engine_file.write_text('{"registration": 1}')
    for spec, cli in (({"container_image": "parsl-worker:1"}, "docker"), ({"container": {"type": "podman", "image": "parsl-worker:1"}}, "podman")):
        ex = IPyParallelExecutor(engine_dir=str(tmp_path), **spec)
        ex.context = ExecutorContext("run-1", str(tmp_path / "run"))
        ex.work_dir = str(tmp_path / "run" / "ipp")
        argv = shlex.split(ex.compose_launch_cmd(str(engine_file), str(tmp_path), "parsl-worker:1"))
        assert "org.parsl.run=run-1" in argv and "org.parsl.executor=ipp" in argv
        assert argv[:2] == [cli, "run"] and ["--network", "host"] == argv[5:7]
        assert f"{tmp_path}:{tmp_path}" in argv and f"{tmp_path}/run:{tmp_path}/run" in argv
        assert "PARSL_IPP_BLOCK" in argv and "org.parsl.block=${PARSL_IPP_BLOCK:-}" in argv
        i = argv.index("parsl-worker:1")
        assert argv[i + 1] == "-c" and "-m parsl_executors.ipp.engine" in argv[i + 2] and '{"registration": 1}' not in " ".join(argv)
        # the connection file passes from the block's environment into the container by name
        assert argv[argv.index("PARSL_IPP_ENGINE_JSON") - 1] == "-e"


def test_container_type_is_checked_when_the_site_is_read() -> None:
    pytest.importorskip("parsl_containers")
    from parsl_executors.ipp import IPyParallelExecutor

    raw = {"site": "S", "execution": {"executor": "ipp", "provider": None, "container": {"type": "singularty", "image": "a.sif"}}}
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.container\.type.*did you mean 'singularity'"):
        IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})
    raw["execution"]["container"] = {"type": "podman", "image": "app1_v0.1", "pull": "missing", "run_args": ["--cpus", "1"]}
    ex = IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})
    assert (type(ex.container).__name__, ex.container.pull, ex.container.run_args) == ("Podman", "missing", ("--cpus", "1"))
    raw["execution"]["container"] = {"type": "podman", "image": "app1_v0.1", "pul": "missing"}
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.container\.pul: .*did you mean 'pull'"):
        IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})


def test_executor_options_from_the_site() -> None:
    from parsl_executors.ipp import IPyParallelExecutor

    raw = {"site": "S", "execution": {"executor": "ipp", "provider": None, "options": {"max_idletime": 7, "strategy_interval": 0.5, "engine_nanny": True}}}
    ex = IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})
    assert (ex.policy.max_idletime, ex.strategy_interval, ex.engine_nanny) == (7, 0.5, True)
    raw["execution"]["options"] = {"max_idle_time": 3}
    with pytest.raises(ConfigurationError, match=r"sites\[0\]\.execution\.options\.max_idle_time.*did you mean 'max_idletime'"):
        IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})
    raw["execution"]["options"] = {"strategy_threshold": "5"}
    with pytest.raises(ConfigurationError, match="strategy_threshold"):
        IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})


@pytest.mark.parametrize("channel, on_workers", [("ssh", True), ("local", False), (None, False)])
def test_from_site_reads_the_staging_settings(channel: str | None, on_workers: bool) -> None:
    """A site on a remote channel has engines that do not see the script's files: they stage
    inside each task, into the site's data.working_dir."""
    raw = {
        "site": "remote", "auth": {"channel": channel, "hostname": "127.0.0.1"},
        "execution": {"executor": "ipp", "provider": None}, "data": {"working_dir": "/scratch/wd"},
    }
    from parsl_executors.ipp import IPyParallelExecutor

    ex = IPyParallelExecutor.from_site(site_from_dict(raw, "sites[0]"), {})
    assert (ex.stage_on_workers, ex.working_dir, ex.storage_access) == (on_workers, "/scratch/wd", None)
