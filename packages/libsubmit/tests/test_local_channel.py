"""LocalChannel against the real shell."""
from __future__ import annotations

import os
import pathlib
import time

import pytest

from libsubmit.channels.errors import ChannelTimeout
from libsubmit.channels.local.local import LocalChannel
from parsl import plugins
from parsl.interfaces import Channel


def test_execute_wait_returns_code_and_output(tmp_path: pathlib.Path) -> None:
    ch = LocalChannel(userhome=str(tmp_path), envs={"GREETING": "hi"}, scriptDir=str(tmp_path / "s"))
    rc, out, err = ch.execute_wait('echo "$GREETING $EXTRA"; pwd; echo oops >&2; exit 3', 10, envs={"EXTRA": "there"})
    assert rc == 3
    assert out.splitlines() == ["hi there", str(tmp_path)]
    assert err == "oops\n"
    assert ch.script_dir == str(tmp_path / "s")
    assert isinstance(ch, Channel) and plugins.get("channel", "local") is LocalChannel


def test_timeout_kills_the_whole_group(tmp_path: pathlib.Path) -> None:
    ch = LocalChannel(userhome=str(tmp_path))
    t0 = time.monotonic()
    with pytest.raises(ChannelTimeout, match=r"did not finish within 0\.5 s") as info:
        ch.execute_wait("sleep 300 & echo $! > child.pid; wait", 0.5)
    assert isinstance(info.value, TimeoutError)
    assert time.monotonic() - t0 < 10
    child = int((tmp_path / "child.pid").read_text())
    for _ in range(50):
        if not pathlib.Path(f"/proc/{child}").exists():
            break
        time.sleep(0.1)
    assert not pathlib.Path(f"/proc/{child}").exists(), "the background child of a timed-out command survived"


def test_push_and_pull(tmp_path: pathlib.Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("data")
    ch = LocalChannel()
    dest = ch.push_file(str(src), str(tmp_path / "remote"))
    assert pathlib.Path(dest).read_text() == "data" and dest == str(tmp_path / "remote" / "a.txt")
    assert ch.push_file(dest, str(tmp_path / "remote")) == dest  # same place: nothing to do
    back = ch.pull_file(dest, str(tmp_path / "back"))
    assert pathlib.Path(back).read_text() == "data"
    assert ch.close() is False


def test_documented_defaults_and_keywords(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    ch = LocalChannel()
    assert ch.userhome == str(tmp_path) and ch.script_dir == os.path.join(str(tmp_path), "scripts")
    assert not (tmp_path / "scripts").exists()  # created when needed, not at construction
    assert LocalChannel(channel_script_dir="x").script_dir == str(tmp_path / "x")
    with pytest.raises(TypeError, match="bogus"):
        LocalChannel(bogus=1)


def test_execute_no_wait_gives_a_process_in_its_own_group(tmp_path: pathlib.Path) -> None:
    ch = LocalChannel(userhome=str(tmp_path))
    proc = ch.execute_no_wait("exit 4")
    assert proc.wait(10) == 4
    proc = ch.execute_no_wait("sleep 0.1")
    assert os.getpgid(proc.pid) == proc.pid
    proc.wait(10)
