"""A validated 0.5.0 site definition, as handed to executor plugins that accept dict configs
(through their ``from_site(site, controller)`` class method)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .provider import BlockShape


@dataclass(frozen=True)
class BlockSpec:
    """The ``execution.block`` of a site: its shape plus provider-specific ``options``."""

    shape: BlockShape
    options: Mapping[str, Any] = field(default_factory=dict)
    script_dir: str | None = None
    launcher: str | None = None


@dataclass(frozen=True)
class SiteSpec:
    """One entry of a 0.5.0 config's ``sites`` list, validated.

    ``path`` is where it sits in the dict (``sites[1]``), for error messages; ``execution``
    and ``auth`` keep the raw dicts for keys only one plugin understands.
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


def site_from_dict(raw: Mapping[str, Any], path: str = "sites[0]") -> SiteSpec:
    """Validate one 0.5.0 site dict into a :class:`SiteSpec` (errors name keys under ``path``).
    For plugins whose 0.5.0 constructors take a site dict (``Slurm(config=site)``)."""
    from ..config_dict import site_from_dict as _validate

    return _validate(raw, path)
