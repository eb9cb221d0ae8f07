"""The Jetstream (OpenStack) provider with the real openstacksdk and keystoneauth clients.

What is fake: the OpenStack cloud. cloud_fakes/openstack_server.py is a small Keystone v3 +
Nova + Neutron REST fake on 127.0.0.1 (token issue and catalog, servers, flavors, networks,
subnets, routers, security groups and rules); it runs each server's user data as a local
process group (cloud_fakes/vm.py).
"""
from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("openstack", reason="needs openstacksdk: pip install 'libsubmit[openstack]'")

from cloud_fakes.kit import FakeCloudConformance, killed_driver
from cloud_fakes.openstack_server import FakeOpenStack

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import wait_for_state

pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore::PendingDeprecationWarning"), pytest.mark.filterwarnings("ignore::DeprecationWarning")]
GOLDEN = pathlib.Path(__file__).parent / "golden" / "jetstream.user-data"
PASSWORD = "jetstream-test-pw"


def _provider(workdir: pathlib.Path, fake: FakeOpenStack, password: str = PASSWORD, **options: Any) -> Any:
    from libsubmit.providers.jetstream.jetstream import JetstreamProvider

    options.setdefault("label", "js")
    options.setdefault("imageId", "ubuntu-22.04-id")
    auth = {"auth_url": f"{fake.url}/identity/v3", "username": "parsl", "password": password, "project_name": "parsl"}
    p = JetstreamProvider(auth=auth, state_file=str(workdir / "runinfo" / "js-state.json"), **options)
    p.poll_interval = 0.05
    return p


def _held(fake: FakeOpenStack) -> dict[str, int]:
    return {"servers": len(fake.servers), **{k: len(v) for k, v in fake.neutron.items() if v}}


@pytest.fixture
def cloud(tmp_path: pathlib.Path) -> Iterator[FakeOpenStack]:
    with FakeOpenStack(tmp_path / "vms") as fake:
        yield fake  # type: ignore[misc]


class TestJetstreamConformance(FakeCloudConformance):
    """The kit's life-cycle on the OpenStack fake; user data runs as local processes."""

    fake_class = FakeOpenStack
    golden_file = GOLDEN
    refusal = ({"imageId": "no-such-image"}, "Can not find requested image no-such-image")

    def build(self, workdir: pathlib.Path, fake: Any, **options: Any) -> ExecutionProvider:
        return _provider(workdir, fake, **options)  # type: ignore[no-any-return]

    def leftovers(self, fake: Any) -> Any:
        return {k: v for k, v in _held(fake).items() if v}


def test_lifecycle_creates_and_removes_the_network(tmp_path: pathlib.Path, cloud: FakeOpenStack) -> None:
    """Keystone issues the token the other calls carry; the provider creates a network, subnet,
    router (to the external network) and a security group admitting members and the driver's
    /32; the server carries the user data, flavor and group; teardown leaves nothing."""
    cloud.neutron["networks"]["ext-1"] = {"id": "ext-1", "name": "public", "router:external": True}
    p = _provider(tmp_path, cloud, externalNetwork="public", driverAddress="203.0.113.9", flavor="m1.tiny", keyName="mykey")
    job = p.submit("echo jetstream block", 1, "life")
    server = cloud.servers[job]
    assert "echo jetstream block" in server["user_data"] and server["user_data"].rstrip().endswith("shutdown -h now")
    assert server["flavor"] == {"id": "1"} and server["key_name"] == "mykey"
    assert server["metadata"]["parsl-state-token"] == p.state.token
    (group,) = cloud.neutron["security-groups"].values()
    assert server["security_groups"] == [{"name": group["name"]}]
    sources = sorted(r.get("remote_ip_prefix") or r["remote_group_id"] for r in cloud.neutron["security-group-rules"].values())
    assert sources == sorted(["203.0.113.9/32", group["id"]])
    (router,) = cloud.neutron["routers"].values()
    (subnet,) = cloud.neutron["subnets"].values()
    assert router["external_gateway_info"] == {"network_id": "ext-1"} and router["interfaces"] == [subnet["id"]]
    assert server["networks"] == [{"uuid": subnet["network_id"]}]
    assert wait_for_state(p, job, lambda s: s is JobState.RUNNING, 30, 0.05)[-1] is JobState.RUNNING
    assert p.cancel([job]) == [True]
    assert wait_for_state(p, job, lambda s: s.terminal, 30, 0.05)[-1] is JobState.CANCELLED
    p.teardown()
    assert _held(cloud) == {"servers": 0, "networks": 1}  # only the external network, which was not ours
    assert not pathlib.Path(p.state_file).exists()
    # status asked through one filtered listing per call, never server by server
    listings = [r for r in cloud.requests if r["path"] == "/compute/v2.1/servers/detail"]
    assert listings and all(r["query"]["name"] == f"-{p.state.token[:6]}-" for r in listings)
    assert not [r for r in cloud.requests if r["method"] == "GET" and r["path"].startswith("/compute/v2.1/servers/") and r["path"] != "/compute/v2.1/servers/detail"]
    calls = [r for r in cloud.requests if r["path"].startswith(("/compute/v2.1/servers", "/network/v2.0/"))]
    assert calls and all(r["headers"].get("X-Auth-Token") in cloud.tokens for r in calls)


def test_given_network_is_used_and_kept(tmp_path: pathlib.Path, cloud: FakeOpenStack) -> None:
    cloud.neutron["networks"]["net-9"] = {"id": "net-9", "name": "project-net"}
    p = _provider(tmp_path, cloud, networkId="net-9")
    job = p.submit("true", 1)
    assert cloud.servers[job]["networks"] == [{"uuid": "net-9"}] and not cloud.neutron["subnets"]
    p.teardown()
    assert _held(cloud) == {"servers": 0, "networks": 1}


def test_leftovers_of_a_killed_driver_are_deleted(tmp_path: pathlib.Path, cloud: FakeOpenStack) -> None:
    """A driver process SIGKILLed after submitting leaves its server in the state file; the
    next run deletes it at its first submit and reuses the recorded security group."""
    from libsubmit.providers.jetstream.jetstream import JetstreamProvider

    auth = {"auth_url": f"{cloud.url}/identity/v3", "username": "parsl", "password": PASSWORD, "project_name": "parsl"}
    kwargs = {"auth": auth, "imageId": "ubuntu-22.04-id", "state_file": str(tmp_path / "runinfo" / "js-state.json"), "label": "js"}
    (old,) = killed_driver(JetstreamProvider, kwargs)
    groups = set(cloud.neutron["security-groups"])
    assert old in cloud.servers and groups
    second = _provider(tmp_path, cloud)
    new = second.submit("true", 1, "new")
    assert cloud.servers[old].get("OS-EXT-STS:task_state") == "deleting" and new in cloud.servers
    assert set(cloud.neutron["security-groups"]) == groups
    second.teardown()
    assert _held(cloud) == {"servers": 0}


def test_wrong_password_is_a_provider_error_without_the_password(tmp_path: pathlib.Path, cloud: FakeOpenStack, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from libsubmit.error import CloudAPIError

    caplog.set_level(logging.DEBUG)
    p = _provider(tmp_path, cloud, password="not-the-Pa55word")
    with pytest.raises(CloudAPIError) as info:
        p.submit("true", 1)
    assert info.value.code == "401"
    for text in (str(info.value), repr(p), caplog.text):
        assert "not-the-Pa55word" not in text
    good = _provider(tmp_path, cloud)
    good.submit("true", 1)
    assert "jetstream-test-pw" not in json.dumps(json.loads(pathlib.Path(good.state_file).read_text())) and PASSWORD not in repr(good)
    good.teardown()
