"""FTP staging, in and out, with the standard library's ``ftplib``.

::

    fetch: RETR path ─▶ wd/.x.XXXX.partial ── size matches SIZE, checksum ok ─▶ renamed to wd/x
    push:  STOR dir/.x.parsl-XXXX.partial ─▶ RNFR/RNTO dir/x    (the remote name appears complete)

``ftp://user:password@host:port/path``: without a user, anonymous login. The password never
appears in messages or reprs.
"""
from __future__ import annotations

import contextlib
import ftplib
import posixpath
import uuid
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from parsl.data_provider.data_manager import DataManager
from parsl.data_provider.errors import StagingError
from parsl.data_provider.files import File
from parsl.data_provider.transfer import TransferStaging, atomic_target

from .checksum import split_checksum, verify


class FTPStaging(TransferStaging):
    """Stage ``ftp://`` files in and out.

    Args:
        timeout: seconds a connect or a transfer may stall before it fails.
    """

    schemes: ClassVar[tuple[str, ...]] = ("ftp",)
    can_push: ClassVar[bool] = True

    def __init__(self, timeout: float = 60.0) -> None:
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"FTPStaging(timeout={self.timeout})"

    def _connect(self, url: str, direction: str) -> tuple[ftplib.FTP, str]:
        parts = urlsplit(url)
        if not parts.hostname or not parts.path or parts.path.endswith("/"):
            raise StagingError(url, direction, "an FTP URL needs a host and a file path: ftp://[user[:password]@]host[:port]/path/file")
        ftp = ftplib.FTP(timeout=self.timeout)
        try:
            ftp.connect(parts.hostname, parts.port or 21)
            ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or "anonymous@"))
        except ftplib.Error as e:
            ftp.close()
            raise StagingError(url, direction, f"FTP server said: {e}") from None
        except BaseException:
            ftp.close()
            raise
        return ftp, unquote(parts.path)

    def fetch(self, file: File, local_path: str) -> None:
        url, expected = split_checksum(file.url)
        ftp, path = self._connect(url, "in")
        try:
            ftp.voidcmd("TYPE I")
            try:
                size = ftp.size(path)
            except ftplib.error_perm:  # no SIZE command (or no such file: RETR will say)
                size = None
            received = 0
            with atomic_target(local_path) as tmp:
                with open(tmp, "wb") as out:

                    def write(block: bytes) -> None:
                        nonlocal received
                        out.write(block)
                        received += len(block)

                    ftp.retrbinary(f"RETR {path}", write)
                if size is not None and received != size:
                    raise StagingError(file.url, "in", f"the connection closed before the whole file arrived ({received} of {size} bytes)")
                if expected is not None:
                    verify(tmp, file.url, expected)
        except ftplib.Error as e:
            raise StagingError(file.url, "in", f"FTP server said: {e}") from None
        finally:
            _quit(ftp)

    def push(self, local_path: str, file: File) -> None:
        ftp, path = self._connect(file.url, "out")
        partial = posixpath.join(posixpath.dirname(path), f".{posixpath.basename(path)}.parsl-{uuid.uuid4().hex[:8]}.partial")
        try:
            with open(local_path, "rb") as src:
                ftp.storbinary(f"STOR {partial}", src)
            ftp.rename(partial, path)
        except ftplib.Error as e:
            with contextlib.suppress(ftplib.Error, OSError):
                ftp.delete(partial)
            raise StagingError(file.url, "out", f"FTP server said: {e}") from None
        except BaseException:
            with contextlib.suppress(ftplib.Error, OSError):
                ftp.delete(partial)
            raise
        finally:
            _quit(ftp)


def _quit(ftp: ftplib.FTP) -> None:
    try:
        ftp.quit()
    except (ftplib.Error, OSError, EOFError):
        ftp.close()


class FTPInTaskStaging(FTPStaging):
    """Upstream's name for FTP staging inside the task: transfers always run on the worker."""

    def _on_worker(self, dm: DataManager, executor: str) -> bool:
        return True


class FTPSeparateTaskStaging(FTPStaging):
    """Upstream's name for FTP staging around the task: here transfers run on the data
    manager's threads (upstream runs them as tasks of their own on the executor)."""

    in_task: ClassVar[bool] = False
