"""Amazon EC2 provider (boto3, extra ``aws``): one instance per block, in a VPC, subnet and
security group that the provider creates when they are not given and deletes at teardown.

::

    prepare ─▶ Session(keyfile | profile | environment).client("ec2", region)
            ─▶ VPC ─▶ internet gateway + default route ─▶ subnet ─▶ security group ─▶ key pair
               (each found again by id from the state file, else created, tagged with the
               state token and recorded before the next step)
    submit  ─▶ run_instances (or request_spot_instances when spotMaxBid is set), user data =
               workers + walltime guard + halt; InstanceInitiatedShutdownBehavior=terminate
    status  ─▶ describe_instances(filter instance-id) ─▶ pending/running/terminated/...
    cancel  ─▶ terminate_instances (+ cancel_spot_instance_requests)
    teardown ─▶ terminate, wait for "terminated", then key pair, security group, subnet,
               gateway, VPC (newest first), then the state file goes

The security group lets in traffic only from its own members and, when ``driverAddress`` is
given, from that address (/32); workers connect out to the driver, so nothing else is opened.
"""
from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any, ClassVar, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

from ..cloud import CloudProvider
from ..cloud_state import CloudState
from .ec2_050 import EC2Methods050

__all__ = ["AWSProvider", "EC2Provider"]

logger = logging.getLogger(__name__)

_STATES = {
    "pending": JobState.PENDING,
    "running": JobState.RUNNING,
    "shutting-down": JobState.RUNNING,
    "stopping": JobState.RUNNING,
    "stopped": JobState.COMPLETED,
    "terminated": JobState.COMPLETED,
}
_GONE = ("InvalidInstanceID.NotFound", "InvalidGroup.NotFound", "InvalidSubnetID.NotFound", "InvalidVpcID.NotFound",
         "InvalidInternetGatewayID.NotFound", "InvalidKeyPair.NotFound", "InvalidSpotInstanceRequestID.NotFound", "Gateway.NotAttached")


class EC2Provider(EC2Methods050, CloudProvider):
    """Blocks on Amazon EC2 instances (0.5.0: ``EC2Provider(config, channel=None)``).

    ``auth``: ``keyfile`` (a JSON file with ``AWSAccessKeyId`` and ``AWSSecretKey``) or
    ``profile`` (a profile of ``~/.aws/config``); with neither, boto3 reads the environment
    (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``).
    Options: ``imageId`` (required), ``instanceType`` (``t2.small``), ``region``
    (``us-east-2``), ``keyName`` (created when it does not exist; its private key is written
    0600 beside the state file), ``spotMaxBid`` (a price: request spot instances),
    ``vpcId``/``subnetId``/``securityGroupId`` (use these instead of creating them),
    ``availabilityZone``, ``driverAddress`` (the address allowed in; default: none).
    """

    name: ClassVar[str] = "aws"
    sdk_module: ClassVar[str] = "boto3"
    extra: ClassVar[str] = "aws"
    auth_keys: ClassVar[frozenset[str]] = frozenset({"keyfile", "profile"})
    required_options: ClassVar[frozenset[str]] = frozenset({"imageId"})
    deleted_instances_linger: ClassVar[bool] = True
    option_names: ClassVar[frozenset[str]] = frozenset(
        {"instanceType", "imageId", "region", "keyName", "spotMaxBid", "vpcId", "subnetId", "securityGroupId", "availabilityZone", "driverAddress"}
    )
    option_types: ClassVar[dict[str, tuple[type, ...]]] = {"spotMaxBid": (int, float, str)}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bid = self.options.get("spotMaxBid")
        if bid is not None:
            try:
                if float(bid) <= 0:
                    raise ValueError
            except ValueError:
                raise ConfigurationError(f"must be a positive price in US dollars, got {bid!r}", self.option_where("spotMaxBid")) from None
        self.region: str = self.options.get("region", "us-east-2")
        self.instance_type: str = self.options.get("instanceType", "t2.small")
        self.client: Any = None

    # ---- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        boto3 = self._sdk
        keyfile = self._auth.get("keyfile")
        if keyfile:
            path = os.path.expanduser(keyfile)
            try:
                with open(path) as f:
                    creds = json.load(f)
                access, secret = creds["AWSAccessKeyId"], creds["AWSSecretKey"]
            except (OSError, ValueError, KeyError, TypeError) as e:
                reason = f"it has no {e}" if isinstance(e, KeyError) else type(e).__name__
                raise ConfigurationError(
                    f"cannot read AWS credentials from {path} ({reason}): it must be a JSON object with 'AWSAccessKeyId' and 'AWSSecretKey'",
                    "auth.keyfile",
                ) from None
            session = boto3.session.Session(aws_access_key_id=access, aws_secret_access_key=secret, region_name=self.region)
        elif self._auth.get("profile"):
            try:
                session = boto3.session.Session(profile_name=self._auth["profile"], region_name=self.region)
            except Exception as e:  # botocore.exceptions.ProfileNotFound
                raise ConfigurationError(f"{e}", "auth.profile") from None
        else:
            session = boto3.session.Session(region_name=self.region)
        self.session = session  # the boto3 session (kept out of the repr)
        self.client = session.client("ec2", endpoint_url=self.endpoint_url)

    def _error_details(self, exc: BaseException) -> tuple[str, str] | None:
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and "Error" in response:
            err = response["Error"]
            return str(err.get("Code", "Unknown")), str(err.get("Message", ""))
        return None

    def _code(self, exc: BaseException) -> str | None:
        details = self._error_details(exc)
        return details[0] if details else None

    def _tags(self, kind: str, name: str | None = None) -> list[dict[str, Any]]:
        tags = [{"Key": "parsl:label", "Value": self.label}, {"Key": "parsl:state-token", "Value": self.state.token}]
        if name:
            tags.append({"Key": "Name", "Value": name})
        return [{"ResourceType": kind, "Tags": tags}]

    def _untracked_leftovers(self, state: CloudState) -> list[str]:
        """Earlier runs' spot requests are cancelled; their instances, and any instance tagged
        with this state file's token that the file does not list, are leftovers."""
        found: list[str] = []
        for rec in [r for r in state.resources if r["kind"].startswith("spot-request:")]:
            try:
                requests = self.client.describe_spot_instance_requests(SpotInstanceRequestIds=[rec["id"]])["SpotInstanceRequests"]
                self.client.cancel_spot_instance_requests(SpotInstanceRequestIds=[rec["id"]])
            except Exception as e:
                if self._code(e) not in _GONE:
                    raise
                requests = []
            found += [r["InstanceId"] for r in requests if r.get("InstanceId")]
            state.drop_resource(rec["kind"])
        filters = [
            {"Name": "tag:parsl:state-token", "Values": [state.token]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
        for page in self.client.get_paginator("describe_instances").paginate(Filters=filters):
            found += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        return [i for i in dict.fromkeys(found) if i not in state.instances]

    # ---- network ----------------------------------------------------------------------------
    def _recorded(self, state: CloudState, kind: str, describe: str, key: str, id_key: str) -> str | None:
        """The id of ``kind`` in the state file if the cloud still has it."""
        rec = state.resource(kind)
        if rec is None:
            return None
        try:
            found = getattr(self.client, describe)(**{id_key: [rec["id"]]})[key]
        except Exception as e:
            if self._code(e) in _GONE:
                found = []
            else:
                raise
        if found:
            return str(rec["id"])
        logger.warning("aws provider %s: the recorded %s %s no longer exists; creating a new one", self.label, kind, rec["id"])
        state.drop_resource(kind)
        return None

    def _ensure_network(self, state: CloudState) -> None:
        self._ensure_vpc(state)
        self._ensure_security_group(state)
        self._ensure_key_pair(state)

    def _ensure_vpc(self, state: CloudState) -> None:
        c = self.client
        if self.options.get("subnetId"):
            return
        vpc_id = self.options.get("vpcId") or self._recorded(state, "vpc", "describe_vpcs", "Vpcs", "VpcIds")
        if vpc_id is None:
            vpc_id = c.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=self._tags("vpc", f"parsl-{self.label}"))["Vpc"]["VpcId"]
            state.add_resource("vpc", vpc_id, True)
            c.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
        if self._recorded(state, "internet-gateway", "describe_internet_gateways", "InternetGateways", "InternetGatewayIds") is None and not self.options.get("vpcId"):
            igw = c.create_internet_gateway(TagSpecifications=self._tags("internet-gateway"))["InternetGateway"]["InternetGatewayId"]
            state.add_resource("internet-gateway", igw, True, vpc=vpc_id)
            c.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
            tables = c.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}])
            for table in tables["RouteTables"]:
                c.create_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        if self._recorded(state, "subnet", "describe_subnets", "Subnets", "SubnetIds") is None:
            kwargs: dict[str, Any] = {"VpcId": vpc_id, "CidrBlock": "10.0.1.0/24", "TagSpecifications": self._tags("subnet")}
            if self.options.get("availabilityZone"):
                kwargs["AvailabilityZone"] = self.options["availabilityZone"]
            subnet = c.create_subnet(**kwargs)["Subnet"]["SubnetId"]
            state.add_resource("subnet", subnet, True)
            c.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        state.add_resource("vpc-in-use", vpc_id, False)

    def _ensure_security_group(self, state: CloudState) -> None:
        if self.options.get("securityGroupId") or self._recorded(state, "security-group", "describe_security_groups", "SecurityGroups", "GroupIds"):
            return
        vpc = state.resource("vpc-in-use")
        kwargs: dict[str, Any] = {}
        if vpc:
            kwargs["VpcId"] = vpc["id"]
        elif self.options.get("subnetId"):
            kwargs["VpcId"] = self.client.describe_subnets(SubnetIds=[self.options["subnetId"]])["Subnets"][0]["VpcId"]
        sg = self.client.create_security_group(
            GroupName=f"parsl-{self.label}-{state.token}",
            Description=f"parsl blocks of {self.label}: members and the driver only",
            TagSpecifications=self._tags("security-group"),
            **kwargs,
        )["GroupId"]
        state.add_resource("security-group", sg, True)
        rules: list[dict[str, Any]] = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg}]}]
        if self.options.get("driverAddress"):
            rules.append({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535, "IpRanges": [{"CidrIp": f"{self.options['driverAddress']}/32", "Description": "parsl driver"}]})
        self.client.authorize_security_group_ingress(GroupId=sg, IpPermissions=rules)

    def _ensure_key_pair(self, state: CloudState) -> None:
        key = self.options.get("keyName")
        if not key or state.resource("key-pair"):
            return
        try:
            self.client.describe_key_pairs(KeyNames=[key])
            return  # the user's own key: used, never deleted
        except Exception as e:
            if self._code(e) not in _GONE:
                raise
        material = self.client.create_key_pair(KeyName=key, TagSpecifications=self._tags("key-pair"))["KeyMaterial"]
        pem = os.path.join(os.path.dirname(self.state_file), f"{self.label}.{key}.pem")
        state.add_resource("key-pair", key, True, pem=pem)
        fd = os.open(pem, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(material)

    def _delete_network(self, state: CloudState) -> None:
        c = self.client
        steps = {
            "key-pair": lambda r: c.delete_key_pair(KeyName=r["id"]),
            "security-group": lambda r: c.delete_security_group(GroupId=r["id"]),
            "subnet": lambda r: c.delete_subnet(SubnetId=r["id"]),
            "internet-gateway": lambda r: (c.detach_internet_gateway(InternetGatewayId=r["id"], VpcId=r["vpc"]), c.delete_internet_gateway(InternetGatewayId=r["id"])),
            "vpc": lambda r: c.delete_vpc(VpcId=r["id"]),
            "spot-request": lambda r: c.cancel_spot_instance_requests(SpotInstanceRequestIds=[r["id"]]),
        }
        for rec in reversed(list(state.resources)):
            if rec["created"]:
                try:
                    steps[rec["kind"].split(":")[0]](rec)
                except Exception as e:
                    if self._code(e) not in _GONE:
                        raise
                if rec["kind"] == "key-pair" and rec.get("pem"):
                    try:
                        os.unlink(rec["pem"])
                    except FileNotFoundError:
                        pass
            state.drop_resource(rec["kind"])

    # ---- instances --------------------------------------------------------------------------
    def _placement(self) -> dict[str, Any]:
        state = self.state
        subnet = self.options.get("subnetId") or (state.resource("subnet") or {}).get("id")
        group = self.options.get("securityGroupId") or (state.resource("security-group") or {}).get("id")
        spec: dict[str, Any] = {"ImageId": self.options["imageId"], "InstanceType": self.instance_type}
        if subnet:
            spec["SubnetId"] = subnet
        if group:
            spec["SecurityGroupIds"] = [group]
        if self.options.get("keyName"):
            spec["KeyName"] = self.options["keyName"]
        return spec

    def _start_instance(self, name: str, user_data: str) -> str:
        spec = self._placement()
        if self.options.get("spotMaxBid") is None:
            reply = self.client.run_instances(
                MinCount=1, MaxCount=1, UserData=user_data, InstanceInitiatedShutdownBehavior="terminate",
                TagSpecifications=self._tags("instance", name), **spec,
            )
            return str(reply["Instances"][0]["InstanceId"])
        # spot: the launch specification carries the user data base64-encoded
        spec["UserData"] = base64.b64encode(user_data.encode()).decode()
        reply = self.client.request_spot_instances(
            SpotPrice=str(self.options["spotMaxBid"]), InstanceCount=1, Type="one-time", LaunchSpecification=spec,
            TagSpecifications=self._tags("spot-instances-request", name),
        )
        request = reply["SpotInstanceRequests"][0]["SpotInstanceRequestId"]
        self.state.add_resource(f"spot-request:{request}", request, True)  # recorded until it has an instance
        iid = None
        for _ in range(int(self.teardown_timeout / self.poll_interval) + 1):
            found = self.client.describe_spot_instance_requests(SpotInstanceRequestIds=[request])["SpotInstanceRequests"][0]
            iid = found.get("InstanceId")
            if iid or found.get("State") in ("cancelled", "failed", "closed"):
                break
            self._sleep()
        if not iid:
            self.client.cancel_spot_instance_requests(SpotInstanceRequestIds=[request])
            self.state.drop_resource(f"spot-request:{request}")
            raise _SpotUnfulfilled(request, found)
        self.client.create_tags(Resources=[iid], Tags=self._tags("instance", name)[0]["Tags"])
        # the request stays recorded (and open) until teardown cancels it
        return str(iid)

    def _sleep(self) -> None:
        import time

        time.sleep(self.poll_interval)

    def _instance_states(self, ids: Sequence[str]) -> dict[str, JobState | None]:
        found: dict[str, JobState | None] = dict.fromkeys(ids)
        pages = self.client.get_paginator("describe_instances").paginate(Filters=[{"Name": "instance-id", "Values": list(ids)}])
        for page in pages:
            for reservation in page["Reservations"]:
                for inst in reservation["Instances"]:
                    found[inst["InstanceId"]] = _STATES.get(inst["State"]["Name"], JobState.UNKNOWN)
        return found

    def _terminate(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        try:
            self.client.terminate_instances(InstanceIds=list(ids))
        except Exception as e:
            if self._code(e) != "InvalidInstanceID.NotFound":
                raise
            # some are gone already: terminate the others one by one
            for iid in ids:
                try:
                    self.client.terminate_instances(InstanceIds=[iid])
                except Exception as e2:
                    if self._code(e2) != "InvalidInstanceID.NotFound":
                        raise


class _SpotUnfulfilled(Exception):
    def __init__(self, request: str, found: dict[str, Any]) -> None:
        status = found.get("Status") or {}
        self.response = {"Error": {"Code": str(status.get("Code", "SpotRequestUnfulfilled")), "Message": f"spot request {request}: {status.get('Message', found.get('State'))}"}}
        super().__init__(self.response["Error"]["Message"])


#: today's upstream name
AWSProvider = EC2Provider
