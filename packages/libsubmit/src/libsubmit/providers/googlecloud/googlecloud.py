"""Google Compute Engine provider (google-cloud-compute, extra ``google``): one instance per
block, its user data in the ``startup-script`` metadata, a firewall rule created for the
blocks (members and, when given, the driver's address) and deleted at teardown.

::

    prepare ─▶ credentials (service-account keyfile | application default)
            ─▶ InstancesClient, FirewallsClient, Zone/GlobalOperationsClient (REST)
            ─▶ firewall rule "parsl-<label>-<token>" (recorded, then created; waited on)
    submit  ─▶ instances.insert_unary ─▶ zone_operations.wait until DONE ─▶ job id = name
    status  ─▶ instances.list(filter: the state token's label), one call for all blocks ─▶
               PROVISIONING/STAGING/RUNNING/TERMINATED...; not listed = gone
    cancel  ─▶ instances.delete_unary (404 = already gone)
    teardown ─▶ delete instances, wait for 404, delete the firewall rule, drop the state file

Operations are waited on through our own ``ZoneOperationsClient`` built with the same client
options as the instances client (the SDK's ``ExtendedOperation.result()`` polls through a
client that ignores a custom endpoint).
"""
from __future__ import annotations

import importlib
import time
from typing import Any, ClassVar, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

from ..cloud import CloudProvider
from ..cloud_state import CloudState

__all__ = ["GoogleCloudProvider"]

_STATES = {
    "PROVISIONING": JobState.PENDING,
    "STAGING": JobState.PENDING,
    "RUNNING": JobState.RUNNING,
    "STOPPING": JobState.RUNNING,
    "SUSPENDING": JobState.RUNNING,
    "REPAIRING": JobState.RUNNING,
    "STOPPED": JobState.COMPLETED,
    "SUSPENDED": JobState.COMPLETED,
    "TERMINATED": JobState.COMPLETED,
}
_SCOPES = ["https://www.googleapis.com/auth/compute"]


class _OperationFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


class GoogleCloudProvider(CloudProvider):
    """Blocks on Google Compute Engine instances.

    ``auth``: ``keyfile`` (a service-account JSON key) and/or ``project``; with no keyfile the
    application-default credentials are used. Options: ``projectId`` (or ``auth.project``),
    ``zone`` (``us-central1-a``), ``instanceType`` (``n1-standard-1``), ``osProject``
    (``debian-cloud``), ``osFamily`` (``debian-12``), ``network``
    (``global/networks/default``), ``driverAddress`` (the address allowed in; default none).
    """

    name: ClassVar[str] = "googlecloud"
    sdk_module: ClassVar[str] = "google.cloud.compute_v1"
    extra: ClassVar[str] = "google"
    auth_keys: ClassVar[frozenset[str]] = frozenset({"keyfile", "project"})
    option_names: ClassVar[frozenset[str]] = frozenset({"projectId", "zone", "instanceType", "osProject", "osFamily", "network", "driverAddress"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.project: str = self.options.get("projectId") or self._auth.get("project") or ""
        if not self.project:
            raise ConfigurationError("the googlecloud provider needs the project: give the option 'projectId' (or auth 'project')", self.option_where("projectId"))
        self.zone: str = self.options.get("zone", "us-central1-a")
        self.instances: Any = None

    # ---- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        compute = self._sdk
        credentials: Any
        if self._auth.get("keyfile"):
            service_account = importlib.import_module("google.oauth2.service_account")
            try:
                credentials = service_account.Credentials.from_service_account_file(self._auth["keyfile"], scopes=_SCOPES)
            except (OSError, ValueError, KeyError) as e:
                raise ConfigurationError(f"cannot read the service-account key {self._auth['keyfile']}: {type(e).__name__}", "auth.keyfile") from None
        else:
            credentials, _ = importlib.import_module("google.auth").default(scopes=_SCOPES)
        options = {"api_endpoint": self.endpoint_url} if self.endpoint_url else None
        kwargs = {"credentials": credentials, "client_options": options, "transport": "rest"}
        self.instances = compute.InstancesClient(**kwargs)
        self.firewalls = compute.FirewallsClient(**kwargs)
        self.zone_operations = compute.ZoneOperationsClient(**kwargs)
        self.global_operations = compute.GlobalOperationsClient(**kwargs)

    def _error_details(self, exc: BaseException) -> tuple[str, str] | None:
        if isinstance(exc, _OperationFailed):
            return exc.code, exc.message
        exceptions = importlib.import_module("google.api_core.exceptions")
        if isinstance(exc, exceptions.GoogleAPICallError):
            reason = getattr(exc, "reason", None)
            code = f"{exc.code} {reason}" if reason else str(exc.code)
            return code, str(exc.message)
        return None

    def _is_not_found(self, exc: BaseException) -> bool:
        return isinstance(exc, importlib.import_module("google.api_core.exceptions").NotFound)

    def _wait(self, operation: Any, zonal: bool = True) -> None:
        """Wait for an operation to be DONE; raise its first error."""
        deadline = time.monotonic() + self.teardown_timeout
        done = self._sdk.Operation.Status.DONE
        while operation.status != done:
            if time.monotonic() > deadline:
                raise _OperationFailed("Timeout", f"operation {operation.name} not done after {self.teardown_timeout:.0f} s")
            if zonal:
                operation = self.zone_operations.wait(project=self.project, zone=self.zone, operation=operation.name)
            else:
                operation = self.global_operations.wait(project=self.project, operation=operation.name)
        if operation.error and operation.error.errors:
            first = operation.error.errors[0]
            raise _OperationFailed(first.code, first.message)

    # ---- network ----------------------------------------------------------------------------
    def _network_tag(self, state: CloudState) -> str:
        return f"parsl-{state.token}"

    def _ensure_network(self, state: CloudState) -> None:
        name = f"parsl-{self.label.lower()}-{state.token}"[:63].rstrip("-")
        rec = state.resource("firewall")
        if rec is not None:
            try:
                self.firewalls.get(project=self.project, firewall=rec["id"])
                return
            except Exception as e:
                if not self._is_not_found(e):
                    raise
                state.drop_resource("firewall")
        compute = self._sdk
        tag = self._network_tag(state)
        rule = compute.Firewall(
            name=name,
            network=self.options.get("network", "global/networks/default"),
            direction="INGRESS",
            allowed=[compute.Allowed(I_p_protocol="all")],
            source_tags=[tag],
            source_ranges=[f"{self.options['driverAddress']}/32"] if self.options.get("driverAddress") else [],
            target_tags=[tag],
            description=f"parsl blocks of {self.label}: members and the driver only",
        )
        state.add_resource("firewall", name, True)
        self._wait(self.firewalls.insert_unary(project=self.project, firewall_resource=rule), zonal=False)

    def _delete_network(self, state: CloudState) -> None:
        rec = state.resource("firewall")
        if rec is not None and rec["created"]:
            try:
                self._wait(self.firewalls.delete_unary(project=self.project, firewall=rec["id"]), zonal=False)
            except Exception as e:
                if not self._is_not_found(e):
                    raise
        state.drop_resource("firewall")

    # ---- instances --------------------------------------------------------------------------
    def _start_instance(self, name: str, user_data: str) -> str:
        compute = self._sdk
        os_project = self.options.get("osProject", "debian-cloud")
        os_family = self.options.get("osFamily", "debian-12")
        instance = compute.Instance(
            name=name,
            machine_type=f"zones/{self.zone}/machineTypes/{self.options.get('instanceType', 'n1-standard-1')}",
            disks=[
                compute.AttachedDisk(
                    boot=True,
                    auto_delete=True,
                    initialize_params=compute.AttachedDiskInitializeParams(source_image=f"projects/{os_project}/global/images/family/{os_family}"),
                )
            ],
            network_interfaces=[
                compute.NetworkInterface(
                    network=self.options.get("network", "global/networks/default"),
                    access_configs=[compute.AccessConfig(name="External NAT", type_="ONE_TO_ONE_NAT")],
                )
            ],
            metadata=compute.Metadata(items=[compute.Items(key="startup-script", value=user_data)]),
            labels={"parsl-label": self.label.lower()[:63], "parsl-state-token": self.state.token},
            tags=compute.Tags(items=[self._network_tag(self.state)]),
        )
        operation = self.instances.insert_unary(project=self.project, zone=self.zone, instance_resource=instance)
        self.state.add_instance(name, name)  # recorded before the wait: a crash here still leaves a record
        self._wait(operation)
        return name

    def _instance_states(self, ids: Sequence[str]) -> dict[str, JobState | None]:
        """One listing (filtered by the state token's label, paged) for all the ids; an id
        not listed is gone."""
        found: dict[str, JobState | None] = dict.fromkeys(ids)
        request = self._sdk.ListInstancesRequest(project=self.project, zone=self.zone, filter=f'labels.parsl-state-token = "{self.state.token}"')
        listing = self.instances.list(request=request)
        for instance in listing:
            if instance.name in found:
                found[instance.name] = _STATES.get(instance.status, JobState.UNKNOWN)
        return found

    def _terminate(self, ids: Sequence[str]) -> None:
        for name in ids:
            try:
                self.instances.delete_unary(project=self.project, zone=self.zone, instance=name)
            except Exception as e:
                if not self._is_not_found(e):
                    raise

