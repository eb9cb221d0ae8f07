"""A small Azure fake: the Microsoft identity platform's token service (what azure-identity's
ClientSecretCredential and MSAL use) and Azure Resource Manager for resource groups, network
security groups, virtual networks and virtual machines, over HTTPS (the SDK sends bearer tokens
only over TLS), for the real azure-mgmt-* clients.

::

    GET  /{tenant}/v2.0/.well-known/openid-configuration ─▶ endpoints (all on this server)
    POST /{tenant}/oauth2/v2.0/token   client_credentials + the right secret ─▶ access token
    ARM (every call needs the token):
      PUT|GET|HEAD|DELETE /subscriptions/S/resourcegroups/G     (DELETE takes what it holds)
      PUT|GET|DELETE .../providers/Microsoft.Network/networkSecurityGroups/N
                     .../providers/Microsoft.Network/virtualNetworks/N  (subnets get ids)
                     .../providers/Microsoft.Compute/virtualMachines/N  (customData runs in a
                     LocalVM; an NSG a subnet uses cannot be deleted)
      GET .../virtualMachines/N/instanceView  PowerState/starting ─▶ running ─▶ stopped (halted)
      DELETE of a VM answers 202: it is listed stopped + Deleting once more, then 404; until
      then its NIC holds the subnet, so the VNet cannot be deleted

Creations answer 201 with provisioningState Succeeded, deletions 200: the SDK's pollers finish
without polling. Errors use ARM's ``{"error": {"code", "message"}}``.
"""
from __future__ import annotations

import base64
import json
import ssl
import uuid
from pathlib import Path
from typing import Any

from .rest import FakeREST, Reply
from .vm import LocalVM

G = r"/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)"
R = G + r"/providers/(?P<ns>Microsoft\.(?:Network|Compute))/(?P<type>networkSecurityGroups|virtualNetworks|virtualMachines)/(?P<name>[^/]+)"
SIZES = {"Standard_B1s", "Standard_B2s", "Standard_D2s_v3"}


class FakeAzure(FakeREST):
    ignore_case = True
    routes = [
        ("GET", r"/(?P<tenant>[^/]+)/v2\.0/\.well-known/openid-configuration", "openid"),
        ("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", "token"),
        ("PUT", G, "put_group"), ("GET", G, "get_group"), ("HEAD", G, "head_group"), ("DELETE", G, "delete_group"),
        ("PUT", R, "put"), ("GET", R, "get"), ("DELETE", R, "delete"),
        ("GET", R + r"/instanceView", "instance_view"),
    ]

    def __init__(self, workdir: Path, tls: ssl.SSLContext, tenant: str = "tenant-1", client_id: str = "app-1", secret: str = "azure-test-secret") -> None:
        super().__init__(tls)
        self.workdir = Path(workdir)
        self.tenant, self.client_id, self.secret = tenant, client_id, secret
        self.tokens: set[str] = set()
        self.groups: dict[str, dict[str, Any]] = {}
        self.resources: dict[str, dict[str, Any]] = {}  # lower-cased ARM id -> resource
        self.power: dict[str, str] = {}
        self.vms: dict[str, LocalVM] = {}

    def close(self) -> None:
        for vm in self.vms.values():
            vm.kill()

    # ---- identity ---------------------------------------------------------------------------
    def authorize(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        if not path.lower().startswith("/subscriptions/"):
            return None
        if headers.get("Authorization", "").removeprefix("Bearer ") in self.tokens:
            return None
        return 401, {"error": {"code": "AuthenticationFailed", "message": "Authentication failed. The 'Authorization' header is missing or invalid."}}

    def openid(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        base = f"{self.url}/{m['tenant']}"
        return 200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode", "issuer": f"{base}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post"], "response_types_supported": ["code"],
            "jwks_uri": f"{base}/discovery/v2.0/keys", "tenant_region_scope": "NA",
        }

    def token(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        if m["tenant"] != self.tenant or body.get("client_id") != self.client_id or body.get("client_secret") != self.secret:
            return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": [7000215]}
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token}

    # ---- resource groups --------------------------------------------------------------------
    def _err(self, status: int, code: str, message: str) -> Reply:
        return status, {"error": {"code": code, "message": message}}

    def _gid(self, m: Any) -> str:
        return f"/subscriptions/{m['sub']}/resourceGroups/{m['rg']}"

    def put_group(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        group = {"id": self._gid(m), "name": m["rg"], "location": body["location"], "tags": body.get("tags", {}), "properties": {"provisioningState": "Succeeded"}}
        with self.lock:
            created = m["rg"].lower() not in self.groups
            self.groups[m["rg"].lower()] = group
        return (201 if created else 200), group

    def get_group(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        group = self.groups.get(m["rg"].lower())
        return (200, group) if group else self._err(404, "ResourceGroupNotFound", f"Resource group '{m['rg']}' could not be found.")

    def head_group(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return (204, None) if m["rg"].lower() in self.groups else (404, None)

    def delete_group(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            if self.groups.pop(m["rg"].lower(), None) is None:
                return self._err(404, "ResourceGroupNotFound", f"Resource group '{m['rg']}' could not be found.")
            inside = [k for k in self.resources if k.startswith(self._gid(m).lower() + "/")]
            for key in inside:
                self._drop(key)
        return 200, None

    # ---- resources --------------------------------------------------------------------------
    def _rid(self, m: Any) -> str:
        return f"{self._gid(m)}/providers/{m['ns']}/{m['type']}/{m['name']}"

    def _drop(self, key: str) -> None:
        self.resources.pop(key, None)
        self.power.pop(key, None)
        vm = self.vms.pop(key, None)
        if vm is not None:
            vm.kill()

    def put(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        rid, kind = self._rid(m), m["type"].lower()
        with self.lock:
            if m["rg"].lower() not in self.groups:
                return self._err(404, "ResourceGroupNotFound", f"Resource group '{m['rg']}' could not be found.")
            props = dict(body.get("properties", {}), provisioningState="Succeeded")
            if kind == "virtualnetworks":
                props["subnets"] = [dict(s, id=f"{rid}/subnets/{s['name']}", properties=dict(s.get("properties", {}), provisioningState="Succeeded")) for s in props.get("subnets", [])]
                for s in props["subnets"]:
                    nsg = (s["properties"].get("networkSecurityGroup") or {}).get("id", "")
                    if nsg and nsg.lower() not in self.resources:
                        return self._err(400, "InvalidResourceReference", f"Resource {nsg} referenced by resource {rid} was not found.")
            if kind == "virtualmachines":
                size = props.get("hardwareProfile", {}).get("vmSize")
                if size not in SIZES:
                    return self._err(400, "InvalidParameter", f"The value {size} provided for the VM size is not valid. The valid sizes in the current region are: {', '.join(sorted(SIZES))}.")
                for nic in props.get("networkProfile", {}).get("networkInterfaceConfigurations", []):
                    for ip in nic["properties"]["ipConfigurations"]:
                        subnet = ip["properties"]["subnet"]["id"].lower()
                        vnet = subnet.split("/subnets/")[0]
                        if vnet not in self.resources:
                            return self._err(400, "InvalidResourceReference", f"Subnet {subnet} was not found.")
                props["vmId"] = str(uuid.uuid4())
            created = rid.lower() not in self.resources
            resource = {"id": rid, "name": m["name"], "type": f"{m['ns']}/{m['type']}", "location": body.get("location"), "tags": body.get("tags", {}), "properties": props}
            self.resources[rid.lower()] = resource
            if kind == "virtualmachines":
                self.power[rid.lower()] = "starting"
        return (201 if created else 200), resource

    def get(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        resource = self.resources.get(self._rid(m).lower())
        return (200, resource) if resource else self._err(404, "ResourceNotFound", f"The Resource '{m['ns']}/{m['type']}/{m['name']}' under resource group '{m['rg']}' was not found.")

    def delete(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        key = self._rid(m).lower()
        with self.lock:
            if key not in self.resources:
                return 204, None
            if m["type"].lower() == "networksecuritygroups":
                users = [r["id"] for r in self.resources.values() if any((s["properties"].get("networkSecurityGroup") or {}).get("id", "").lower() == key for s in r["properties"].get("subnets", []))]
                if users:
                    return self._err(400, "InUseNetworkSecurityGroupCannotBeDeleted", f"Network security group {self._rid(m)} cannot be deleted because it is in use by {users[0]}.")
            if m["type"].lower() == "virtualmachines":
                # deletion takes a while: the VM stops at once, is listed as Deleting, and is
                # gone at the next look (its NIC holds the subnet until then)
                self.resources[key]["properties"]["provisioningState"] = "Deleting"
                self.power[key] = "stopped"
                vm = self.vms.pop(key, None)
                if vm is not None:
                    vm.kill()
                return 202, None, {"Location": f"{self.url}{self._rid(m)}/operationResults/delete"}
            if m["type"].lower() == "virtualnetworks":
                users = [r["name"] for r in self.resources.values() if key in json.dumps(r["properties"].get("networkProfile", {})).lower()]
                if users:
                    return self._err(400, "InUseSubnetCannotBeDeleted", f"Subnet blocks is in use by the network interface of {users[0]} and cannot be deleted.")
            self._drop(key)
        return 200, None

    def instance_view(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        key = self._rid(m).lower()
        with self.lock:
            vm = self.resources.get(key)
            if vm is not None and vm["properties"]["provisioningState"] == "Deleting" and self.power[key] == "gone-next":
                self._drop(key)
                vm = None
            if vm is None:
                return self._err(404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/virtualMachines/{m['name']}' under resource group '{m['rg']}' was not found.")
            if vm["properties"]["provisioningState"] == "Deleting":
                self.power[key] = "gone-next"
                return 200, {"statuses": [{"code": "ProvisioningState/deleting", "level": "Info"}, {"code": "PowerState/stopped", "level": "Info"}]}
            if self.power[key] == "starting":
                self.power[key] = "running"
                script = base64.b64decode(vm["properties"]["osProfile"].get("customData", "")).decode()

                def halted(rc: int, key: str = key) -> None:
                    with self.lock:
                        if self.power.get(key) == "running":
                            self.power[key] = "stopped"

                self.vms[key] = LocalVM(m["name"], script, self.workdir, on_halt=halted).start()
            power = self.power[key]
        return 200, {"statuses": [{"code": "ProvisioningState/succeeded", "level": "Info"}, {"code": f"PowerState/{power}", "level": "Info"}]}
