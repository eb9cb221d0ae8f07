"""The wire format of the high-throughput executor: signed frames, per-run keys, CurveZMQ.

::

    sender:   payload = pickle.dumps((kind, body))
              frames  = [hmac_sha256(key, payload), payload]   (+ ZMQ routing id on ROUTER sockets)
    receiver: len(frames) == 2 and compare_digest(mac, hmac(key, payload))
                  ├─ yes ─▶ pickle.loads(payload)      (only now is anything unpickled)
                  └─ no  ─▶ dropped, counted in Signer.dropped

Every process of one run shares a 32-byte HMAC key made fresh for the run. With
``encrypted=True`` the sockets also use CurveZMQ (the interchange holds the server key pair,
driver and pools one client key pair), so frames are encrypted on the network; the HMAC stays
on either way, since a CURVE server without a ZAP handler accepts any client key.

Keys reach the interchange through its stdin and the pools through a key file (mode 0600 in
a 0700 directory); they are never on a command line or in a log.
"""
from __future__ import annotations

import hmac
import json
import os
import pickle
import secrets
from dataclasses import dataclass
from typing import Any

MAC_SIZE = 32
_DIGEST = "sha256"


@dataclass(frozen=True, repr=False)
class RunKeys:
    """The secrets of one run. ``repr`` shows no key material."""

    hmac_key: bytes
    server_public: bytes | None = None
    server_secret: bytes | None = None
    client_public: bytes | None = None
    client_secret: bytes | None = None

    @property
    def encrypted(self) -> bool:
        return self.server_public is not None

    def __repr__(self) -> str:
        return f"RunKeys(encrypted={self.encrypted})"

    @classmethod
    def generate(cls, encrypted: bool) -> RunKeys:
        key = secrets.token_bytes(32)
        if not encrypted:
            return cls(key)
        import zmq

        if not zmq.has("curve"):
            from parsl.errors import ConfigurationError

            raise ConfigurationError("this pyzmq has no CURVE support; install a pyzmq wheel with libsodium, or set encrypted=False", "encrypted")
        spub, ssec = zmq.curve_keypair()
        cpub, csec = zmq.curve_keypair()
        return cls(key, spub, ssec, cpub, csec)

    def to_json(self, *, with_server_secret: bool) -> str:
        d: dict[str, Any] = {"hmac": self.hmac_key.hex()}
        if self.encrypted:
            d.update(server_public=_s(self.server_public), client_public=_s(self.client_public), client_secret=_s(self.client_secret))
            if with_server_secret:
                d["server_secret"] = _s(self.server_secret)
        return json.dumps(d)

    @classmethod
    def from_json(cls, text: str) -> RunKeys:
        d = json.loads(text)

        def b(name: str) -> bytes | None:
            v = d.get(name)
            return v.encode() if v else None

        return cls(bytes.fromhex(d["hmac"]), b("server_public"), b("server_secret"), b("client_public"), b("client_secret"))

    def write_pool_file(self, directory: str) -> str:
        """Write the pools' key file (no server secret): a 0700 directory, a 0600 file."""
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        path = os.path.join(directory, "pool.key")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(self.to_json(with_server_secret=False))
        os.chmod(path, 0o600)
        return path


def _s(v: bytes | None) -> str:
    return v.decode() if v else ""


def read_key_file(path: str) -> RunKeys:
    """Read a pool key file, refusing one that others could read."""
    st = os.stat(path)
    if st.st_mode & 0o077:
        raise PermissionError(f"key file {path} is readable by others (mode {st.st_mode & 0o777:o}); it must be 0600")
    with open(path) as f:
        return RunKeys.from_json(f.read())


class Signer:
    """Signs outgoing payloads and checks incoming frames; counts what it drops."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        #: frames dropped because they were malformed or failed authentication
        self.dropped = 0

    def __repr__(self) -> str:
        return f"Signer(dropped={self.dropped})"

    def pack(self, kind: str, body: Any = None) -> list[bytes]:
        payload = pickle.dumps((kind, body), protocol=pickle.HIGHEST_PROTOCOL)
        return [hmac.digest(self._key, payload, _DIGEST), payload]

    def unpack(self, frames: list[bytes]) -> tuple[str, Any] | None:
        """``(kind, body)`` of an authentic message; ``None`` (and counted) otherwise."""
        if len(frames) != 2 or len(frames[0]) != MAC_SIZE:
            self.dropped += 1
            return None
        mac, payload = frames
        if not hmac.compare_digest(mac, hmac.digest(self._key, payload, _DIGEST)):
            self.dropped += 1
            return None
        try:
            msg = pickle.loads(payload)
            kind, body = msg
        except Exception:  # signed by a holder of the key, yet not ours: still never crash
            self.dropped += 1
            return None
        return kind, body


def apply_curve(sock: Any, keys: RunKeys, *, server: bool) -> None:
    """Turn CurveZMQ on for ``sock`` when the run is encrypted."""
    if not keys.encrypted:
        return
    if server:
        sock.curve_secretkey = keys.server_secret
        sock.curve_publickey = keys.server_public
        sock.curve_server = True
    else:
        sock.curve_secretkey = keys.client_secret
        sock.curve_publickey = keys.client_public
        sock.curve_serverkey = keys.server_public


def is_loopback(address: str) -> bool:
    """Whether ``address`` (host name or IP) names this machine's loopback."""
    import ipaddress

    if address in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False
