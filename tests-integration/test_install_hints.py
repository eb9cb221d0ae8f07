"""Every install hint parsl-core gives (``pip install 'parsl-executors[ipp]'``...) points at a
distribution of this monorepo that exists, declares that extra, and registers the plugin the
hint was given for: following the hint makes the name resolve. (A hint for a plugin nobody
has written would send users to install something that cannot help them.)"""
from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from parsl import plugins

ROOT = Path(__file__).resolve().parents[1]
MONOREPO = {p.name for p in (ROOT / "packages").iterdir() if (p / "pyproject.toml").exists()}


@pytest.mark.parametrize("key", sorted(plugins.KNOWN_PROVIDERS), ids=lambda k: f"{k[0]}-{k[1]}")
def test_the_hint_for_each_known_plugin_installs_it(key: tuple[str, str]) -> None:
    kind, name = key
    target = plugins.KNOWN_PROVIDERS[key]
    dist_name, _, extra = target.partition("[")
    extra = extra.rstrip("]")
    assert dist_name in MONOREPO, f"the hint for {kind} {name!r} names {dist_name!r}, which is not a package of this repository"
    dist = metadata.distribution(dist_name)
    if extra:
        assert extra in set(dist.metadata.get_all("Provides-Extra") or []), f"{dist_name} declares no extra {extra!r}"
    entry_points = {(ep.group, ep.name) for ep in dist.entry_points}
    assert (plugins.KINDS[kind], name) in entry_points, f"{dist_name} does not register the {kind} plugin {name!r} the hint promises"


def test_every_plugin_the_monorepo_registers_has_a_hint() -> None:
    """The other way round: a plugin shipped here but missing from the hint table would get a
    generic 'no such plugin' error instead of the line that installs it."""
    groups = {group: kind for kind, group in plugins.KINDS.items()}
    missing = []
    for dist_name in sorted(MONOREPO - {"parsl-core"}):
        for ep in metadata.distribution(dist_name).entry_points:
            kind = groups.get(ep.group)
            if kind is not None and (kind, ep.name) not in plugins.KNOWN_PROVIDERS:
                missing.append(f"{dist_name}: {kind} {ep.name!r}")
    assert not missing, missing
