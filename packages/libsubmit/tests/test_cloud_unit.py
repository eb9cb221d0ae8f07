"""The cloud providers without a cloud: registration, documented paths, missing extras, option
and auth validation, reprs, and the state file. Their life-cycles over the clouds' wire
protocols are in tests-integration/test_libsubmit_{aws,googlecloud,azure,jetstream}.py."""
from __future__ import annotations

import importlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from parsl import plugins
from parsl.errors import ConfigurationError

CLOUDS = {
    # entry-point name: (module, class, extra, the options it needs, auth it needs)
    "aws": ("libsubmit.providers.aws.aws", "EC2Provider", "aws", {"imageId": "ami-1"}, {}),
    "googlecloud": ("libsubmit.providers.googlecloud.googlecloud", "GoogleCloudProvider", "google", {"projectId": "p"}, {}),
    "azure": ("libsubmit.providers.azure.azure", "AzureProvider", "azure", {}, {"subscription_id": "s"}),
    "jetstream": ("libsubmit.providers.jetstream.jetstream", "JetstreamProvider", "openstack", {"imageId": "img"}, {}),
}
SDK = {"aws": "boto3", "googlecloud": "google.cloud.compute_v1", "azure": "azure.mgmt.compute", "jetstream": "openstack"}


def _build(name: str, tmp_path: Path, **extra: Any) -> Any:
    pytest.importorskip(SDK[name], reason=f"the {name} provider's SDK is not installed (extra {CLOUDS[name][2]!r})")
    module, cls, _extra, options, auth = CLOUDS[name]
    kwargs = {**options, **extra}
    kwargs.setdefault("auth", auth)
    return getattr(importlib.import_module(module), cls)(state_file=str(tmp_path / "state.json"), **kwargs)


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_registered_at_the_documented_path(name: str) -> None:
    module, cls, *_ = CLOUDS[name]
    assert plugins.get("provider", name) is getattr(importlib.import_module(module), cls)


def test_other_documented_names() -> None:
    import libsubmit
    import libsubmit.providers
    from libsubmit.providers.aws.aws import AWSProvider, EC2Provider
    from libsubmit.providers.azure.azure import AzureProvider
    from libsubmit.providers.azure.azureProvider import AzureProvider as SeedsPath

    assert AWSProvider is EC2Provider and SeedsPath is AzureProvider
    for name in ("EC2Provider", "AWSProvider", "GoogleCloudProvider", "AzureProvider", "JetstreamProvider"):
        assert getattr(libsubmit, name) is getattr(libsubmit.providers, name)


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_missing_sdk_names_the_exact_pip_line(name: str) -> None:
    """Constructing a cloud provider without its SDK says which extra to install (the
    provider's module itself imports without the SDK)."""
    _module, _cls, extra, options, auth = CLOUDS[name]
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules[{SDK[name]!r}] = None  # as if the SDK were not installed
        from parsl import plugins
        from parsl.errors import PluginDependencyMissing
        cls = plugins.get("provider", {name!r})
        try:
            cls(auth={auth!r}, state_file="/nonexistent/state.json", **{options!r})
        except PluginDependencyMissing as e:
            print(e.pip_line)
        """
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"pip install 'libsubmit[{extra}]'"


def test_import_loads_no_sdk() -> None:
    code = "import sys, libsubmit.providers.aws.aws, libsubmit.providers.googlecloud.googlecloud, libsubmit.providers.azure.azure, libsubmit.providers.jetstream.jetstream; print(sorted(m for m in ('boto3', 'google.cloud.compute_v1', 'azure.mgmt.compute', 'openstack') if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_no_channel_needed_and_shape_options(name: str, tmp_path: Path) -> None:
    p = _build(name, tmp_path, max_blocks=3, walltime="01:00:00")
    assert p.channels_required is False and p.shape.max_blocks == 3 and p.current_capacity == 0
    assert p.status([]) == [] and p.cancel([]) == []
    assert not os.path.exists(p.state_file), "construction must not touch the cloud or the state file"


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_unknown_option_and_auth_key(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown key 'instanceTyp"):
        _build(name, tmp_path, instanceTyp="x")
    with pytest.raises(ConfigurationError, match="unknown key 'passwd'"):
        _build(name, tmp_path, auth={**CLOUDS[name][4], "passwd": "x"})


@pytest.mark.parametrize("name", ["aws", "jetstream"])
def test_image_is_required(name: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="imageId") as info:
        _build(name, tmp_path, imageId=None)
    assert info.value.path.endswith("imageId")


def test_googlecloud_needs_a_project(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="projectId"):
        _build("googlecloud", tmp_path, projectId=None)
    assert _build("googlecloud", tmp_path, projectId=None, auth={"project": "from-auth"}).project == "from-auth"


@pytest.mark.parametrize(("name", "auth"), [
    ("aws", {"profile": "prod-S3CRET-profile"}),
    ("azure", {"subscription_id": "s", "tenant_id": "t", "client_id": "c", "client_secret": "S3CRET-value"}),
    ("jetstream", {"auth_url": "https://keystone.example/v3", "username": "u", "password": "S3CRET-value", "project_name": "p"}),
    ("googlecloud", {"keyfile": "/secret/S3CRET-key.json"}),
])
def test_repr_holds_no_credentials(name: str, auth: dict[str, str], tmp_path: Path) -> None:
    p = _build(name, tmp_path, auth=auth)
    assert "S3CRET" not in repr(p) and "S3CRET" not in str(p)
    assert p.label in repr(p)


def test_dict_config_with_aws_provider(tmp_path: Path) -> None:
    """The seeds' EC2 site dict (auth keyfile/profile, the options of §6.5.8) is accepted and
    builds the provider; a misspelt option is named with its path."""
    pytest.importorskip("boto3")
    from libsubmit.providers.aws.aws import EC2Provider

    site = {
        "site": "ec2", "auth": {"profile": "default"},
        "execution": {"executor": "ipp", "provider": "aws", "block": {
            "nodes": 1, "taskBlocks": 2, "walltime": "00:20:00", "initBlocks": 1, "maxBlocks": 4,
            "options": {"instanceType": "t2.small", "imageId": "ami-1", "region": "us-east-2", "keyName": "mine", "spotMaxBid": 0.5},
        }},
    }
    p = EC2Provider(config=site)
    assert p.options["spotMaxBid"] == 0.5 and p.region == "us-east-2" and p.shape.tasks_per_node == 2 and p.label == "ec2"
    assert p._auth == {"profile": "default"}
    site["execution"]["block"]["options"]["instanceTpe"] = "t2.micro"  # type: ignore[index]
    with pytest.raises(ConfigurationError) as info:
        EC2Provider(config=site)
    assert info.value.path == "config.execution.block.options.instanceTpe" and "instanceType" in str(info.value)


def test_state_file_is_private_and_atomic(tmp_path: Path) -> None:
    from libsubmit.providers.cloud_state import CloudState

    path = tmp_path / "runinfo" / "s.json"
    state = CloudState(str(path), "aws", "lbl")
    state.add_resource("vpc", "vpc-1", True)
    state.add_instance("i-1", "block-1")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["s.json"]  # no temporary file left
    again = CloudState(str(path), "aws", "lbl")
    assert again.token == state.token and again.leftovers() == ["i-1"] and state.leftovers() == []
    again.adopt(["i-1"])
    assert CloudState(str(path), "aws", "lbl").instances["i-1"]["deleting"] is True
    again.drop_instance("i-1")
    again.drop_resource("vpc")
    assert not path.exists(), "an empty state is no file"
    with pytest.raises(ValueError, match="belongs to the 'aws' provider"):
        state.add_resource("vpc", "vpc-2", True)
        CloudState(str(path), "azure", "lbl")
    path.write_text("{half")
    with pytest.raises(ValueError, match="not valid JSON"):
        CloudState(str(path), "aws", "lbl")


def test_user_data_halts_after_the_walltime(tmp_path: Path) -> None:
    """The block script bounds the workers by the walltime and halts the instance after them;
    run here with a stub shutdown, it ends in time and calls the halt."""
    p = _build("aws", tmp_path, walltime="00:00:02")
    script = p.user_data("blk", "sleep 60")
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "shutdown").write_text(f"#!/bin/sh\necho halted $* > {tmp_path}/halted\n")
    (stubs / "shutdown").chmod(0o755)
    env = dict(os.environ, PATH=f"{stubs}:{os.environ['PATH']}", TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=40)
    assert "workers exited with status 124" in r.stdout  # timeout's status: the walltime ended them
    assert (tmp_path / "halted").read_text().strip() == "halted -h now"
    assert json.dumps(script)  # plain text


def test_install_hints_do_not_loop() -> None:
    """Every hint parsl-core gives for a libsubmit name (``pip install 'libsubmit[aws]'``)
    names an extra libsubmit declares, and libsubmit registers that name: installing what the
    hint says makes the name resolve."""
    from importlib import metadata

    dist = metadata.distribution("libsubmit")
    extras = set(dist.metadata.get_all("Provides-Extra") or [])
    entry_points = {(ep.group, ep.name) for ep in dist.entry_points}
    hinted = {key: target for key, target in plugins.KNOWN_PROVIDERS.items() if target.split("[")[0] == "libsubmit"}
    assert ("provider", "aws") in hinted
    for (kind, name), target in hinted.items():
        assert (plugins.KINDS[kind], name) in entry_points, f"the hint for {kind} {name!r} says {target!r}, which does not provide it"
        if "[" in target:
            assert target.split("[")[1].rstrip("]") in extras, f"libsubmit has no extra {target!r}"
