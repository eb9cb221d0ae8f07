"""Parsl data staging beyond local files: Globus, HTTP/HTTPS and FTP"""

from importlib import metadata as _metadata

__version__ = _metadata.version("parsl-data")
