"""HTTP and HTTPS staging in: a streamed download into the working directory.

::

    fetch(File('https://h/x.csv#sha256=..'), 'wd/x.csv')
      GET ─▶ wd/.x.csv.XXXX.partial ── connection cut? ─▶ GET with Range: bytes=<got>- (206: append;
        │                                                   200: start over), up to ``attempts``
        └─ complete (Content-Length matched, checksum if given) ─▶ renamed to wd/x.csv

A partial download never stands where the app looks: it is renamed into place only once
complete and verified, and removed on failure.
"""
from __future__ import annotations

import http.client
import ssl
import time
import urllib.error
import urllib.request
from typing import ClassVar

from parsl.data_provider.data_manager import DataManager
from parsl.data_provider.errors import StagingError
from parsl.data_provider.files import File
from parsl.data_provider.transfer import TransferStaging, atomic_target

from .checksum import split_checksum, verify

_CHUNK = 1 << 16


class _Cut(Exception):
    """The body ended before its announced length."""


class HTTPStaging(TransferStaging):
    """Stage ``http://`` and ``https://`` files in (HTTP has no standard upload: staging out
    is refused with a clear error).

    Args:
        timeout: seconds a connect or a read may stall before the attempt fails.
        attempts: tries per file; a retry after a cut connection resumes with a Range request.
    """

    schemes: ClassVar[tuple[str, ...]] = ("http", "https")

    def __init__(self, timeout: float = 60.0, attempts: int = 3) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {attempts!r}")
        self.timeout = timeout
        self.attempts = attempts

    def __repr__(self) -> str:
        return f"HTTPStaging(timeout={self.timeout}, attempts={self.attempts})"

    def fetch(self, file: File, local_path: str) -> None:
        url, expected = split_checksum(file.url)
        with atomic_target(local_path) as tmp:
            self._download(url, tmp, file.url)
            if expected is not None:
                verify(tmp, file.url, expected)

    def _download(self, url: str, tmp: str, name: str) -> None:
        got = 0
        last: BaseException | None = None
        for attempt in range(self.attempts):
            if attempt:
                time.sleep(0.1 * 2**attempt)
            headers = {"User-Agent": "parsl-data", "Accept-Encoding": "identity"}
            if got:
                headers["Range"] = f"bytes={got}-"
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as resp:
                    if got and resp.status != 206:
                        got = 0  # the server ignored the range: start over
                    with open(tmp, "ab" if got else "wb") as out:
                        while chunk := resp.read(_CHUNK):
                            out.write(chunk)
                            got += len(chunk)
                    if resp.length:  # bytes announced but never sent
                        raise _Cut()
                    return
            except urllib.error.HTTPError as e:
                if e.code < 500:
                    raise StagingError(name, "in", f"HTTP {e.code} {e.reason}") from None
                last = e
            except (urllib.error.URLError, OSError, http.client.HTTPException, _Cut) as e:
                if isinstance(getattr(e, "reason", e), ssl.SSLCertVerificationError):  # no retry helps
                    raise StagingError(name, "in", f"{_describe(getattr(e, 'reason', e))} (a private CA can be trusted with SSL_CERT_FILE)") from None
                last = e
        reason = getattr(last, "reason", None) or last
        raise StagingError(name, "in", f"{_describe(reason)} (after {self.attempts} attempts, {got} bytes received)")


def _describe(e: object) -> str:
    if isinstance(e, _Cut) or isinstance(e, http.client.IncompleteRead):
        return "the connection closed before the whole file arrived"
    if isinstance(e, urllib.error.HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, BaseException):
        return f"{type(e).__name__}: {e}"
    return str(e)


class HTTPInTaskStaging(HTTPStaging):
    """Upstream's name for HTTP staging inside the task: the download always runs on the
    worker, whatever the executor."""

    def _on_worker(self, dm: DataManager, executor: str) -> bool:
        return True


class HTTPSeparateTaskStaging(HTTPStaging):
    """Upstream's name for HTTP staging before the task: here the download runs on the data
    manager's threads (upstream runs it as a task of its own on the executor)."""

    in_task: ClassVar[bool] = False
