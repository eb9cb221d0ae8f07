"""Authenticated frames between the Turbine executor (the driver) and the ranks of its blocks.

::

    rank (client)                                        executor (server, 127.0.0.1 by default)
        ── TCP connect ─────────────────────────────────▶ accept
        ◀─ server nonce (16 bytes) ──────────────────────
        ── client nonce (16 bytes) + frame([hello]) ─────▶ session = HMAC(key, nonces); hello checked
        ◀════════════════ frames, both ways ═════════════▶

    frame = length (4 bytes) | mac (32 bytes) | body
    mac   = HMAC-SHA256(session, direction | sequence number (8 bytes) | body)
    body  = pickle of a list of messages (dicts); unpickled only after its mac checks

The key is per run: 32 random bytes, kept in a 0600 file under the run directory or given to
the ranks in the environment (``PARSL_TURBINE_KEY``, hex), never on a command line. The nonces
make every connection's session key different, and the sequence numbers and direction byte
stop a frame from being replayed, reordered or reflected.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import socket
import struct
from typing import Any

KEY_ENV = "PARSL_TURBINE_KEY"
NONCE = 16
_MAC = 32
_HEAD = struct.Struct("!I")
#: the largest frame accepted (a task's arguments or result travel in one frame)
MAX_FRAME = 1 << 30
#: the first frame, read before the peer is known, is small
MAX_HELLO = 1 << 16
TO_RANK = b"R"
TO_EXECUTOR = b"E"


class AuthError(ConnectionError):
    """A frame whose mac does not check (wrong key, tampering, replay) or that is too large."""


def new_key() -> bytes:
    return secrets.token_bytes(32)


def write_key_file(path: str, key: bytes) -> None:
    """Write ``key`` (hex) to a new file readable by its owner only; never over an existing one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())


def read_key(path: str | None) -> bytes:
    """The run's key: ``$PARSL_TURBINE_KEY`` if set, else the key file at ``path``."""
    text = os.environ.get(KEY_ENV)
    if not text:
        if not path:
            raise AuthError(f"no key: set {KEY_ENV} or pass --key-file")
        with open(path) as f:
            text = f.read()
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise AuthError("the key is not hex") from None


def session_key(key: bytes, server_nonce: bytes, client_nonce: bytes) -> bytes:
    return hmac.new(key, b"parsl-turbine/1" + server_nonce + client_nonce, hashlib.sha256).digest()


class Codec:
    """Encodes and decodes the frames of one connection (no I/O).

    ``outgoing`` is the direction byte of the frames this side sends.
    """

    def __init__(self, session: bytes, outgoing: bytes) -> None:
        self._session = session
        self._out = outgoing
        self._in = TO_EXECUTOR if outgoing == TO_RANK else TO_RANK
        self._send_seq = 0
        self._recv_seq = 0
        self._buf = bytearray()
        self.limit = MAX_HELLO

    def _mac(self, direction: bytes, seq: int, body: bytes) -> bytes:
        m = hmac.new(self._session, direction, hashlib.sha256)
        m.update(seq.to_bytes(8, "big"))
        m.update(body)
        return m.digest()

    def encode(self, messages: list[Any]) -> bytes:
        body = pickle.dumps(messages, protocol=pickle.HIGHEST_PROTOCOL)
        mac = self._mac(self._out, self._send_seq, body)
        self._send_seq += 1
        return _HEAD.pack(len(body)) + mac + body

    def feed(self, data: bytes) -> list[list[Any]]:
        """Add received bytes; return the message lists of every complete frame."""
        self._buf += data
        out = []
        while len(self._buf) >= _HEAD.size + _MAC:
            (size,) = _HEAD.unpack_from(self._buf)
            if size > self.limit:
                raise AuthError(f"frame of {size} bytes is over the limit of {self.limit}")
            end = _HEAD.size + _MAC + size
            if len(self._buf) < end:
                break
            mac = bytes(self._buf[_HEAD.size : _HEAD.size + _MAC])
            body = bytes(self._buf[_HEAD.size + _MAC : end])
            del self._buf[:end]
            if not hmac.compare_digest(mac, self._mac(self._in, self._recv_seq, body)):
                raise AuthError("a frame failed its authentication check")
            self._recv_seq += 1
            self.limit = MAX_FRAME
            out.append(pickle.loads(body))
        return out


class RankConnection:
    """The rank's side: a blocking connection to the executor."""

    def __init__(self, host: str, port: int, key: bytes, hello: dict[str, Any], timeout: float = 60.0) -> None:
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        server_nonce = _read_exact(self.sock, NONCE)
        client_nonce = secrets.token_bytes(NONCE)
        self.codec = Codec(session_key(key, server_nonce, client_nonce), TO_EXECUTOR)
        self.codec.limit = MAX_FRAME
        self.sock.sendall(client_nonce + self.codec.encode([hello]))
        self.sock.settimeout(None)
        self._ready: list[Any] = []

    def send(self, messages: list[Any]) -> None:
        self.sock.sendall(self.codec.encode(messages))

    def receive_available(self) -> list[Any] | None:
        """Messages from frames that have arrived (the socket must be readable); ``None`` when
        the executor closed the connection."""
        data = self.sock.recv(1 << 20)
        if not data:
            return None
        out: list[Any] = []
        for batch in self.codec.feed(data):
            out.extend(batch)
        return out

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("the executor closed the connection during the handshake")
        buf += chunk
    return bytes(buf)
