"""The EC2 provider against moto's AWS emulator on 127.0.0.1 (started by
tests-integration/services/moto/start.sh): every boto3 call goes over HTTP to the server.

What is fake: moto emulates the EC2 API but runs no VMs. Where a block must really run, the
``MotoHypervisor`` stand-in (cloud_fakes/ec2_hypervisor.py) reads each instance's user data
through the EC2 API, runs it as a local process group and terminates the instance when the
script halts, as EC2 does for InstanceInitiatedShutdownBehavior=terminate.
"""
from __future__ import annotations

import base64
import json
import os
import pathlib
import stat
import time
from collections.abc import Iterator
from typing import Any

import pytest

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import ProviderConformance, wait_for_state

STATE = "/var/tmp/parsl-moto/env.sh"
REGION = "us-west-2"
GOLDEN = pathlib.Path(__file__).parent / "golden" / "aws.user-data"


def _endpoint() -> str | None:
    if os.environ.get("PARSL_MOTO_ENDPOINT"):
        return os.environ["PARSL_MOTO_ENDPOINT"]
    try:
        with open(STATE) as f:
            return f.read().split("PARSL_MOTO_ENDPOINT=", 1)[1].strip()
    except (OSError, IndexError):
        return None


def _why() -> str | None:
    ep = _endpoint()
    if ep is None:
        return "the moto service is not running (start tests-integration/services/moto/start.sh as root)"
    try:
        import boto3  # noqa: F401
    except ImportError:
        return "boto3 is not installed: pip install 'libsubmit[aws]'"
    import urllib.request

    try:
        urllib.request.urlopen(f"{ep}/moto-api/", timeout=3)
    except OSError as e:
        return f"moto does not answer at {ep}: {e}"
    return None


_reason = _why()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(_reason is not None, reason=_reason or "")]

ENDPOINT = _endpoint() or ""


@pytest.fixture(autouse=True)
def _dummy_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # moto accepts any key; these keep boto3 from looking anywhere else
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture(scope="module")
def ec2() -> Any:
    import boto3

    return boto3.client("ec2", region_name=REGION, endpoint_url=ENDPOINT, aws_access_key_id="x", aws_secret_access_key="y")


@pytest.fixture(scope="module")
def ami(ec2: Any) -> str:
    # one Amazon image id (moto's list is long: asked once per module, with a filter)
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}, {"Name": "root-device-type", "Values": ["ebs"]}])
    return str(images["Images"][0]["ImageId"])


def _provider(workdir: pathlib.Path, ami: str, **options: Any) -> Any:
    from libsubmit.providers.aws.aws import EC2Provider

    options.setdefault("label", f"t{os.getpid()}-{time.monotonic_ns() % 10**9}")
    provider = EC2Provider(imageId=ami, region=REGION, endpoint_url=ENDPOINT, state_file=str(workdir / "runinfo" / "ec2-state.json"), **options)
    provider.poll_interval = 0.1
    return provider


def _ours(ec2: Any, token: str) -> dict[str, int]:
    """What exists in moto tagged with this provider's state token (instances: not terminated)."""
    f = [{"Name": "tag:parsl:state-token", "Values": [token]}]
    live = [i for r in ec2.describe_instances(Filters=f)["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    return {
        "instances": len(live),
        "vpcs": len(ec2.describe_vpcs(Filters=f)["Vpcs"]),
        "subnets": len(ec2.describe_subnets(Filters=f)["Subnets"]),
        "security groups": len(ec2.describe_security_groups(Filters=f)["SecurityGroups"]),
        "internet gateways": len(ec2.describe_internet_gateways(Filters=f)["InternetGateways"]),
        "key pairs": len(ec2.describe_key_pairs(Filters=f)["KeyPairs"]),
    }


def _totals(ec2: Any) -> dict[str, int]:
    """Everything in the region, so a resource created without our tag is counted too."""
    live = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"]
    return {
        "instances": len(live),
        "vpcs": len(ec2.describe_vpcs()["Vpcs"]),
        "subnets": len(ec2.describe_subnets()["Subnets"]),
        "security groups": len(ec2.describe_security_groups()["SecurityGroups"]),
        "internet gateways": len(ec2.describe_internet_gateways()["InternetGateways"]),
        "key pairs": len(ec2.describe_key_pairs()["KeyPairs"]),
    }


NOTHING = {"instances": 0, "vpcs": 0, "subnets": 0, "security groups": 0, "internet gateways": 0, "key pairs": 0}


class TestEC2Conformance(ProviderConformance):
    """The kit's life-cycle on EC2 (moto); blocks run through the hypervisor stand-in."""

    poll_timeout = 60.0
    poll_interval = 0.1
    golden_file = GOLDEN

    @pytest.fixture
    def provider(self, workdir: pathlib.Path, ec2: Any, ami: str) -> Iterator[ExecutionProvider]:  # type: ignore[override]
        from cloud_fakes.ec2_hypervisor import MotoHypervisor

        self._ami = ami
        provider = self.make_provider(workdir)
        self._submitted: list[str] = []
        with MotoHypervisor(ec2, {provider.label}, workdir / "vms"):  # type: ignore[attr-defined]
            yield provider
            provider.teardown()  # type: ignore[attr-defined]
        assert _ours(ec2, provider.state.token) == NOTHING  # type: ignore[attr-defined]
        assert not os.path.exists(provider.state_file)  # type: ignore[attr-defined]

    def make_provider(self, workdir: pathlib.Path) -> ExecutionProvider:
        return _provider(workdir, getattr(self, "_ami", "ami-12c6146b"), label="ec2-kit")

    def render_script(self, provider: ExecutionProvider) -> str:
        return provider.user_data("parsl-kit-block", "process_worker --block 1")  # type: ignore[attr-defined,no-any-return]

    def check_failed_state(self, state: JobState) -> None:
        # an instance halts the same way whatever its workers' exit code; EC2 cannot tell
        assert state is JobState.COMPLETED

    def make_failing_provider(self, workdir: pathlib.Path) -> tuple[ExecutionProvider, type[BaseException], str]:
        from libsubmit.error import CloudAPIError

        return _provider(workdir, "ami-12c6146b", subnetId="subnet-00000000"), CloudAPIError, "InvalidSubnetID.NotFound"


def test_lifecycle_creates_and_removes_every_resource(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    """submit → running → cancel → teardown: the VPC, gateway, subnet, security group (ingress
    only from its members and the driver's /32) and key pair are created, recorded in a 0600
    state file, and all gone afterwards, by describe calls on the whole region."""
    before = _totals(ec2)
    p = _provider(tmp_path, ami, keyName=f"parsl-key-{os.getpid()}", driverAddress="192.0.2.7", instanceType="t3.micro")
    job = p.submit("echo hello from the block", 1, "life")
    assert p.status([job]) == [JobState.RUNNING]
    assert stat.S_IMODE(os.stat(p.state_file).st_mode) == 0o600
    recorded = json.loads(pathlib.Path(p.state_file).read_text())
    assert job in recorded["instances"]
    assert {r["kind"] for r in recorded["resources"]} >= {"vpc", "internet-gateway", "subnet", "security-group", "key-pair"}
    pem = next(r["pem"] for r in recorded["resources"] if r["kind"] == "key-pair")
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o600 and "PRIVATE KEY" in pathlib.Path(pem).read_text()
    assert _ours(ec2, p.state.token) == {"instances": 1, "vpcs": 1, "subnets": 1, "security groups": 1, "internet gateways": 1, "key pairs": 1}

    inst = ec2.describe_instances(InstanceIds=[job])["Reservations"][0]["Instances"][0]
    assert inst["InstanceType"] == "t3.micro" and inst["KeyName"] == p.options["keyName"]
    sg = ec2.describe_security_groups(GroupIds=[g["GroupId"] for g in inst["SecurityGroups"]])["SecurityGroups"][0]
    sources = sorted([r["CidrIp"] for perm in sg["IpPermissions"] for r in perm["IpRanges"]] + [g["GroupId"] for perm in sg["IpPermissions"] for g in perm["UserIdGroupPairs"]])
    assert sources == sorted(["192.0.2.7/32", sg["GroupId"]]), sg["IpPermissions"]
    shutdown = ec2.describe_instance_attribute(InstanceId=job, Attribute="instanceInitiatedShutdownBehavior")
    assert shutdown["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate"
    user_data = base64.b64decode(ec2.describe_instance_attribute(InstanceId=job, Attribute="userData")["UserData"]["Value"]).decode()
    assert "echo hello from the block" in user_data and user_data.rstrip().endswith("shutdown -h now")

    assert p.cancel([job]) == [True]
    assert wait_for_state(p, job, lambda s: s.terminal, 30, 0.1)[-1] is JobState.CANCELLED
    p.teardown()
    assert _ours(ec2, p.state.token) == NOTHING
    assert _totals(ec2) == before
    assert not os.path.exists(p.state_file) and not os.path.exists(pem)


def test_existing_network_is_used_and_kept(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    """Given subnetId and securityGroupId, the provider creates no network and deletes none."""
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName=f"mine-{os.getpid()}", Description="mine", VpcId=vpc)["GroupId"]
    try:
        p = _provider(tmp_path, ami, subnetId=subnet, securityGroupId=sg)
        job = p.submit("true", 1)
        inst = ec2.describe_instances(InstanceIds=[job])["Reservations"][0]["Instances"][0]
        assert inst["SubnetId"] == subnet and [g["GroupId"] for g in inst["SecurityGroups"]] == [sg]
        p.teardown()
        assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"] and ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"]
        assert ec2.describe_instances(InstanceIds=[job])["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    finally:
        ec2.delete_security_group(GroupId=sg)
        ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)


def test_spot_requests(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    """spotMaxBid: the block is a one-time spot request at that price; its instance carries
    the user data; teardown leaves no open request and no live instance."""
    p = _provider(tmp_path, ami, spotMaxBid=0.25)
    job = p.submit("echo spot", 1, "spot")
    requests = [r for r in ec2.describe_spot_instance_requests()["SpotInstanceRequests"] if r.get("InstanceId") == job]
    assert len(requests) == 1
    assert float(requests[0]["SpotPrice"]) == 0.25 and requests[0]["Type"] == "one-time"
    user_data = base64.b64decode(ec2.describe_instance_attribute(InstanceId=job, Attribute="userData")["UserData"]["Value"]).decode()
    assert "echo spot" in user_data
    assert p.status([job]) == [JobState.RUNNING]
    p.teardown()
    assert _ours(ec2, p.state.token) == NOTHING
    rid = requests[0]["SpotInstanceRequestId"]
    still_open = [r for r in ec2.describe_spot_instance_requests()["SpotInstanceRequests"] if r["SpotInstanceRequestId"] == rid and r["State"] in ("open", "active")]
    assert still_open == []


def test_bad_spot_bid_is_a_configuration_error(tmp_path: pathlib.Path, ami: str) -> None:
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="spotMaxBid"):
        _provider(tmp_path, ami, spotMaxBid="cheap")


def _killed_driver(state_file: pathlib.Path, ami: str) -> list[str]:
    """Two blocks submitted by a driver process, which is then SIGKILLed."""
    from cloud_fakes.kit import killed_driver

    from libsubmit.providers.aws.aws import EC2Provider

    kwargs = {"imageId": ami, "region": REGION, "endpoint_url": ENDPOINT, "state_file": str(state_file), "label": "killed"}
    return killed_driver(EC2Provider, kwargs, blocks=2)


def test_killed_driver_leftovers_are_cleaned_by_the_next_run(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    """A driver SIGKILLed after submitting two blocks leaves them running; the next run with
    the same state file reuses the VPC, terminates the two leftovers at its first submit, and
    its teardown leaves nothing."""
    state_file = tmp_path / "runinfo" / "ec2-state.json"
    leftovers = _killed_driver(state_file, ami)
    recorded = json.loads(state_file.read_text())
    token = recorded["token"]
    vpc = next(r["id"] for r in recorded["resources"] if r["kind"] == "vpc")
    assert sorted(recorded["instances"]) == sorted(leftovers)
    assert _ours(ec2, token)["instances"] == 2

    from libsubmit.providers.aws.aws import EC2Provider

    again = EC2Provider(imageId=ami, region=REGION, endpoint_url=ENDPOINT, state_file=str(state_file), label="killed")
    job = again.submit("true", 1, "second")
    states = {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=leftovers)["Reservations"] for i in r["Instances"]}
    assert set(states.values()) == {"terminated"}, states
    inst = ec2.describe_instances(InstanceIds=[job])["Reservations"][0]["Instances"][0]
    assert inst["VpcId"] == vpc, "the second run should reuse the recorded VPC"
    recorded = json.loads(state_file.read_text())["instances"]
    assert sorted(recorded) == sorted([*leftovers, job])
    assert all(recorded[i].get("deleting") for i in leftovers) and not recorded[job].get("deleting")
    again.teardown()
    assert _ours(ec2, token) == NOTHING
    assert not state_file.exists()


def test_teardown_alone_cleans_what_a_killed_driver_left(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    state_file = tmp_path / "state.json"
    _killed_driver(state_file, ami)
    token = json.loads(state_file.read_text())["token"]
    from libsubmit.providers.aws.aws import EC2Provider

    EC2Provider(imageId=ami, region=REGION, endpoint_url=ENDPOINT, state_file=str(state_file), label="killed").teardown()
    assert _ours(ec2, token) == NOTHING and not state_file.exists()


def test_credentials_never_shown(tmp_path: pathlib.Path, ami: str, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> None:
    """Keys from a keyfile reach moto (the calls succeed) but no repr, log line of ours, state
    file or error message holds them, and no log line at all holds the secret key."""
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY"
    keyfile = tmp_path / "aws.json"
    keyfile.write_text(json.dumps({"AWSAccessKeyId": "AKIASECRETACCESSKEY1", "AWSSecretKey": secret}))
    import logging

    caplog.set_level(logging.DEBUG)
    p = _provider(tmp_path, ami, auth={"keyfile": str(keyfile)})
    job = p.submit("true", 1)
    shown = [repr(p), str(p), pathlib.Path(p.state_file).read_text()]
    try:
        _provider(tmp_path, "ami-x", auth={"keyfile": str(keyfile)}, subnetId="subnet-0bad").submit("true", 1)
    except Exception as e:
        shown.append(str(e))
    p.cancel([job])
    p.teardown()
    out = capsys.readouterr()
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("libsubmit"))
    assert "instance" in ours  # our own log lines were captured
    for text in [*shown, ours, out.out, out.err]:
        assert secret not in text and "AKIASECRETACCESSKEY1" not in text
    # botocore's own DEBUG lines show the access key id (in the signed header), never the secret
    assert secret not in caplog.text


def test_bad_keyfile_names_the_key(tmp_path: pathlib.Path, ami: str) -> None:
    from parsl.errors import ConfigurationError

    keyfile = tmp_path / "aws.json"
    keyfile.write_text(json.dumps({"AWSAccessKeyId": "AKIA"}))
    with pytest.raises(ConfigurationError, match="AWSSecretKey") as info:
        _provider(tmp_path, ami, auth={"keyfile": str(keyfile)}).submit("true", 1)
    assert info.value.path == "auth.keyfile"


def test_unrecorded_instances_and_open_spot_requests_are_found(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    """A driver killed between EC2's answer and its state-file write leaves an instance the
    file does not list, and one killed while a spot request was open leaves the request: the
    next run finds the instance by the state token's tag, cancels the request and terminates
    what it started."""
    first = _provider(tmp_path, ami, label="crashy")
    first.submit("true", 1)
    token = first.state.token
    # as if the driver died right after run_instances answered
    stray = ec2.run_instances(ImageId=ami, MinCount=1, MaxCount=1, TagSpecifications=first._tags("instance", "stray"))["Instances"][0]["InstanceId"]
    # and with a spot request recorded but not yet fulfilled
    spot = ec2.request_spot_instances(SpotPrice="0.1", InstanceCount=1, LaunchSpecification={"ImageId": ami, "InstanceType": "t2.small"})
    request = spot["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
    first.state.add_resource(f"spot-request:{request}", request, True)
    spot_instance = None
    for _ in range(50):
        spot_instance = ec2.describe_spot_instance_requests(SpotInstanceRequestIds=[request])["SpotInstanceRequests"][0].get("InstanceId")
        if spot_instance:
            break
        time.sleep(0.1)
    assert spot_instance, "moto fulfils spot requests at once"
    del first
    second = _provider(tmp_path, ami, label="crashy")
    second.teardown()
    states = {i["InstanceId"]: i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=[stray, spot_instance])["Reservations"] for i in r["Instances"]}
    assert states == {stray: "terminated", spot_instance: "terminated"}
    assert [r for r in ec2.describe_spot_instance_requests()["SpotInstanceRequests"] if r["SpotInstanceRequestId"] == request and r["State"] in ("open", "active")] == []
    assert _ours(ec2, token) == NOTHING and not os.path.exists(second.state_file)


def test_profile_auth(tmp_path: pathlib.Path, ami: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """auth profile: the keys come from that profile of the shared credentials file; an unknown
    profile is a configuration error naming auth.profile."""
    from parsl.errors import ConfigurationError

    creds = tmp_path / "credentials"
    creds.write_text("[research]\naws_access_key_id = AKIAPROFILEKEY\naws_secret_access_key = profile-secret-value\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    p = _provider(tmp_path, ami, auth={"profile": "research"})
    job = p.submit("true", 1)
    assert p.session.get_credentials().access_key == "AKIAPROFILEKEY"
    assert p.status([job]) == [JobState.RUNNING]
    p.teardown()
    with pytest.raises(ConfigurationError, match="nosuch") as info:
        _provider(tmp_path, ami, auth={"profile": "nosuch"}).submit("true", 1)
    assert info.value.path == "auth.profile"


def test_050_reference_methods_drive_the_ec2_api(tmp_path: pathlib.Path, ec2: Any, ami: str) -> None:
    p = _provider(tmp_path, ami)
    try:
        assert p.initialize_boto_client() is p.client and p.create_session() is p.session
        vpc = p.create_vpc()
        assert vpc and vpc.startswith("vpc-") and p.config_route_table(vpc) == vpc
        sg = p.security_group(vpc)
        assert sg and sg.startswith("sg-")
        ids = [p.spin_up_instance("echo one", "b0"), p.spin_up_instance("echo two", "b1")]
        assert set(p.get_instance_state(ids)) == set(ids)
        assert all(s in (JobState.PENDING, JobState.RUNNING) for s in p.get_instance_state(ids).values())
        state = p.read_state_file()
        assert set(ids) <= set(state["instances"]) and state["token"] == p.state.token
        assert "2 live instance(s)" in p.show_summary()
        assert p.scale_in(1) == [ids[1]]
        assert p.shut_down_instance() == [True]  # the one left
        assert _ours(ec2, p.state.token)["instances"] == 0
        cfg = tmp_path / "aws.json"
        cfg.write_text(json.dumps({"region": "us-west-2", "imageId": ami}))
        assert p.read_configs(str(cfg))["imageId"] == ami and '"imageId"' in p.pretty_configs({"imageId": ami})
    finally:
        p.teardown()
    assert p.read_state_file() == {}
