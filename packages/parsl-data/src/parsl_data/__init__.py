"""Parsl data staging beyond local files: Globus, HTTP/HTTPS and FTP.

The staging providers (``parsl_data.http.HTTPStaging``, ``parsl_data.ftp.FTPStaging``,
``parsl_data.globus.GlobusStaging``) register in the ``parsl.staging`` entry-point group under
their URL schemes; parsl-core finds them when an app's ``inputs=`` or ``outputs=`` hold such a
File. Importing this package imports none of them (nor globus-sdk).
"""

from importlib import metadata as _metadata

__version__ = _metadata.version("parsl-data")
