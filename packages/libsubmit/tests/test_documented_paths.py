"""Every class and function the 0.5.0 guide names is importable at its documented path and is
the one registered as a plugin."""
from __future__ import annotations

import importlib
import inspect

import pytest

from parsl import interfaces, plugins

DOCUMENTED = [
    ("libsubmit.providers.provider_base", "ExecutionProvider"),
    ("libsubmit.providers.local.local", "Local"),
    ("libsubmit.providers.slurm.slurm", "Slurm"),
    ("libsubmit.providers.torque.torque", "Torque"),
    ("libsubmit.providers.cobalt.cobalt", "Cobalt"),
    ("libsubmit.providers.condor.condor", "Condor"),
    ("libsubmit.providers.gridengine.gridengine", "GridEngine"),
    ("libsubmit.channels.channel_base", "Channel"),
    ("libsubmit.channels.local.local", "LocalChannel"),
    ("libsubmit.channels.ssh.ssh", "SshChannel"),
    ("libsubmit.channels.ssh_il.ssh_il", "SshILChannel"),
    ("libsubmit.launchers", "singleNodeLauncher"),
    ("libsubmit.launchers", "srunLauncher"),
    ("libsubmit.launchers", "srunMpiLauncher"),
    ("libsubmit.launchers", "aprunLauncher"),
]


@pytest.mark.parametrize(("module", "name"), DOCUMENTED)
def test_documented_path(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_interfaces_are_parsl_cores() -> None:
    from libsubmit.channels.channel_base import Channel
    from libsubmit.providers.provider_base import ExecutionProvider

    assert Channel is interfaces.Channel and ExecutionProvider is interfaces.ExecutionProvider


@pytest.mark.parametrize("name", ["local", "slurm", "torque", "cobalt", "condor", "gridengine"])
def test_providers_registered_with_050_constructor(name: str) -> None:
    cls = plugins.get("provider", name)
    params = list(inspect.signature(cls).parameters)
    assert params[0] == "config" and "channel" in params
    assert callable(cls.from_site)


@pytest.mark.parametrize(("name", "params"), [
    ("local", ["userhome", "envs", "scriptDir"]),
    ("ssh", ["hostname", "username", "password", "scriptDir"]),
    ("ssh-il", ["hostname", "username", "password", "scriptDir"]),
])
def test_channel_signatures(name: str, params: list[str]) -> None:
    cls = plugins.get("channel", name)
    assert list(inspect.signature(cls).parameters)[: len(params)] == params


def test_lazy_top_level_names() -> None:
    import libsubmit

    assert libsubmit.Slurm is importlib.import_module("libsubmit.providers.slurm.slurm").Slurm
    assert libsubmit.LocalChannel.__name__ == "LocalChannel"
    with pytest.raises(AttributeError):
        libsubmit.Nope  # noqa: B018
