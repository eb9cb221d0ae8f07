"""A small OpenStack fake (Keystone v3, Nova v2.1, Neutron v2.0) for the Jetstream provider:
openstacksdk and keystoneauth talk to it over HTTP exactly as to a real cloud.

::

    GET  /identity/v3                 version discovery
    POST /identity/v3/auth/tokens     password (or application credential) ─▶ X-Subject-Token
                                      + a catalog naming /compute/v2.1 and /network
    Nova   /compute/v2.1/servers      POST ─▶ BUILD; GET: BUILD ─▶ ACTIVE (the user data runs in
                                      a LocalVM) ─▶ SHUTOFF when it halts; DELETE: listed once
                                      more (task_state deleting), then 404; until then its
                                      port holds the subnet (deleting that is refused, 409)
           /compute/v2.1/servers/detail  listing (name: a regex), each server moving on as on a GET
           /compute/v2.1/flavors[/detail|/{id}]
    Neutron /network/v2.0/{networks,subnets,routers,security-groups,security-group-rules}
                                      create / show / list / delete; router interfaces

Every Nova and Neutron call must carry the issued X-Auth-Token. Errors use each service's
own body shape (Nova ``{"itemNotFound": {...}}``, Neutron ``{"NeutronError": {...}}``).
"""
from __future__ import annotations

import base64
import itertools
import re
import uuid
from pathlib import Path
from typing import Any

from .rest import FakeREST, Reply
from .vm import LocalVM

FLAVORS = [{"id": "1", "name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}, {"id": "2", "name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}]
KINDS = {"networks": "network", "subnets": "subnet", "routers": "router", "security-groups": "security_group", "security-group-rules": "security_group_rule"}
N = r"/network/v2\.0/(?P<kind>networks|subnets|routers|security-groups|security-group-rules)"


class FakeOpenStack(FakeREST):
    routes = [
        ("GET", r"/identity/v3/?", "identity_version"),
        ("POST", r"/identity/v3/auth/tokens", "issue_token"),
        ("GET", r"/compute/v2\.1/?", "compute_version"),
        ("GET", r"/compute/?", "compute_versions"),
        ("GET", r"/network/?", "network_versions"),
        ("GET", r"/network/v2\.0/?", "network_version"),
        ("GET", r"/compute/v2\.1/flavors/detail", "flavors"),
        ("GET", r"/compute/v2\.1/flavors", "flavors"),
        ("GET", r"/compute/v2\.1/flavors/(?P<id>[^/]+)", "flavor"),
        ("POST", r"/compute/v2\.1/servers", "create_server"),
        ("GET", r"/compute/v2\.1/servers/detail", "list_servers"),
        ("GET", r"/compute/v2\.1/servers/(?P<id>[^/]+)", "get_server"),
        ("DELETE", r"/compute/v2\.1/servers/(?P<id>[^/]+)", "delete_server"),
        ("POST", N, "create"),
        ("GET", N, "list"),
        ("GET", N + r"/(?P<id>[^/]+)", "show"),
        ("DELETE", N + r"/(?P<id>[^/]+)", "delete"),
        ("PUT", r"/network/v2\.0/routers/(?P<id>[^/]+)/(?P<op>add|remove)_router_interface", "router_interface"),
    ]

    def __init__(self, workdir: Path, username: str = "parsl", password: str = "jetstream-test-pw") -> None:
        super().__init__()
        self.workdir = Path(workdir)
        self.username, self.password = username, password
        self.tokens: set[str] = set()
        self.servers: dict[str, dict[str, Any]] = {}
        self.neutron: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KINDS}
        self.vms: dict[str, LocalVM] = {}
        self._n = itertools.count(1)

    def close(self) -> None:
        for vm in self.vms.values():
            vm.kill()

    # ---- identity ---------------------------------------------------------------------------
    def authorize(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        if path.startswith("/identity") or path.rstrip("/") in ("/compute", "/network", "/compute/v2.1", "/network/v2.0"):
            return None
        if headers.get("X-Auth-Token") in self.tokens:
            return None
        return 401, {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}

    def identity_version(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return 200, {"version": {"id": "v3.14", "status": "stable", "updated": "2020-04-07T00:00:00Z",
                                 "links": [{"rel": "self", "href": f"{self.url}/identity/v3/"}],
                                 "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}]}}

    def issue_token(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        ident = body["auth"]["identity"]
        ok = False
        if "password" in ident["methods"]:
            user = ident["password"]["user"]
            ok = user.get("name") == self.username and user.get("password") == self.password
        if not ok:
            return 401, {"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}
        token = uuid.uuid4().hex
        self.tokens.add(token)
        def endpoint(kind: str, name: str, path: str) -> dict[str, Any]:
            return {"type": kind, "name": name, "id": name, "endpoints": [
                {"id": f"{name}-public", "interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": f"{self.url}{path}"}]}
        return 201, {"token": {
            "methods": ["password"], "expires_at": "2099-01-01T00:00:00.000000Z", "issued_at": "2024-01-01T00:00:00.000000Z",
            "user": {"id": "u1", "name": self.username, "domain": {"id": "default", "name": "Default"}},
            "project": {"id": "p1", "name": "parsl", "domain": {"id": "default", "name": "Default"}},
            "roles": [{"id": "r1", "name": "member"}],
            "catalog": [endpoint("compute", "nova", "/compute/v2.1"), endpoint("network", "neutron", "/network")],
        }}, {"X-Subject-Token": token}

    def _nova_version(self) -> dict[str, Any]:
        return {"id": "v2.1", "status": "CURRENT", "version": "2.79", "min_version": "2.1", "updated": "2013-07-23T11:33:21Z",
                "links": [{"rel": "self", "href": f"{self.url}/compute/v2.1/"}]}

    def compute_version(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return 200, {"version": self._nova_version()}

    def compute_versions(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return 200, {"versions": [self._nova_version()]}

    def network_versions(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return 200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{self.url}/network/v2.0/"}]}]}

    def network_version(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        return 200, {"resources": [{"name": k, "collection": k, "links": [{"rel": "self", "href": f"{self.url}/network/v2.0/{k}"}]} for k in KINDS]}

    # ---- nova -------------------------------------------------------------------------------
    def _nova_404(self, what: str) -> Reply:
        return 404, {"itemNotFound": {"code": 404, "message": f"{what} could not be found."}}

    def flavors(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        found = [f for f in FLAVORS if "name" not in q or f["name"] == q["name"]]
        return 200, {"flavors": [dict(f, links=[]) for f in found]}

    def flavor(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        for f in FLAVORS:
            if f["id"] == m["id"]:
                return 200, {"flavor": dict(f, links=[])}
        return self._nova_404(f"Flavor {m['id']}")

    def create_server(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        spec = body["server"]
        if spec.get("imageRef") != "ubuntu-22.04-id":
            return 400, {"badRequest": {"code": 400, "message": f"Can not find requested image {spec.get('imageRef')}"}}
        for group in spec.get("security_groups", []):
            if not any(g["name"] == group["name"] for g in self.neutron["security-groups"].values()):
                return 400, {"badRequest": {"code": 400, "message": f"Security group {group['name']} not found for project p1."}}
        sid = str(uuid.uuid4())
        with self.lock:
            self.servers[sid] = {"id": sid, "name": spec["name"], "status": "BUILD", "flavor": {"id": spec["flavorRef"]},
                                 "image": {"id": spec["imageRef"]}, "metadata": spec.get("metadata", {}), "key_name": spec.get("key_name"),
                                 "user_data": base64.b64decode(spec.get("user_data", "")).decode(), "networks": spec.get("networks", []),
                                 "security_groups": spec.get("security_groups", []), "links": []}
        return 202, {"server": {"id": sid, "links": [], "adminPass": "fake", "OS-DCF:diskConfig": "MANUAL"}}

    def get_server(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            server = self.servers.get(m["id"])
            if server is not None and server.get("OS-EXT-STS:task_state") == "deleting" and server.pop("_seen_deleting", False):
                del self.servers[m["id"]]
                server = None
            if server is None:
                return self._nova_404(f"Instance {m['id']}")
            if server.get("OS-EXT-STS:task_state") == "deleting":
                server["_seen_deleting"] = True
            elif server["status"] == "BUILD":
                server["status"] = "ACTIVE"

                def halted(rc: int, server: dict[str, Any] = server) -> None:
                    with self.lock:
                        if server["status"] == "ACTIVE":
                            server["status"] = "SHUTOFF"

                self.vms[m["id"]] = LocalVM(m["id"], server["user_data"], self.workdir, on_halt=halted).start()
            return 200, {"server": {k: v for k, v in server.items() if k not in ("user_data", "_seen_deleting")}}

    def list_servers(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        """``GET /servers/detail``, ``name`` a regular expression as in Nova; each listed
        server moves on as with a GET of it."""
        pattern = re.compile(q.get("name", ""))
        with self.lock:
            ids = [sid for sid, s in self.servers.items() if pattern.search(s["name"])]
        listed = []
        for sid in ids:
            status, reply, *_ = self.get_server({"id": sid}, {}, None, h)
            if status == 200:
                listed.append(reply["server"])
        return 200, {"servers": listed}

    def delete_server(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            server = self.servers.get(m["id"])
            if server is None:
                return self._nova_404(f"Instance {m['id']}")
            # deletion is asynchronous: listed once more with task_state "deleting", then gone;
            # until then its port holds the network
            server["OS-EXT-STS:task_state"] = "deleting"
            vm = self.vms.get(m["id"])
        if vm is not None:
            vm.kill()
        return 204, None

    # ---- neutron ----------------------------------------------------------------------------
    def _neutron_404(self, kind: str, rid: str) -> Reply:
        name = "".join(w.capitalize() for w in KINDS[kind].split("_"))
        return 404, {"NeutronError": {"type": f"{name}NotFound", "message": f"{name} {rid} could not be found.", "detail": ""}}

    def create(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        kind = m["kind"]
        item = dict(body[KINDS[kind]], id=str(uuid.uuid4()), tenant_id="p1", project_id="p1")
        with self.lock:
            if kind == "subnets" and item["network_id"] not in self.neutron["networks"]:
                return self._neutron_404("networks", item["network_id"])
            if kind == "security-group-rules" and item["security_group_id"] not in self.neutron["security-groups"]:
                return self._neutron_404("security-groups", item["security_group_id"])
            if kind == "security-groups":
                item["security_group_rules"] = []
            self.neutron[kind][item["id"]] = item
        return 201, {KINDS[kind]: item}

    def list(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            items = [i for i in self.neutron[m["kind"]].values() if all(str(i.get(k)) == v for k, v in q.items() if k in ("name", "id"))]
        return 200, {m["kind"].replace("-", "_"): items}

    def show(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            item = self.neutron[m["kind"]].get(m["id"])
        return (200, {KINDS[m["kind"]]: item}) if item else self._neutron_404(m["kind"], m["id"])

    def delete(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        kind, rid = m["kind"], m["id"]
        with self.lock:
            if rid not in self.neutron[kind]:
                return self._neutron_404(kind, rid)
            in_use = (kind == "networks" and any(s["network_id"] == rid for s in self.neutron["subnets"].values())) or (
                kind == "subnets" and any(n.get("uuid") == self.neutron[kind][rid]["network_id"] for s in self.servers.values() for n in s["networks"])) or (
                kind == "security-groups" and any(any(g["name"] == self.neutron[kind][rid]["name"] for g in s["security_groups"]) for s in self.servers.values()))
            if in_use:
                return 409, {"NeutronError": {"type": "InUse", "message": f"{KINDS[kind]} {rid} is in use.", "detail": ""}}
            del self.neutron[kind][rid]
            if kind == "security-groups":
                for rule in [r for r in self.neutron["security-group-rules"].values() if r["security_group_id"] == rid]:
                    del self.neutron["security-group-rules"][rule["id"]]
        return 204, None

    def router_interface(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            router = self.neutron["routers"].get(m["id"])
            if router is None:
                return self._neutron_404("routers", m["id"])
            ports = router.setdefault("interfaces", [])
            if m["op"] == "add":
                ports.append(body["subnet_id"])
            elif body["subnet_id"] in ports:
                ports.remove(body["subnet_id"])
        return 200, {"id": m["id"], "subnet_id": body["subnet_id"], "port_id": str(next(self._n))}
