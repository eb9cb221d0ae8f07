"""Another local user cannot learn the IPython Parallel controller's key.

The reported attack: a second user on the machine read the key from the block scripts under
``./scripts`` (0644) and from the engines' command lines in the process listing, then
registered a rogue engine (the controller trusts any peer that signs with the key) and ran
code in the driver through a pickled result. Everything after the first step needs the key,
so this test runs the first step exactly as that user would: as a throw-away unprivileged
uid, it reads every file it can under the workflow's directory and every process's command
line and environment, looking for the key. Needs root (to create that user); skips otherwise.
"""
from __future__ import annotations

import json
import os
import pwd
import secrets
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, ipp_site, require_ipp_stack

pytestmark = [pytest.mark.integration]

# the other user's program: stdlib only, run by the system interpreter
ATTACK = r"""
import json, os, sys
key, root = sys.stdin.readline().strip().encode(), sys.argv[1]  # not in argv: /proc/self
hits, seen = [], {"entries": 0, "cmdlines": 0}
for d, dirs, files in os.walk(root):
    seen["entries"] += len(dirs) + len(files)
    for name in files:
        p = os.path.join(d, name)
        try:
            with open(p, "rb") as f:
                if key in f.read():
                    hits.append(p)
        except OSError:
            pass
for pid in filter(str.isdigit, os.listdir("/proc")):
    for what in ("cmdline", "environ"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                data = f.read()
        except OSError:
            continue
        seen["cmdlines"] += what == "cmdline" and b"ipyparallel" in data
        if key in data:
            hits.append(f"/proc/{pid}/{what}")
print(json.dumps({"hits": hits, "seen": seen}))
"""


def _system_python() -> str:
    """An interpreter the other user may run (this one may sit in root's home)."""
    for p in ("/usr/bin/python3", os.path.realpath(sys.executable)):
        if os.path.exists(p) and os.stat(p).st_mode & 0o001:
            return p
    pytest.skip("no world-executable python3 to run the other user's program with")


@pytest.fixture
def other_user():
    if os.geteuid() != 0:
        pytest.skip("needs root to create a throw-away unprivileged user to attack as")
    name = f"parsl-atk-{secrets.token_hex(3)}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True)
    try:
        yield pwd.getpwnam(name)
    finally:
        subprocess.run(["userdel", name], check=False)


@pytest.fixture
def open_workspace(monkeypatch):
    """A workflow directory other users may enter (as a home or project directory is)."""
    d = tempfile.mkdtemp(prefix="parsl-keytest-", dir="/var/tmp")
    os.chmod(d, 0o755)
    monkeypatch.chdir(d)
    yield d
    subprocess.run(["rm", "-rf", d], check=False)


def test_another_user_cannot_find_the_controller_key(other_user, open_workspace) -> None:
    require_ipp_stack()
    from parsl import App, DataFlowKernel

    dfk = DataFlowKernel(config=config(ipp_site(taskBlocks=2)))
    try:
        ex = dfk.executors["Local_IPP"]
        ex.wait_for_engines(2, timeout=60)

        @App("python", dfk)
        def double(x):
            return 2 * x

        assert double(21).result(timeout=60) == 42
        with open(ex.controller.engine_file) as f:
            key = json.load(f)["key"]
        assert key
        attack = subprocess.run(
            [_system_python(), "-I", "-S", "-c", ATTACK, open_workspace], input=key + "\n",
            user=other_user.pw_uid, group=other_user.pw_gid, extra_groups=[], cwd="/",
            capture_output=True, text=True, timeout=120, check=True,
        )
        report = json.loads(attack.stdout)
    finally:
        dfk.cleanup()
    # the attacker did look: it could enter the workspace and see the engines' processes
    assert report["seen"]["entries"] >= 2 and report["seen"]["cmdlines"] >= 2, report
    assert report["hits"] == []
    # and what holds the key is private to its owner
    scripts = os.path.join(open_workspace, "scripts")
    assert os.stat(scripts).st_mode & 0o777 == 0o700
    for name in os.listdir(scripts):
        assert os.stat(os.path.join(scripts, name)).st_mode & 0o077 == 0, name
