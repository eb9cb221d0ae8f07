"""The Google Compute Engine provider with the real google-cloud-compute client (REST transport)
and google-auth's service-account flow.

What is fake: Compute Engine itself. No GCE emulator exists, so cloud_fakes/gce_server.py is a
small REST fake on 127.0.0.1 that answers instances, firewalls, operations and the OAuth token
endpoint, and runs each instance's startup-script as a local process group (cloud_fakes/vm.py).
"""
from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("google.cloud.compute_v1", reason="needs google-cloud-compute: pip install 'libsubmit[google]'")

from cloud_fakes.gce_server import FakeGCE
from cloud_fakes.kit import FakeCloudConformance, killed_driver

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import wait_for_state

pytestmark = pytest.mark.integration
GOLDEN = pathlib.Path(__file__).parent / "golden" / "googlecloud.user-data"
PRIVATE_MARK = "BEGIN PRIVATE KEY"


def _keyfile(directory: pathlib.Path, fake: FakeGCE) -> pathlib.Path:
    """A fresh service-account key whose public half the fake trusts."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = f"k{len(fake.trusted_keys) + 1}"
    fake.trusted_keys[kid] = key.public_key()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    path = directory / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "parsl-test", "private_key_id": kid, "private_key": pem,
        "client_email": "parsl@parsl-test.iam.gserviceaccount.com", "client_id": "1", "token_uri": f"{fake.url}/token",
    }))
    return path


@pytest.fixture
def gce(tmp_path: pathlib.Path) -> Iterator[FakeGCE]:
    with FakeGCE(tmp_path / "vms") as fake:
        yield fake  # type: ignore[misc]


def _provider(workdir: pathlib.Path, fake: FakeGCE, **options: Any) -> Any:
    from libsubmit.providers.googlecloud.googlecloud import GoogleCloudProvider

    options.setdefault("label", "gce")
    keyfile = _keyfile(workdir, fake)
    p = GoogleCloudProvider(auth={"keyfile": str(keyfile)}, projectId="parsl-test", endpoint_url=fake.url,
                            state_file=str(workdir / "runinfo" / "gce-state.json"), **options)
    p.poll_interval = 0.05
    return p


class TestGoogleCloudConformance(FakeCloudConformance):
    """The kit's life-cycle on the Compute Engine fake; startup-scripts run as local processes."""

    fake_class = FakeGCE
    golden_file = GOLDEN
    refusal = ({"instanceType": "no-such-type"}, "Machine type does not exist")

    def build(self, workdir: pathlib.Path, fake: Any, **options: Any) -> ExecutionProvider:
        return _provider(workdir, fake, **options)  # type: ignore[no-any-return]

    def leftovers(self, fake: Any) -> Any:
        return fake.instances or fake.firewalls


def test_lifecycle_and_cleanup(tmp_path: pathlib.Path, gce: FakeGCE) -> None:
    """Every call carries a service-account JWT signed with the key file's key; the instance carries
    the startup-script, labels and network tag; the firewall admits only members and the
    driver; cancel then teardown leave no instance, no firewall and no state file."""
    p = _provider(tmp_path, gce, driverAddress="198.51.100.4", zone="europe-west1-b", instanceType="e2-small")
    job = p.submit("echo gce block", 1, "life")
    assert gce.jwt_claims and gce.jwt_claims[0]["iss"] == "parsl@parsl-test.iam.gserviceaccount.com"
    inst = gce.instances[job]
    assert inst["machineType"] == "zones/europe-west1-b/machineTypes/e2-small"
    script = next(i["value"] for i in inst["metadata"]["items"] if i["key"] == "startup-script")
    assert "echo gce block" in script and script.rstrip().endswith("shutdown -h now")
    assert inst["labels"]["parsl-state-token"] == p.state.token
    (rule,) = gce.firewalls.values()
    assert rule["sourceRanges"] == ["198.51.100.4/32"] and rule["sourceTags"] == rule["targetTags"] == inst["tags"]["items"]
    seen = wait_for_state(p, job, lambda s: s is JobState.RUNNING, 30, 0.05)
    assert seen[0] is JobState.PENDING and seen[-1] is JobState.RUNNING  # PROVISIONING/STAGING first
    assert p.cancel([job]) == [True]
    assert wait_for_state(p, job, lambda s: s.terminal, 30, 0.05)[-1] is JobState.CANCELLED
    p.teardown()
    assert gce.instances == {} and gce.firewalls == {}
    assert not pathlib.Path(p.state_file).exists()
    # every compute call was signed (the fake checked each signature); the key never went over the wire
    compute = [r for r in gce.requests if r["path"].startswith("/compute/")]
    assert compute and len(gce.jwt_claims) >= len(compute)
    assert not any(PRIVATE_MARK in json.dumps(r["body"], default=str) for r in gce.requests)


def test_leftovers_of_a_killed_driver_are_deleted(tmp_path: pathlib.Path, gce: FakeGCE) -> None:
    """A driver process SIGKILLed after submitting leaves its instance and firewall in the
    state file; the next run deletes the instance at its first submit and reuses the rule."""
    from libsubmit.providers.googlecloud.googlecloud import GoogleCloudProvider

    keyfile = _keyfile(tmp_path, gce)
    kwargs = {"auth": {"keyfile": str(keyfile)}, "projectId": "parsl-test", "endpoint_url": gce.url,
              "state_file": str(tmp_path / "runinfo" / "gce-state.json"), "label": "gce"}
    (old,) = killed_driver(GoogleCloudProvider, kwargs)
    rule = set(gce.firewalls)
    assert old in gce.instances and rule
    second = _provider(tmp_path, gce)  # a new key the fake also trusts, same state file
    new = second.submit("true", 1, "new")
    assert gce.instances[old]["status"] == "STOPPING" and set(gce.firewalls) == rule
    second.teardown()
    assert gce.instances == {} and gce.firewalls == {} and new != old


def test_api_errors_carry_the_cloud_code_and_message(tmp_path: pathlib.Path, gce: FakeGCE) -> None:
    from libsubmit.error import CloudAPIError

    p = _provider(tmp_path, gce, zone="nowhere-1")
    with pytest.raises(CloudAPIError) as info:
        p.submit("true", 1)
    assert info.value.code.startswith("404") and "zones/nowhere-1' was not found" in info.value.message
    p.teardown()


def test_repr_and_logs_hold_no_key(tmp_path: pathlib.Path, gce: FakeGCE, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    p = _provider(tmp_path, gce)
    p.submit("true", 1)
    key = json.loads((tmp_path / "service-account.json").read_text())["private_key"]
    body = key.splitlines()[1]
    for text in (repr(p), caplog.text, pathlib.Path(p.state_file).read_text()):
        assert body not in text and PRIVATE_MARK not in text
    p.teardown()


def test_status_of_many_blocks_is_one_paged_listing(tmp_path: pathlib.Path, gce: FakeGCE) -> None:
    """status() asks once for all blocks (a label-filtered listing the client pages through),
    not once per block; an instance of another provider in the zone is not mixed in."""
    (tmp_path / "other").mkdir()
    other = _provider(tmp_path / "other", gce, label="other")
    stranger = other.submit("sleep 600", 1, "stranger")
    p = _provider(tmp_path, gce)
    jobs = [p.submit("sleep 600", 1, f"b{i}") for i in range(5)]
    before = len(gce.requests)
    states = p.status(jobs)
    lists = [r for r in gce.requests[before:] if r["method"] == "GET" and r["path"].endswith("/instances")]
    assert len(lists) == 3 and lists[0]["query"].get("pageToken") is None  # 5 blocks, 2 a page
    assert all(r["query"]["filter"] == f'labels.parsl-state-token = "{p.state.token}"' for r in lists)
    assert states == [JobState.PENDING] * 5  # PROVISIONING → STAGING after one look
    assert wait_for_state(p, jobs[-1], lambda s: s is JobState.RUNNING, 30, 0.05)[-1] is JobState.RUNNING
    p.teardown()
    assert set(gce.instances) == {stranger}
    other.teardown()
