"""The Local provider runs real process groups; nothing it starts may outlive cancel."""
from __future__ import annotations

import pathlib
import time

import pytest

from libsubmit.channels.local.local import LocalChannel
from libsubmit.error import ChannelRequired, ScriptPathError
from libsubmit.providers.local.local import Local
from parsl import plugins
from parsl.config_dict import site_from_dict
from parsl.errors import ConfigurationError
from parsl.interfaces import BlockShape, ExecutionProvider, JobState
from parsl.testing.provider_kit import ProviderConformance

GOLDEN = pathlib.Path(__file__).parent / "golden" / "local.sh"


def _gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pathlib.Path(f"/proc/{pid}").exists():
            return True
        try:
            if pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def provider(tmp_path: pathlib.Path) -> Local:
    p = Local(channel=LocalChannel(userhome=str(tmp_path), scriptDir=str(tmp_path / "scripts")), tasks_per_node=2, cancel_grace=1.0)
    yield p
    p.shutdown()


def test_submit_runs_the_block_and_completes(provider: Local, tmp_path: pathlib.Path) -> None:
    job = provider.submit("echo $$ >> workers.txt", 1, "test")
    assert provider.wait(job, 30) is JobState.COMPLETED
    assert provider.status([job]) == [JobState.COMPLETED]
    assert len((tmp_path / "workers.txt").read_text().split()) == 2  # tasks_per_node=2
    scripts = list((tmp_path / "scripts").glob("test.*.sh"))
    assert len(scripts) == 1 and scripts[0].read_text().startswith("#!/bin/bash\n")


def test_failed_block(provider: Local) -> None:
    job = provider.submit("exit 3", 1)
    assert provider.wait(job, 30) is JobState.FAILED


def test_stderr_tail_of_a_failed_block(provider: Local) -> None:
    job = provider.submit("head -c 5000 /dev/zero | tr '\\0' x >&2; echo; echo 'docker: Cannot connect to the Docker daemon' >&2; exit 125", 1)
    assert provider.wait(job, 30) is JobState.FAILED
    tail = provider.stderr_tail(job, max_bytes=200)
    assert len(tail.encode()) <= 200 and tail.rstrip().endswith("Cannot connect to the Docker daemon")
    assert provider.stderr_tail("no-such-job") == ""


def test_cancel_kills_the_whole_group(provider: Local, tmp_path: pathlib.Path) -> None:
    # a worker that ignores SIGTERM and has its own background child
    job = provider.submit("trap '' TERM; sleep 300 & echo $! >> kids.txt; wait", 1)
    assert provider.status([job]) == [JobState.RUNNING]
    assert provider.current_capacity == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len((tmp_path / "kids.txt").read_text().split() if (tmp_path / "kids.txt").exists() else []) < 2:
        time.sleep(0.05)
    kids = [int(k) for k in (tmp_path / "kids.txt").read_text().split()]
    assert len(kids) == 2
    assert provider.cancel([job]) == [True]
    assert provider.status([job]) == [JobState.CANCELLED]
    assert all(_gone(k) for k in kids), "a process of the cancelled block survived"
    assert provider.current_capacity == 0
    assert provider.cancel([job, "999999999"]) == [False, False]
    assert provider.status(["999999999"]) == [JobState.UNKNOWN]


def test_blocks_left_running_are_ended_at_exit(tmp_path: pathlib.Path) -> None:
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        f"""
        import time
        from libsubmit.providers.local.local import Local
        from libsubmit.channels.local.local import LocalChannel
        p = Local(channel=LocalChannel(userhome={str(tmp_path)!r}, scriptDir={str(tmp_path / "s")!r}))
        p.submit("sleep 300 & echo $! > kid; wait", 1)
        while True:
            try:
                if open({str(tmp_path / "kid")!r}).read().strip():
                    break
            except OSError:
                pass
            time.sleep(0.05)
        # exits without cancelling
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    kid = int((tmp_path / "kid").read_text())
    assert _gone(kid), "a block outlived the interpreter that started it"


def test_concurrent_submits(provider: Local, tmp_path: pathlib.Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        jobs = list(pool.map(lambda i: provider.submit(f"echo {i} >> many.txt", 1, f"c{i}"), range(16)))
    assert len(set(jobs)) == 16
    assert [provider.wait(j, 30) for j in jobs] == [JobState.COMPLETED] * 16
    assert sorted(int(x) for x in (tmp_path / "many.txt").read_text().split()) == sorted(list(range(16)) * 2)


def test_bad_job_name(provider: Local) -> None:
    with pytest.raises(ConfigurationError, match="not a valid job name"):
        provider.submit("true", 1, "a b; rm -rf /")


def test_shape_from_keywords_and_interface() -> None:
    p = Local(nodes_per_block=1, tasks_per_node=3, init_blocks=2, min_blocks=1, max_blocks=4, walltime="00:05:00", parallelism=0.5)
    assert p.shape == BlockShape(1, 3, "00:05:00", 2, 1, 4, 0.5)
    assert isinstance(p, ExecutionProvider) and p.scaling_enabled and not p.channels_required
    assert plugins.get("provider", "local") is Local
    with pytest.raises(ConfigurationError, match="min_blocks"):
        Local(min_blocks=5, max_blocks=2)


def test_050_config_dict_and_channel_script_dir(tmp_path: pathlib.Path) -> None:
    config = {
        "site": "Local_IPP",
        "auth": {"channel": None},
        "execution": {
            "executor": "ipp",
            "provider": "local",
            "block": {"initBlocks": 2, "maxBlocks": 3, "taskBlocks": "$(($CORES / 2))"},
        },
    }
    p = Local(config, channel_script_dir=str(tmp_path / "cs"))
    assert p.shape.init_blocks == 2 and p.shape.max_blocks == 3 and p.shape.tasks_per_node == "$(($CORES / 2))"
    assert p.channel.script_dir == str(tmp_path / "cs")
    assert p.label == "Local_IPP"


def test_from_site() -> None:
    site = site_from_dict(
        {"site": "s", "auth": {"channel": "local", "scriptDir": "/tmp/x"}, "execution": {"executor": "ipp", "provider": "local", "block": {"minBlocks": 1}}},
        "sites[3]",
    )
    p = Local.from_site(site)
    assert p.shape.min_blocks == 1 and p.channel.script_dir == "/tmp/x"
    # another scheduler's option (0.5.0 configs were copied between sites) is ignored...
    other = site_from_dict(
        {"site": "s", "execution": {"executor": "ipp", "provider": "local", "block": {"options": {"partition": "x"}}}},
        "sites[3]",
    )
    assert dict(Local.from_site(other).options) == {}
    # ...a key no scheduler reads is an error
    bad = site_from_dict(
        {"site": "s", "execution": {"executor": "ipp", "provider": "local", "block": {"options": {"partitio": "x"}}}},
        "sites[3]",
    )
    with pytest.raises(ConfigurationError, match="did you mean 'partition'") as info:
        Local.from_site(bad)
    assert info.value.path == "sites[3].execution.block.options.partitio"
    bad_launcher = site_from_dict(
        {"site": "s", "execution": {"executor": "ipp", "provider": "local", "block": {"launcher": "singlenode"}}},
        "sites[0]",
    )
    with pytest.raises(ConfigurationError, match="did you mean") as info:
        Local.from_site(bad_launcher)
    assert info.value.path == "sites[0].execution.block.launcher"


def test_local_refuses_a_remote_channel() -> None:
    class Other(LocalChannel):
        pass

    Local(channel=Other())  # a LocalChannel subclass is fine
    from parsl.interfaces import Channel

    class Remote(Channel):
        def execute_wait(self, cmd, walltime=None, envs=None):  # type: ignore[no-untyped-def]
            return 0, "", ""

        def push_file(self, source, dest_dir):  # type: ignore[no-untyped-def]
            return ""

        def pull_file(self, remote_source, local_dir):  # type: ignore[no-untyped-def]
            return ""

        @property
        def script_dir(self) -> str:
            return "/tmp"

    with pytest.raises(ChannelRequired, match="needs a LocalChannel"):
        Local(channel=Remote())


class TestLocalConformance(ProviderConformance):
    poll_timeout = 30.0
    poll_interval = 0.05
    golden_file = GOLDEN

    def make_provider(self, workdir: pathlib.Path) -> Local:
        return Local(channel=LocalChannel(userhome=str(workdir), scriptDir=str(workdir / "scripts")), tasks_per_node=1, cancel_grace=1.0)

    def render_script(self, provider: ExecutionProvider) -> str:
        assert isinstance(provider, Local)
        return provider.script_text("worker --flag 'a b'")

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        # a script directory under a regular file cannot be created
        return Local(channel=LocalChannel(scriptDir="/dev/null/scripts")), ScriptPathError, "Not a directory"


def test_misspelt_keyword_gets_a_suggestion() -> None:
    with pytest.raises(ConfigurationError, match="did you mean 'max_blocks'"):
        Local(max_block=3)


def test_block_scripts_are_private_and_env_stays_off_command_lines(tmp_path: pathlib.Path) -> None:
    """A secret passed as ``env=`` reaches every worker through the environment; the script
    holding it is 0700 in a 0700 directory (an existing 0755 one is tightened) and no
    process of the block has it on its command line."""
    scripts = tmp_path / "scripts"
    scripts.mkdir(mode=0o755)
    p = Local(channel=LocalChannel(userhome=str(tmp_path), scriptDir=str(scripts)), tasks_per_node=2, cancel_grace=1.0)
    secret = "s3cr3t-" + "x" * 20
    try:
        job = p.submit('printf %s "$PARSL_SECRET" > "$(mktemp ./seen-XXXX)"; sleep 30', 1, env={"PARSL_SECRET": secret})
        deadline = time.monotonic() + 20
        while len(list(tmp_path.glob("seen-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sorted(f.read_text() for f in tmp_path.glob("seen-*")) == [secret, secret]
        import psutil

        block = psutil.Process(int(job))
        for proc in [block, *block.children(recursive=True)]:
            assert secret not in " ".join(proc.cmdline())
        assert scripts.stat().st_mode & 0o777 == 0o700
        modes = {f.suffix: f.stat().st_mode & 0o777 for f in scripts.iterdir()}
        assert modes == {".sh": 0o700, ".out": 0o600, ".err": 0o600}
        with pytest.raises(ConfigurationError, match="environment variable name"):
            p.submit("true", 1, env={"BAD NAME": "x"})
    finally:
        p.shutdown()
