"""The Parsl File class.

A :class:`File` *is* its local path: it subclasses ``str`` (and is ``os.PathLike``), so the
0.5.0 idioms all work on it: ``open(File('hello.txt'))``, ``' '.join(inputs)``,
``'cat {}'.format(f)``, ``f.filepath``. The URL it came from, its scheme and its parts stay
available as attributes. A File is an immutable value: staging a remote file returns a new
File whose local path is the staged copy (only ``local_path`` can be set, on the copy a
staging provider is handed, as upstream providers do).
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from ..app.futures import DataFuture


def _local_path(scheme: str, netloc: str, path: str) -> str:
    if scheme != "file":
        # a remote file's local copy lands, by default, under its own name
        return os.path.basename(path) or netloc
    if netloc in ("", "localhost"):
        return path
    # 'file://test.txt' (as the 0.5.0 guide writes it) means the relative path 'test.txt'
    return netloc + path


def _split_url(url: str) -> tuple[str, str, str]:
    """``(scheme, netloc, path)`` of a File's URL."""
    parsed = urlparse(url)
    # a one-letter "scheme" is a Windows drive, not a URL
    if not parsed.scheme or len(parsed.scheme) < 2:
        return "file", "", url
    scheme = parsed.scheme.lower()
    if scheme == "globus":
        # Globus endpoint names may hold a '#' ('go#ep1'), which is no fragment here;
        # '/~/x' is the endpoint's home directory, given as '~/x'
        netloc, _, rest = url.split("://", 1)[1].partition("/")
        path = "/" + rest
        return scheme, netloc, path[1:] if path.startswith("/~") else path
    return scheme, parsed.netloc, parsed.path


class File(str):
    """The Parsl File Class.

    Args:
        url: a path (``'input.txt'``), a ``file://`` URL (``'file:///scratch/input.txt'``) or a
            remote URL (``'globus://<endpoint>/data/input.txt'``, ``'https://host/x.csv'``).
        dman: accepted for 0.5.0 compatibility; the kernel's data manager is used.
        local_path: where this file's local copy is (set by staging).
    """

    url: str
    scheme: str
    netloc: str
    path: str
    cache: bool
    caching_dir: str
    staging: str

    def __new__(
        cls,
        url: str | os.PathLike[str],
        dman: Any = None,
        cache: bool = False,
        caching_dir: str = ".",
        staging: str = "direct",
        local_path: str | None = None,
    ) -> File:
        if isinstance(url, File):
            url = url.url
        url = os.fspath(url)
        if not isinstance(url, str) or not url:
            raise ValueError(f"File needs a non-empty path or URL, got {url!r}")
        scheme, netloc, path = _split_url(url)
        local = local_path if local_path is not None else _local_path(scheme, netloc, path)
        self = super().__new__(cls, local)
        self.url = url
        self.scheme = scheme
        self.netloc = netloc
        self.path = path
        self.cache = cache
        self.caching_dir = caching_dir
        self.staging = staging
        self.__dict__["local_path"] = local_path
        return self

    @property
    def filepath(self) -> str:
        """Return the resolved filepath on the side where it is called from."""
        return self.__dict__.get("local_path") or str.__str__(self)

    @property
    def filename(self) -> str:
        """The file's name, without its directory."""
        return os.path.basename(self.path) or self.netloc

    @property
    def local_path(self) -> str | None:
        """The staged local copy's path for a remote file, if it has been staged."""
        return self.__dict__.get("local_path")

    @local_path.setter
    def local_path(self, value: str | None) -> None:
        # set by staging providers written for upstream Parsl on the copy they are handed
        # (see cleancopy); the data manager gives the app a File whose path is this value
        self.__dict__["local_path"] = value

    @property
    def is_remote(self) -> bool:
        return self.scheme != "file"

    def __fspath__(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        from .errors import redact

        url = redact(self.url)
        return f"File({url!r})" if self.local_path is None else f"File({url!r}, local_path={self.local_path!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.url, self.cache, self.caching_dir, self.staging, self.local_path))

    def cleancopy(self) -> File:
        """A copy of this File with no local copy recorded (what staging providers get)."""
        return File(self.url, cache=self.cache, caching_dir=self.caching_dir, staging=self.staging)

    def with_local_path(self, local_path: str) -> File:
        """A copy of this File whose local copy is at ``local_path``."""
        return File(self.url, cache=self.cache, caching_dir=self.caching_dir, staging=self.staging, local_path=local_path)

    # -- 0.5.0 staging methods --------------------------------------------------------------

    def stage_in(self, site: str | None = None) -> DataFuture:
        """Transport file from the site of origin to local site."""
        from ..dataflow.loader import current_dfk

        return current_dfk().data_manager.stage_in(self, site)

    def stage_out(self) -> DataFuture:
        """Transport file from local filesystem to origin site."""
        from ..dataflow.loader import current_dfk

        return current_dfk().data_manager.stage_out(self)

    def get_data_future(self, site: str | None = None) -> DataFuture | None:
        from ..dataflow.loader import current_dfk

        return current_dfk().data_manager.get_data_future(self, site)

    def set_data_future(self, df: DataFuture, site: str | None = None) -> None:
        from ..dataflow.loader import current_dfk

        current_dfk().data_manager.set_data_future(self, df, site)


def _rebuild(url: str, cache: bool, caching_dir: str, staging: str, local_path: str | None) -> File:
    return File(url, cache=cache, caching_dir=caching_dir, staging=staging, local_path=local_path)
