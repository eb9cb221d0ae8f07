"""Jetstream (and any OpenStack cloud) provider (openstacksdk, extra ``openstack``): one Nova
server per block, its user data the block script, in a security group (and, unless a network
is given, a network + subnet) created and recorded by the provider and deleted at teardown.

::

    prepare ─▶ Connection(auth from ``auth`` or clouds.yaml) ─▶ Keystone token + catalog
            ─▶ network + subnet (unless ``networkId``) [+ router to ``externalNetwork``]
            ─▶ security group: ingress from members and, when given, the driver's /32
    submit  ─▶ compute.create_server(image, flavor, network, group, user_data) ─▶ server id
    status  ─▶ compute.servers(name filter: the state token), one listing for all blocks ─▶
               BUILD/ACTIVE/SHUTOFF/ERROR; not listed = gone
    cancel  ─▶ compute.delete_server (404 = already gone)
    teardown ─▶ delete servers, wait for 404, then group, router, subnet, network (newest first)
"""
from __future__ import annotations

import base64
import importlib
from typing import Any, ClassVar, Sequence

from parsl.interfaces import JobState

from ..cloud import CloudProvider
from ..cloud_state import CloudState

__all__ = ["JetstreamProvider"]

_STATES = {
    "BUILD": JobState.PENDING,
    "ACTIVE": JobState.RUNNING,
    "REBOOT": JobState.RUNNING,
    "HARD_REBOOT": JobState.RUNNING,
    "MIGRATING": JobState.RUNNING,
    "RESIZE": JobState.RUNNING,
    "SHUTOFF": JobState.COMPLETED,
    "STOPPED": JobState.COMPLETED,
    "DELETED": JobState.COMPLETED,
    "SOFT_DELETED": JobState.COMPLETED,
    "ERROR": JobState.FAILED,
}


class JetstreamProvider(CloudProvider):
    """Blocks on OpenStack servers (Jetstream's API is OpenStack's).

    ``auth``: ``cloud`` (a clouds.yaml entry) or ``auth_url``, ``username``, ``password``,
    ``project_name``/``project_id``, ``user_domain_name``, ``project_domain_name`` (or
    ``application_credential_id`` + ``application_credential_secret``), ``region_name``.
    Options: ``imageId`` (required), ``flavor`` (a flavor name or id, ``m1.small``),
    ``keyName``, ``networkId`` (use it instead of creating a network), ``externalNetwork``
    (route a created network out through it), ``driverAddress`` (the address allowed in).
    """

    name: ClassVar[str] = "jetstream"
    sdk_module: ClassVar[str] = "openstack"
    extra: ClassVar[str] = "openstack"
    auth_keys: ClassVar[frozenset[str]] = frozenset({
        "cloud", "auth_url", "username", "password", "project_name", "project_id", "user_domain_name", "project_domain_name",
        "application_credential_id", "application_credential_secret", "region_name",
    })
    required_options: ClassVar[frozenset[str]] = frozenset({"imageId"})
    option_names: ClassVar[frozenset[str]] = frozenset({"imageId", "flavor", "keyName", "networkId", "externalNetwork", "driverAddress"})

    conn: Any = None

    def _connect(self) -> None:
        auth = dict(self._auth)
        cloud = auth.pop("cloud", None)
        region = auth.pop("region_name", None)
        if cloud:
            self.conn = self._sdk.connect(cloud=cloud, region_name=region)
            return
        if auth.get("application_credential_id"):
            auth_type = "v3applicationcredential"
        else:
            auth_type = "password"
            auth.setdefault("user_domain_name", "Default")
            auth.setdefault("project_domain_name", "Default")
        self.conn = self._sdk.connection.Connection(auth_type=auth_type, auth=auth, region_name=region, compute_api_version="2")

    def _error_details(self, exc: BaseException) -> tuple[str, str] | None:
        exceptions = importlib.import_module("openstack.exceptions")
        if isinstance(exc, exceptions.HttpException):
            return str(exc.status_code or "error"), str(exc.details or exc.message)
        if isinstance(exc, exceptions.SDKException):
            return type(exc).__name__, str(exc)
        keystone = importlib.import_module("keystoneauth1.exceptions")
        if isinstance(exc, keystone.HttpError):  # Keystone refused the credentials
            return str(exc.http_status), str(exc.message)
        if isinstance(exc, keystone.ClientException):
            return type(exc).__name__, str(exc)
        return None

    def _missing(self, exc: BaseException) -> bool:
        return isinstance(exc, importlib.import_module("openstack.exceptions").NotFoundException)

    # ---- network ----------------------------------------------------------------------------
    def _exists(self, state: CloudState, kind: str, finder: Any) -> str | None:
        rec = state.resource(kind)
        if rec is None:
            return None
        try:
            finder(rec["id"])
            return str(rec["id"])
        except Exception as e:
            if not self._missing(e):
                raise
        state.drop_resource(kind)
        return None

    def _ensure_network(self, state: CloudState) -> None:
        net = self.conn.network
        prefix = f"parsl-{self.label}-{state.token}"
        if not self.options.get("networkId") and self._exists(state, "network", net.get_network) is None:
            network = net.create_network(name=prefix)
            state.add_resource("network", network.id, True)
            subnet = net.create_subnet(name=prefix, network_id=network.id, ip_version=4, cidr="10.42.0.0/24")
            state.add_resource("subnet", subnet.id, True)
            if self.options.get("externalNetwork"):
                external = net.find_network(self.options["externalNetwork"], ignore_missing=False)
                router = net.create_router(name=prefix, external_gateway_info={"network_id": external.id})
                state.add_resource("router", router.id, True, subnet=subnet.id)
                net.add_interface_to_router(router, subnet=subnet.id)
        if self._exists(state, "security-group", net.get_security_group) is None:
            group = net.create_security_group(name=prefix, description=f"parsl blocks of {self.label}: members and the driver only")
            state.add_resource("security-group", group.id, True)
            net.create_security_group_rule(security_group_id=group.id, direction="ingress", ethertype="IPv4", remote_group_id=group.id)
            if self.options.get("driverAddress"):
                net.create_security_group_rule(
                    security_group_id=group.id, direction="ingress", ethertype="IPv4", protocol="tcp",
                    remote_ip_prefix=f"{self.options['driverAddress']}/32",
                )

    def _delete_network(self, state: CloudState) -> None:
        net = self.conn.network
        for rec in reversed(list(state.resources)):
            if rec["created"]:
                try:
                    if rec["kind"] == "security-group":
                        net.delete_security_group(rec["id"], ignore_missing=True)
                    elif rec["kind"] == "router":
                        router = net.get_router(rec["id"])
                        net.remove_interface_from_router(router, subnet=rec["subnet"])
                        net.delete_router(rec["id"], ignore_missing=True)
                    elif rec["kind"] == "subnet":
                        net.delete_subnet(rec["id"], ignore_missing=True)
                    elif rec["kind"] == "network":
                        net.delete_network(rec["id"], ignore_missing=True)
                except Exception as e:
                    if not self._missing(e):
                        raise
            state.drop_resource(rec["kind"])

    # ---- servers ----------------------------------------------------------------------------
    def _start_instance(self, name: str, user_data: str) -> str:
        compute = self.conn.compute
        state = self.state
        flavor = compute.find_flavor(self.options.get("flavor", "m1.small"), ignore_missing=False)
        network = self.options.get("networkId") or (state.resource("network") or {}).get("id")
        group = state.resource("security-group")
        attrs: dict[str, Any] = {
            "name": name,
            "image_id": self.options["imageId"],
            "flavor_id": flavor.id,
            "user_data": base64.b64encode(user_data.encode()).decode(),
            "metadata": {"parsl-label": self.label, "parsl-state-token": state.token},
        }
        if network:
            attrs["networks"] = [{"uuid": network}]
        if group:
            attrs["security_groups"] = [{"name": f"parsl-{self.label}-{state.token}"}]
        if self.options.get("keyName"):
            attrs["key_name"] = self.options["keyName"]
        server = compute.create_server(**attrs)
        return str(server.id)

    def _instance_states(self, ids: Sequence[str]) -> dict[str, JobState | None]:
        """One listing for all the ids (Nova's name filter is a regular expression; every
        block's name holds the state token); an id not listed is gone."""
        found: dict[str, JobState | None] = dict.fromkeys(ids)
        for server in self.conn.compute.servers(details=True, name=f"-{self.state.token[:6]}-"):
            if server.id in found:
                found[server.id] = _STATES.get(str(server.status).upper(), JobState.UNKNOWN)
        return found

    def _terminate(self, ids: Sequence[str]) -> None:
        for sid in ids:
            self.conn.compute.delete_server(sid, ignore_missing=True)
