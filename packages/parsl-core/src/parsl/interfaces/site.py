"""A validated 0.5.0 site definition, as handed to executor plugins that accept dict configs
(through their ``from_site(site, controller)`` class method)."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Collection, Iterable, Mapping

from .provider import BlockShape


def _masked_repr(spec: Any) -> str:
    from ..redact import redact

    parts = ", ".join(f"{f.name}={redact(getattr(spec, f.name))!r}" for f in fields(spec))
    return f"{type(spec).__name__}({parts})"


@dataclass(frozen=True, repr=False)
class BlockSpec:
    """The ``execution.block`` of a site: its shape plus provider-specific ``options``
    (secret-named options are masked in its repr)."""

    shape: BlockShape
    options: Mapping[str, Any] = field(default_factory=dict)
    script_dir: str | None = None
    launcher: str | None = None

    def __repr__(self) -> str:
        return _masked_repr(self)


@dataclass(frozen=True, repr=False)
class SiteSpec:
    """One entry of a 0.5.0 config's ``sites`` list, validated.

    ``path`` is where it sits in the dict (``sites[1]``), for error messages; ``execution``
    and ``auth`` keep the raw dicts for keys only one plugin understands. Its repr masks
    secret-bearing keys (``password``, ``secret``, ``token``, ``*key``...) as ``'***'``.
    """

    name: str
    executor: str
    provider: str | None
    channel: str | None
    auth: Mapping[str, Any]
    execution: Mapping[str, Any]
    block: BlockSpec
    container: Mapping[str, Any] | None = None
    data: Mapping[str, Any] | None = None
    script_dir: str | None = None
    path: str = "sites[0]"

    def __repr__(self) -> str:
        return _masked_repr(self)


def site_from_dict(raw: Mapping[str, Any], path: str = "sites[0]") -> SiteSpec:
    """Validate one 0.5.0 site dict into a :class:`SiteSpec` (errors name keys under ``path``).
    For plugins whose 0.5.0 constructors take a site dict (``Slurm(config=site)``)."""
    from ..config_dict import site_from_dict as _validate

    return _validate(raw, path)


def reject_unknown_keys(
    keys: Iterable[str],
    allowed: Collection[str],
    where: str,
    owner: str = "",
    suggest_from: Collection[str] | None = None,
) -> None:
    """Raise a ConfigurationError naming the first key not in ``allowed`` (path
    ``where.<key>``), with a "did you mean" taken from ``suggest_from`` (default ``allowed``)
    and the list of what is allowed. Shared by dict configs, providers and executors."""
    unknown = sorted(str(k) for k in keys if k not in allowed)
    if not unknown:
        return
    import difflib

    from ..errors import ConfigurationError

    key = unknown[0]
    close = difflib.get_close_matches(key, sorted(suggest_from if suggest_from is not None else allowed), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    subject = f"unknown key {key!r}" + (f" for {owner}" if owner else "")
    raise ConfigurationError(f"{subject}{hint}; allowed: {', '.join(sorted(allowed)) or 'none'}", f"{where}.{key}" if where else key)
