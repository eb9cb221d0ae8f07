"""Masking secrets wherever configuration can surface: reprs, logs and error messages.

A key counts as secret-bearing when its name says so (``password``, ``passwd``,
``passphrase``, ``secret``, ``token``, ``credential``, or a name ending in ``key`` such as
``access_key`` / ``AWSSecretKey``); its value shows as ``'***'``. Paths such as ``keyFile``
are not secrets and stay visible. A whole ``auth`` value given in the wrong shape (a string
``'user:password'``) is never echoed either.
"""
from __future__ import annotations

import re
from typing import Any, Mapping

__all__ = ["MASK", "describe", "is_secret_name", "redact"]

MASK = "***"
_SECRET = re.compile(r"pass(word|wd|phrase)?$|password|secret|token|credential|(^|[_a-z])key$", re.IGNORECASE)


def is_secret_name(name: object) -> bool:
    """Whether a config key's value is a secret, judged by its name."""
    return isinstance(name, str) and bool(_SECRET.search(name))


def redact(value: Any) -> Any:
    """A copy of ``value`` (dicts, lists and tuples, recursively) with every secret-named
    key's value replaced by :data:`MASK`."""
    if isinstance(value, Mapping):
        return {k: (MASK if is_secret_name(k) and v is not None else redact(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value


def describe(value: Any, where: str = "") -> str:
    """``"str 'abc'"`` for error messages, or only the type when ``where`` (a key path such
    as ``sites[0].auth`` or ``...auth.password``) may hold a secret."""
    last = where.rsplit(".", 1)[-1]
    if isinstance(value, (dict, list)):
        return type(value).__name__
    if last == "auth" or (".auth." in f".{where}." and last not in ("channel", "hostname", "port", "username")) or is_secret_name(last):
        return f"{type(value).__name__} (value hidden: it may hold a secret)"
    return f"{type(value).__name__} {value!r}"
