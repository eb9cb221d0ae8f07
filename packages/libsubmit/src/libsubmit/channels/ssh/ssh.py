"""SshChannel: run commands and copy files on a remote host over one persistent SSH
connection (paramiko; install with ``pip install 'libsubmit[ssh]'``).

::

    provider ── execute_wait(cmd, walltime) ──▶ transport.open_session().exec_command
             ◀── (exit_code, stdout, stderr)     (drained until exit; past walltime the
                                                  session is closed and ChannelTimeout raised)
    provider ── push_file / pull_file ────────▶ SFTP over the same transport

Host keys are checked against ``known_hosts`` (the file given, plus ``~/.ssh/known_hosts``);
an unknown host is refused unless ``accept_unknown_host_keys=True``. The password is kept
only as an opaque secret and never appears in reprs or logs.
"""
from __future__ import annotations

import getpass
import os
import re
import shlex
import socket
import stat
import threading
import time
from types import ModuleType
from typing import Any, Mapping

from parsl import plugins
from parsl.interfaces import Channel

from ..errors import (
    AuthException,
    BadHostKeyException,
    BadPermsScriptPath,
    ChannelExecFailed,
    ChannelTimeout,
    FileCopyException,
    FileExists,
    SSHException,
    UnknownHostKey,
)

__all__ = ["Secret", "SshChannel", "load_paramiko"]


def load_paramiko(feature: str) -> ModuleType:
    """paramiko, or a PluginDependencyMissing that says ``pip install 'libsubmit[ssh]'``."""
    return plugins.require("paramiko", feature=feature, distribution="libsubmit", extra="ssh")


class Secret:
    """A string that does not show itself in reprs, str() or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


def _host_key_name(hostname: str, port: int) -> str:
    return hostname if port == 22 else f"[{hostname}]:{port}"


class SshChannel(Channel):
    """A persistent SSH connection to ``hostname`` (0.5.0: ``SshChannel(hostname,
    username=None, password=None, scriptDir=None, **kwargs)``).

    Keyword arguments: ``port`` (22), ``key_filename`` (a private key; otherwise the password,
    else ``~/.ssh`` keys), ``known_hosts`` (a known_hosts file to trust besides
    ``~/.ssh/known_hosts``), ``accept_unknown_host_keys`` (False: an unknown host is refused
    with :class:`UnknownHostKey`), ``envs`` (variables exported for every command),
    ``connect_timeout`` (10 s). ``scriptDir`` defaults to ``$HOME/.parsl_scripts`` on the host.
    """

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        password: str | None = None,
        scriptDir: str | None = None,
        *,
        port: int = 22,
        key_filename: str | None = None,
        known_hosts: str | None = None,
        accept_unknown_host_keys: bool = False,
        envs: Mapping[str, str] | None = None,
        connect_timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        self._paramiko = load_paramiko(f"{type(self).__name__}")
        script_dir = scriptDir or kwargs.pop("channel_script_dir", None) or kwargs.pop("script_dir", None)
        kwargs.pop("userhome", None)
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments: {', '.join(sorted(kwargs))}")
        self.hostname = hostname
        self.username = username or getpass.getuser()
        self.port = int(port)
        self.key_filename = key_filename
        self.known_hosts = known_hosts
        self.accept_unknown_host_keys = bool(accept_unknown_host_keys)
        self.envs: dict[str, str] = {str(k): str(v) for k, v in (envs or {}).items()}
        self.connect_timeout = connect_timeout
        self._password = Secret(password) if password is not None else None
        self._script_dir: str | None = None
        self._lock = threading.Lock()
        self._sftp: Any = None
        self._transport: Any = None
        self._client: Any = None
        self._connect()
        if script_dir is None:
            _rc, out, _err = self.execute_wait('printf %s "$HOME"', self.connect_timeout)
            script_dir = f"{out.strip() or '.'}/.parsl_scripts"
        self._script_dir = script_dir

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hostname={self.hostname!r}, username={self.username!r}, port={self.port}, scriptDir={self._script_dir!r})"

    # ---- connecting -------------------------------------------------------------------------
    def _host_keys(self) -> Any:
        pk = self._paramiko
        keys = pk.HostKeys()
        for path in (os.path.expanduser("~/.ssh/known_hosts"), self.known_hosts):
            if path and os.path.exists(path):
                try:
                    keys.load(path)
                except OSError as e:
                    raise SSHException(f"cannot read known_hosts file {path}: {e}", self.hostname) from e
        return keys

    def check_host_key(self, key: Any) -> None:
        """Refuse a key that differs from known_hosts, and an unknown one unless accepting
        unknown keys was asked for."""
        name = _host_key_name(self.hostname, self.port)
        known = self._host_keys().lookup(name)
        fingerprint = f"{key.get_name()} SHA256:{_sha256(key)}"
        if known is not None and key.get_name() in known:
            if known[key.get_name()] != key:
                raise BadHostKeyException(
                    f"the host key of {name} ({fingerprint}) does not match the one in known_hosts: "
                    "possible man-in-the-middle; connection refused",
                    self.hostname,
                )
            return
        if self.accept_unknown_host_keys:
            return
        raise UnknownHostKey(
            f"the host key of {name} ({fingerprint}) is not in known_hosts; add it (ssh-keyscan -p {self.port} "
            f"{self.hostname} >> ~/.ssh/known_hosts), pass known_hosts=<file>, or accept unknown keys explicitly "
            "with accept_unknown_host_keys=True",
            self.hostname,
        )

    def _open_transport(self) -> Any:
        pk = self._paramiko
        try:
            sock = socket.create_connection((self.hostname, self.port), timeout=self.connect_timeout)
        except OSError as e:
            raise SSHException(f"cannot connect to port {self.port}: {e}", self.hostname) from e
        transport = pk.Transport(sock)
        try:
            transport.start_client(timeout=self.connect_timeout)
            self.check_host_key(transport.get_remote_server_key())
        except BaseException as e:
            transport.close()
            if isinstance(e, pk.SSHException):
                raise SSHException(f"SSH handshake failed: {e}", self.hostname) from e
            raise
        return transport

    def _authenticate(self, transport: Any) -> None:
        pk = self._paramiko
        errors: list[str] = []
        if self.key_filename:
            try:
                key = pk.PKey.from_path(self.key_filename)
                transport.auth_publickey(self.username, key)
                return
            except (pk.SSHException, OSError) as e:
                errors.append(f"key {self.key_filename}: {type(e).__name__}: {e}")
        if self._password is not None:
            try:
                transport.auth_password(self.username, self._password.reveal())
                return
            except pk.SSHException as e:
                errors.append(f"password: {type(e).__name__}")
        if not self.key_filename and self._password is None:
            for name in ("id_ed25519", "id_ecdsa", "id_rsa"):
                path = os.path.expanduser(f"~/.ssh/{name}")
                if not os.path.exists(path):
                    continue
                try:
                    transport.auth_publickey(self.username, pk.PKey.from_path(path))
                    return
                except (pk.SSHException, OSError) as e:
                    errors.append(f"key {path}: {type(e).__name__}")
        raise AuthException(f"authentication as {self.username!r} failed ({'; '.join(errors) or 'no key or password to try'})", self.hostname)

    def _connect(self) -> None:
        transport = self._open_transport()
        try:
            self._authenticate(transport)
        except BaseException:
            transport.close()
            raise
        transport.set_keepalive(30)
        self._transport = transport

    # ---- running commands -------------------------------------------------------------------
    @property
    def script_dir(self) -> str:
        if self._script_dir is None:  # only while __init__ is still connecting
            raise ChannelExecFailed("the channel is not connected yet", self.hostname)
        return self._script_dir

    def _wrap(self, cmd: str, envs: Mapping[str, str] | None) -> str:
        merged = {**self.envs, **(envs or {})}
        for key in merged:
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
                raise ChannelExecFailed(f"{key!r} is not a valid environment variable name", self.hostname)
        exports = "".join(f"export {k}={shlex.quote(str(v))}; " for k, v in merged.items())
        return exports + cmd

    def _session(self, cmd: str, envs: Mapping[str, str] | None) -> Any:
        if self._transport is None or not self._transport.is_active():
            raise ChannelExecFailed("the SSH connection is closed", self.hostname)
        try:
            chan = self._transport.open_session(timeout=self.connect_timeout)
            chan.exec_command(self._wrap(cmd, envs))
        except self._paramiko.SSHException as e:
            raise ChannelExecFailed(f"could not run {cmd!r}: {e}", self.hostname) from e
        return chan

    def execute_wait(self, cmd: str, walltime: float | None = None, envs: Mapping[str, str] | None = None) -> tuple[int, str, str]:
        """Run ``cmd`` with the remote login shell and wait; ``(exit_code, stdout, stderr)``.
        Past ``walltime`` seconds the session is closed and :class:`ChannelTimeout` raised."""
        chan = self._session(cmd, envs)
        out, err = bytearray(), bytearray()
        deadline = None if walltime is None else time.monotonic() + walltime
        try:
            while True:
                while chan.recv_ready():
                    out += chan.recv(65536)
                while chan.recv_stderr_ready():
                    err += chan.recv_stderr(65536)
                if chan.exit_status_ready() and (chan.eof_received or chan.closed):
                    while chan.recv_ready():
                        out += chan.recv(65536)
                    while chan.recv_stderr_ready():
                        err += chan.recv_stderr(65536)
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise ChannelTimeout(cmd, float(walltime or 0), self.hostname, "its SSH session was closed")
                chan.status_event.wait(0.02)
            rc = chan.recv_exit_status()
        finally:
            chan.close()
        return rc, out.decode(errors="replace"), err.decode(errors="replace")

    def execute_no_wait(self, cmd: str, walltime: float | None = None, envs: Mapping[str, str] | None = None) -> Any:
        """Start ``cmd`` and return its paramiko channel (``recv_exit_status()``,
        ``makefile()``...); the caller closes it."""
        return self._session(cmd, envs)

    # ---- files ------------------------------------------------------------------------------
    def _sftp_client(self) -> Any:
        with self._lock:
            if self._sftp is None:
                try:
                    self._sftp = self._paramiko.SFTPClient.from_transport(self._transport)
                except self._paramiko.SSHException as e:
                    raise FileCopyException(f"could not open SFTP: {e}", self.hostname) from e
            return self._sftp

    def push_file(self, source: str, dest_dir: str) -> str:
        """Copy a local file into ``dest_dir`` on the host (created if needed), keeping its
        permission bits; return the remote path."""
        rc, _out, err = self.execute_wait(f"mkdir -p {shlex.quote(dest_dir)}", self.connect_timeout)
        if rc != 0:
            raise BadPermsScriptPath(f"cannot create {dest_dir}: {err.strip()}", self.hostname)
        dest = f"{dest_dir.rstrip('/')}/{os.path.basename(source)}"
        sftp = self._sftp_client()
        try:
            sftp.put(source, dest)
            sftp.chmod(dest, stat.S_IMODE(os.stat(source).st_mode))
        except (OSError, self._paramiko.SSHException) as e:
            raise FileCopyException(f"could not copy {source} to {dest}: {e}", self.hostname) from e
        return dest

    def pull_file(self, remote_source: str, local_dir: str) -> str:
        """Copy a remote file into ``local_dir``; an existing local file of that name raises
        :class:`FileExists`."""
        dest = os.path.join(local_dir, os.path.basename(remote_source))
        if os.path.exists(dest):
            raise FileExists(f"{dest} already exists; not overwriting it with {remote_source}", self.hostname)
        os.makedirs(local_dir, exist_ok=True)
        try:
            self._sftp_client().get(remote_source, dest)
        except (OSError, self._paramiko.SSHException) as e:
            raise FileCopyException(f"could not copy {remote_source} to {dest}: {e}", self.hostname) from e
        return dest

    def close(self) -> bool:  # type: ignore[override]
        """Close SFTP and the connection. Idempotent; ``True`` if something was closed."""
        with self._lock:
            closed = self._transport is not None
            if self._sftp is not None:
                self._sftp.close()
                self._sftp = None
            if self._transport is not None:
                self._transport.close()
                self._transport = None
        return closed


def _sha256(key: Any) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class SSHChannel(SshChannel):
    """``SshChannel`` under today's upstream name and keywords: ``SSHChannel(hostname,
    username=None, password=None, script_dir=None, envs=None, port=22, key_filename=None,
    host_keys_filename=None)``. ``host_keys_filename`` is the known-hosts file;
    ``gssapi_auth`` and ``skip_auth`` are not supported (a clear error if asked for)."""

    def __init__(
        self,
        hostname: str,
        username: str | None = None,
        password: str | None = None,
        script_dir: str | None = None,
        envs: Mapping[str, str] | None = None,
        gssapi_auth: bool = False,
        skip_auth: bool = False,
        port: int = 22,
        key_filename: str | None = None,
        host_keys_filename: str | None = None,
        **kwargs: Any,
    ) -> None:
        if gssapi_auth or skip_auth:
            from parsl.errors import ConfigurationError

            raise ConfigurationError(
                "GSSAPI and skipped authentication are not supported; use a key (key_filename) or a password",
                "SSHChannel.gssapi_auth" if gssapi_auth else "SSHChannel.skip_auth",
            )
        if host_keys_filename is not None:
            kwargs.setdefault("known_hosts", host_keys_filename)
        super().__init__(hostname, username, password, script_dir, port=port, key_filename=key_filename, envs=envs, **kwargs)
