"""Optional checksums on staged files, written as a URL fragment the way pip does:
``https://host/data.csv#sha256=<hex>`` (any ``hashlib`` algorithm). The fragment is never
sent to the server."""
from __future__ import annotations

import hashlib
from urllib.parse import urldefrag

from parsl.data_provider.errors import StagingError

_BLOCK = 1 << 20


def split_checksum(url: str) -> tuple[str, tuple[str, str] | None]:
    """``(url without fragment, (algorithm, hex digest) or None)``."""
    bare, fragment = urldefrag(url)
    if not fragment:
        return url, None
    algo, sep, digest = fragment.partition("=")
    algo = algo.lower()
    if not sep or algo not in hashlib.algorithms_available or not digest:
        raise StagingError(url, "in", f"the URL fragment {fragment!r} is not a checksum: write '#sha256=<hex digest>' (or another hashlib algorithm)")
    return bare, (algo, digest.lower())


def verify(path: str, url: str, expected: tuple[str, str]) -> None:
    """Raise a :class:`StagingError` unless ``path`` has the ``expected`` digest."""
    algo, want = expected
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    got = h.hexdigest()
    if got != want:
        raise StagingError(url, "in", f"checksum mismatch: {algo} expected {want}, got {got} (the download was discarded)")
