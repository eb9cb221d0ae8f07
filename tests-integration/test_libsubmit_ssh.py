"""SshChannel and SshILChannel against a real OpenSSH server on 127.0.0.1 (own config, users
``parsl`` and ``parsl2fa``, PAM with TOTP; started by tests-integration/services/sshd/start.sh),
and the Slurm provider driven through an SSH channel."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import pathlib
import shlex
import socket
import struct
import tempfile
import time
from collections.abc import Iterator

import pytest

STATE = pathlib.Path("/var/tmp/parsl-sshd")


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    try:
        for line in (STATE / "env.sh").read_text().splitlines():
            for word in line.removeprefix("export ").split():
                key, _, value = word.partition("=")
                env[key] = value
    except OSError:
        pass
    return env


def _why_skip() -> str | None:
    env = _env()
    if not env:
        return "the sshd service is not set up (run tests-integration/services/sshd/start.sh as root)"
    try:
        socket.create_connection((env["PARSL_SSH_HOST"], int(env["PARSL_SSH_PORT"])), timeout=3).close()
    except OSError as e:
        return f"the sshd service is not running on {env['PARSL_SSH_HOST']}:{env['PARSL_SSH_PORT']}: {e}"
    if not os.access(env["PARSL_SSH_KEY"], os.R_OK):
        return f"cannot read the test key {env['PARSL_SSH_KEY']} (the sshd tests run as root)"
    try:
        import paramiko  # noqa: F401
    except ImportError:
        return "paramiko is not installed (pip install 'libsubmit[ssh]')"
    return None


_why = _why_skip()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_why is not None, reason=_why or "")]
ENV = _env()

from libsubmit.channels.errors import (  # noqa: E402
    AuthException,
    BadHostKeyException,
    ChannelExecFailed,
    ChannelTimeout,
    FileExists,
    SSHException,
    UnknownHostKey,
)
from libsubmit.channels.ssh.ssh import SshChannel  # noqa: E402
from libsubmit.channels.ssh_il.ssh_il import SshILChannel  # noqa: E402


def totp(secret_b32: str, at: float | None = None) -> str:
    """RFC 6238 (HMAC-SHA1, 30 s, 6 digits), as pam_google_authenticator checks it."""
    key = base64.b32decode(secret_b32.strip())
    counter = int((time.time() if at is None else at) // 30)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def _kw(**more: object) -> dict[str, object]:
    return {"port": int(ENV.get("PARSL_SSH_PORT", "22")), "known_hosts": ENV.get("PARSL_SSH_KNOWN_HOSTS"), **more}


@pytest.fixture
def channel() -> Iterator[SshChannel]:
    ch = SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], key_filename=ENV["PARSL_SSH_KEY"], **_kw())  # type: ignore[arg-type]
    yield ch
    ch.close()


@pytest.fixture
def share() -> Iterator[pathlib.Path]:
    """A directory that root (this test) and the ssh users can both write."""
    d = pathlib.Path(tempfile.mkdtemp(dir=ENV["PARSL_SSH_SHARE"]))
    d.chmod(0o777)
    yield d


def test_execute_wait_exit_codes_and_envs(channel: SshChannel) -> None:
    rc, out, err = channel.execute_wait('echo "$USER $GREETING"; echo to-err >&2; exit 4', 10, envs={"GREETING": "it's me"})
    assert (rc, out, err) == (4, "parsl it's me\n", "to-err\n")
    with pytest.raises(ChannelExecFailed, match="not a valid environment variable name"):
        channel.execute_wait("true", 10, envs={"A;touch /tmp/x": "1"})
    assert channel.script_dir == "/home/parsl/.parsl_scripts"


def test_large_output_is_drained(channel: SshChannel) -> None:
    rc, out, _ = channel.execute_wait("head -c 3000000 /dev/zero | tr '\\0' x", 30)
    assert rc == 0 and len(out) == 3_000_000


def test_timeout_does_not_block(channel: SshChannel) -> None:
    t0 = time.monotonic()
    with pytest.raises(ChannelTimeout, match="did not finish within 1 s"):
        channel.execute_wait("sleep 60", 1)
    assert time.monotonic() - t0 < 10
    assert channel.execute_wait("echo alive", 10)[1] == "alive\n"


def test_push_and_pull(channel: SshChannel, tmp_path: pathlib.Path) -> None:
    src = tmp_path / "payload.sh"
    data = os.urandom(1 << 20)
    src.write_bytes(data)
    src.chmod(0o750)
    remote = channel.push_file(str(src), "/home/parsl/pushed/deeper")
    assert remote == "/home/parsl/pushed/deeper/payload.sh"
    _rc, out, _ = channel.execute_wait(f"sha256sum {remote} | cut -d' ' -f1; stat -c %a {remote}", 10)
    assert out.split() == [hashlib.sha256(data).hexdigest(), "750"]
    back = channel.pull_file(remote, str(tmp_path / "back"))
    assert pathlib.Path(back).read_bytes() == data
    with pytest.raises(FileExists):
        channel.pull_file(remote, str(tmp_path / "back"))


def test_password_login_and_secrecy(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    pw = ENV["PARSL_SSH_PASSWORD"]
    ch = SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], password=pw, **_kw())  # type: ignore[arg-type]
    assert ch.execute_wait("id -un", 10)[1] == "parsl\n"
    assert pw not in repr(ch) and pw not in str(vars(ch))
    ch.close()
    with pytest.raises(AuthException) as info:
        SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], password="wrong-" + pw, **_kw())  # type: ignore[arg-type]
    assert pw not in str(info.value)
    assert pw not in caplog.text


def test_unknown_host_key_is_refused_unless_accepted(tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    kw = _kw(known_hosts=str(empty))
    with pytest.raises(UnknownHostKey, match="accept_unknown_host_keys=True"):
        SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], key_filename=ENV["PARSL_SSH_KEY"], **kw)  # type: ignore[arg-type]
    ch = SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], key_filename=ENV["PARSL_SSH_KEY"], accept_unknown_host_keys=True, **kw)  # type: ignore[arg-type]
    assert ch.execute_wait("true", 10)[0] == 0
    ch.close()


def test_changed_host_key_is_refused(tmp_path: pathlib.Path) -> None:
    import paramiko

    fake = tmp_path / "known_hosts"
    other = paramiko.Ed25519Key.from_private_key_file(ENV["PARSL_SSH_KEY"])  # some other ed25519 key
    fake.write_text(f"[{ENV['PARSL_SSH_HOST']}]:{ENV['PARSL_SSH_PORT']} ssh-ed25519 {other.get_base64()}\n")
    with pytest.raises(BadHostKeyException, match="does not match"):
        SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_USER"], key_filename=ENV["PARSL_SSH_KEY"], **_kw(known_hosts=str(fake)))  # type: ignore[arg-type]


def test_unreachable_host() -> None:
    with pytest.raises(SSHException, match="cannot connect"):
        SshChannel("127.0.0.1", "parsl", password="x", port=1, connect_timeout=3)


def test_keyboard_interactive_prompts_once_and_keeps_the_connection() -> None:
    secret = pathlib.Path(ENV["PARSL_SSH_TOTP_SECRET_FILE"]).read_text()
    asked: list[str] = []

    def prompt(text: str, echo: bool) -> str:
        asked.append(text)
        return totp(secret)

    ch = SshILChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_2FA_USER"], password=ENV["PARSL_SSH_2FA_PASSWORD"], prompt=prompt, **_kw())  # type: ignore[arg-type]
    for _ in range(3):
        assert ch.execute_wait("id -un", 10)[1] == "parsl2fa\n"
    assert len(asked) == 1 and "erification" in asked[0]
    assert ENV["PARSL_SSH_2FA_PASSWORD"] not in repr(ch)
    ch.close()


def test_keyboard_interactive_wrong_code_is_refused() -> None:
    with pytest.raises(AuthException, match="keyboard-interactive login"):
        SshILChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_2FA_USER"], password=ENV["PARSL_SSH_2FA_PASSWORD"], prompt=lambda t, e: "000000", **_kw())  # type: ignore[arg-type]


def test_password_alone_is_not_enough_for_the_2fa_user() -> None:
    with pytest.raises(AuthException):
        SshChannel(ENV["PARSL_SSH_HOST"], ENV["PARSL_SSH_2FA_USER"], password=ENV["PARSL_SSH_2FA_PASSWORD"], **_kw())  # type: ignore[arg-type]


# ---- the Slurm provider through an SSH channel ------------------------------------------------
def _slurm_up() -> bool:
    import shutil
    import subprocess

    if shutil.which("sinfo") is None:
        return False
    r = subprocess.run(["sinfo", "-h", "-N", "-o", "%t"], capture_output=True, text=True, timeout=15)
    return r.returncode == 0 and bool(r.stdout.strip())


@pytest.mark.skipif(not _slurm_up(), reason="the Slurm service is not running (tests-integration/services/slurm/start.sh)")
def test_slurm_through_ssh(channel: SshChannel, share: pathlib.Path) -> None:
    from libsubmit.providers.slurm.slurm import Slurm
    from parsl.interfaces import JobState
    from parsl.testing.provider_kit import wait_for_state

    p = Slurm(channel=channel, partition="debug", walltime="00:02:00")
    job = p.submit(f"echo $(id -un) > {shlex.quote(str(share / 'out'))}", 1, "viassh")
    assert wait_for_state(p, job, lambda s: s.terminal, 60)[-1] is JobState.COMPLETED
    assert (share / "out").read_text() == "parsl\n"
    # the script went to the remote script dir through SFTP
    name = p.job_name(job)
    assert channel.execute_wait(f"test -x /home/parsl/.parsl_scripts/{name}.submit", 10)[0] == 0
    long = p.submit("sleep 300", 1, "viassh")
    wait_for_state(p, long, lambda s: s is JobState.RUNNING, 60)
    assert p.cancel([long]) == [True]
    assert wait_for_state(p, long, lambda s: s.terminal, 60)[-1] is JobState.CANCELLED


@pytest.mark.skipif(not _slurm_up(), reason="the Slurm service is not running (tests-integration/services/slurm/start.sh)")
def test_slurm_from_a_050_site_with_ssh_auth(share: pathlib.Path) -> None:
    from libsubmit.providers.slurm.slurm import Slurm
    from parsl.config_dict import site_from_dict
    from parsl.interfaces import JobState
    from parsl.testing.provider_kit import wait_for_state

    site = site_from_dict(
        {
            "site": "ssh.slurm",
            "auth": {
                "channel": "ssh",
                "hostname": ENV["PARSL_SSH_HOST"],
                "username": ENV["PARSL_SSH_USER"],
                "keyFile": ENV["PARSL_SSH_KEY"],
                "port": int(ENV["PARSL_SSH_PORT"]),
                "known_hosts": ENV["PARSL_SSH_KNOWN_HOSTS"],
                "scriptDir": "/home/parsl/site_scripts",
            },
            "execution": {"executor": "ipp", "provider": "slurm", "block": {"walltime": "00:02:00", "options": {"partition": "debug"}}},
        },
        "sites[0]",
    )
    p = Slurm.from_site(site)
    assert isinstance(p.channel, SshChannel) and p.channel.script_dir == "/home/parsl/site_scripts"
    job = p.submit(f"touch {shlex.quote(str(share / 'site'))}", 1)
    assert wait_for_state(p, job, lambda s: s.terminal, 60)[-1] is JobState.COMPLETED
    assert (share / "site").exists()
    p.channel.close()
