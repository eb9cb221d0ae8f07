"""A small Compute Engine REST fake (there is no GCE emulator): the real google-cloud-compute
client talks to it over HTTP, and google-auth fetches its token from ``POST /token`` with a
signed service-account JWT, as it would from oauth2.googleapis.com.

::

    POST /token (JWT bearer grant) ─▶ access token; every compute call must carry it, or a
    self-signed service-account JWT (what google-cloud-compute sends) whose RS256 signature
    checks against a key registered in ``trusted_keys``
    POST  .../zones/Z/instances         insert ─▶ operation RUNNING ─▶ DONE on the next get/wait
    GET   .../zones/Z/instances         list (label filter, 2 per page, by name); each listed instance
                                        moves on as with a GET
    GET   .../zones/Z/instances/N       PROVISIONING ─▶ STAGING ─▶ RUNNING (one step per GET;
                                        at RUNNING the startup-script runs in a LocalVM);
                                        the script halts ─▶ TERMINATED
    DELETE .../zones/Z/instances/N      STOPPING (VM killed) ─▶ 404 on the next GET
    POST/GET/DELETE .../global/firewalls[/N], .../zoneOperations|globalOperations get + wait

Unknown zones and machine types are refused with Compute Engine's error shapes.
"""
from __future__ import annotations

import base64
import itertools
import json
import re
from pathlib import Path
from typing import Any

from .rest import FakeREST, Reply
from .vm import LocalVM

P = r"/compute/v1/projects/(?P<project>[^/]+)"
ZONES = {"us-central1-a", "europe-west1-b"}
TOKEN = "fake-gce-access-token"


class FakeGCE(FakeREST):
    routes = [
        ("POST", r"/token", "token"),
        ("POST", P + r"/zones/(?P<zone>[^/]+)/instances", "insert"),
        ("GET", P + r"/zones/(?P<zone>[^/]+)/instances", "list_instances"),
        ("GET", P + r"/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)", "get"),
        ("DELETE", P + r"/zones/(?P<zone>[^/]+)/instances/(?P<name>[^/]+)", "delete"),
        ("GET", P + r"/zones/(?P<zone>[^/]+)/operations/(?P<op>[^/]+)", "operation"),
        ("POST", P + r"/zones/(?P<zone>[^/]+)/operations/(?P<op>[^/]+)/wait", "operation"),
        ("GET", P + r"/global/operations/(?P<op>[^/]+)", "operation"),
        ("POST", P + r"/global/operations/(?P<op>[^/]+)/wait", "operation"),
        ("POST", P + r"/global/firewalls", "insert_firewall"),
        ("GET", P + r"/global/firewalls/(?P<name>[^/]+)", "get_firewall"),
        ("DELETE", P + r"/global/firewalls/(?P<name>[^/]+)", "delete_firewall"),
    ]

    def __init__(self, workdir: Path) -> None:
        super().__init__()
        self.workdir = Path(workdir)
        self.instances: dict[str, dict[str, Any]] = {}
        self.firewalls: dict[str, dict[str, Any]] = {}
        self.operations: dict[str, dict[str, Any]] = {}
        self.vms: dict[str, LocalVM] = {}
        self.jwt_claims: list[dict[str, Any]] = []
        self.trusted_keys: dict[str, Any] = {}  # key id -> cryptography public key
        self._ids = itertools.count(1000)

    def close(self) -> None:
        for vm in self.vms.values():
            vm.kill()

    # ---- auth -------------------------------------------------------------------------------
    def authorize(self, method: str, path: str, headers: dict[str, str]) -> Reply | None:
        bearer = headers.get("Authorization", "").removeprefix("Bearer ")
        if path == "/token" or bearer == TOKEN or self._self_signed_ok(bearer):
            return None
        return 401, {"error": {"code": 401, "message": "Request is missing required authentication credential.", "errors": [{"reason": "required"}], "status": "UNAUTHENTICATED"}}

    def _self_signed_ok(self, jwt: str) -> bool:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        parts = jwt.split(".")
        if len(parts) != 3:
            return False
        head, claims = (json.loads(_b64(p)) for p in parts[:2])
        key = self.trusted_keys.get(head.get("kid", ""))
        if key is None or head.get("alg") != "RS256":
            return False
        try:
            key.verify(_b64(parts[2]), f"{parts[0]}.{parts[1]}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return False
        with self.lock:
            self.jwt_claims.append(claims)
        return True

    def token(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        if body.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or body.get("assertion", "").count(".") != 2:
            return 400, {"error": "invalid_grant", "error_description": "expected a JWT bearer assertion"}
        self.jwt_claims.append(json.loads(_b64(body["assertion"].split(".")[1])))
        return 200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"}

    # ---- helpers ----------------------------------------------------------------------------
    def _error(self, code: int, reason: str, message: str) -> Reply:
        return code, {"error": {"code": code, "message": message, "errors": [{"domain": "global", "reason": reason, "message": message}]}}

    def _op(self, project: str, kind: str, target: str, zone: str | None = None, error: dict[str, Any] | None = None) -> dict[str, Any]:
        n = next(self._ids)
        op = {
            "kind": "compute#operation", "id": str(n), "name": f"operation-{n}", "operationType": kind, "status": "RUNNING",
            "targetLink": target, "progress": 0, "selfLink": f"projects/{project}/operations/operation-{n}",
        }
        if zone:
            op["zone"] = f"https://www.googleapis.com/compute/v1/projects/{project}/zones/{zone}"
        if error:
            op["pending_error"] = error
        with self.lock:
            self.operations[op["name"]] = op
        return dict((k, v) for k, v in op.items() if k != "pending_error")

    def operation(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            op = self.operations[m["op"]]
            op["status"], op["progress"] = "DONE", 100
            if "pending_error" in op:
                op["error"] = op.pop("pending_error")
            return 200, dict(op)

    # ---- instances --------------------------------------------------------------------------
    def insert(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        project, zone = m["project"], m["zone"]
        if zone not in ZONES:
            return self._error(404, "notFound", f"The resource 'projects/{project}/zones/{zone}' was not found")
        name = body["name"]
        if name in self.instances:
            return self._error(409, "alreadyExists", f"The resource 'projects/{project}/zones/{zone}/instances/{name}' already exists")
        machine = body.get("machineType", "")
        if not machine.startswith(f"zones/{zone}/machineTypes/") or machine.endswith("/no-such-type"):
            return 200, self._op(project, "insert", name, zone, {"errors": [{"code": "RESOURCE_NOT_FOUND", "message": f"Invalid value for field 'resource.machineType': '{machine}'. Machine type does not exist."}]})
        with self.lock:
            self.instances[name] = {
                "kind": "compute#instance", "id": str(next(self._ids)), "name": name, "status": "PROVISIONING", "zone": zone,
                "machineType": machine, "metadata": body.get("metadata", {}), "labels": body.get("labels", {}), "tags": body.get("tags", {}),
                "disks": body.get("disks", []), "networkInterfaces": body.get("networkInterfaces", []),
            }
        return 200, self._op(project, "insert", name, zone)

    def _startup_script(self, inst: dict[str, Any]) -> str:
        for item in inst["metadata"].get("items", []):
            if item["key"] == "startup-script":
                return str(item["value"])
        return "#!/bin/bash\n"

    def _advance(self, inst: dict[str, Any]) -> None:
        status = inst["status"]
        if status == "PROVISIONING":
            inst["status"] = "STAGING"
        elif status == "STAGING":
            inst["status"] = "RUNNING"
            name = inst["name"]

            def halted(rc: int, inst: dict[str, Any] = inst) -> None:
                with self.lock:
                    if inst["status"] == "RUNNING":
                        inst["status"] = "TERMINATED"

            self.vms[name] = LocalVM(name, self._startup_script(inst), self.workdir, on_halt=halted).start()
        elif status == "STOPPING":
            self.instances.pop(inst["name"], None)
            raise KeyError(inst["name"])

    def get(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            inst = self.instances.get(m["name"])
            if inst is None:
                return self._error(404, "notFound", f"The resource 'projects/{m['project']}/zones/{m['zone']}/instances/{m['name']}' was not found")
            try:
                self._advance(inst)
            except KeyError:
                return self._error(404, "notFound", f"The resource 'projects/{m['project']}/zones/{m['zone']}/instances/{m['name']}' was not found")
            return 200, dict(inst)

    def list_instances(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        """The zone's instances, filtered by ``labels.KEY = "VALUE"`` when asked; each listed
        instance moves on a step as with a GET; two per page, to make the client page."""
        wanted = re.fullmatch(r'\s*labels\.([\w-]+)\s*=\s*"([^"]*)"\s*', q.get("filter", "")) if q.get("filter") else None
        if q.get("filter") and wanted is None:
            return self._error(400, "invalid", f"Invalid value for field 'filter': '{q['filter']}'.")
        after = q.get("pageToken") or ""  # the cursor: the last name of the previous page
        with self.lock:
            matching = sorted(
                (i for i in self.instances.values() if i["zone"] == m["zone"] and i["name"] > after and not (wanted and i["labels"].get(wanted[1]) != wanted[2])),
                key=lambda i: i["name"],
            )
            items = []
            for inst in matching[:2]:
                try:
                    self._advance(inst)
                except KeyError:
                    continue
                items.append(dict(inst))
        page: dict[str, Any] = {"kind": "compute#instanceList", "items": items}
        if len(matching) > 2:
            page["nextPageToken"] = matching[1]["name"]
        return 200, page

    def delete(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            inst = self.instances.get(m["name"])
            if inst is None:
                return self._error(404, "notFound", f"The resource 'projects/{m['project']}/zones/{m['zone']}/instances/{m['name']}' was not found")
            inst["status"] = "STOPPING"
            vm = self.vms.get(m["name"])
        if vm is not None:
            vm.kill()
        return 200, self._op(m["project"], "delete", m["name"], m["zone"])

    # ---- firewalls --------------------------------------------------------------------------
    def insert_firewall(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            if body["name"] in self.firewalls:
                return self._error(409, "alreadyExists", f"The resource 'projects/{m['project']}/global/firewalls/{body['name']}' already exists")
            self.firewalls[body["name"]] = dict(body, kind="compute#firewall")
        return 200, self._op(m["project"], "insert", body["name"])

    def get_firewall(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            if m["name"] not in self.firewalls:
                return self._error(404, "notFound", f"The resource 'projects/{m['project']}/global/firewalls/{m['name']}' was not found")
            return 200, self.firewalls[m["name"]]

    def delete_firewall(self, m: Any, q: dict[str, str], body: Any, h: dict[str, str]) -> Reply:
        with self.lock:
            if self.firewalls.pop(m["name"], None) is None:
                return self._error(404, "notFound", f"The resource 'projects/{m['project']}/global/firewalls/{m['name']}' was not found")
        return 200, self._op(m["project"], "delete", m["name"])


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
