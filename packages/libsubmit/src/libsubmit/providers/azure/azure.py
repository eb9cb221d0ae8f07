"""Microsoft Azure provider (azure-mgmt-compute/-network/-resource + azure-identity, extra
``azure``): one virtual machine per block, its user data in ``customData`` (cloud-init runs
it), in a resource group, virtual network and network security group created and recorded by
the provider and deleted at teardown.

::

    prepare ─▶ credential (service principal: tenant_id + client_id + client_secret, or the
               DefaultAzureCredential chain) ─▶ Resource/Network/Compute management clients
            ─▶ resource group ─▶ NSG (driver's /32 allowed in; Azure's defaults admit the
               virtual network and deny the Internet) ─▶ VNet + subnet
    submit  ─▶ virtual_machines.begin_create_or_update (NIC, public IP and OS disk created
               with the VM and deleted with it) ─▶ job id = VM name
    status  ─▶ virtual_machines.instance_view ─▶ PowerState/starting|running|stopped|...; 404 = gone
    cancel  ─▶ virtual_machines.begin_delete (404 = already gone)
    teardown ─▶ delete VMs, wait for 404, then VNet, NSG, resource group (newest first)
"""
from __future__ import annotations

import importlib
import secrets
from typing import Any, ClassVar, Sequence

from parsl.errors import ConfigurationError
from parsl.interfaces import JobState

from ..cloud import CloudProvider
from ..cloud_state import CloudState

__all__ = ["AzureProvider"]

_POWER = {
    "starting": JobState.PENDING,
    "running": JobState.RUNNING,
    "stopping": JobState.RUNNING,
    "deallocating": JobState.RUNNING,
    "stopped": JobState.COMPLETED,
    "deallocated": JobState.COMPLETED,
}


class AzureProvider(CloudProvider):
    """Blocks on Azure virtual machines (0.5.0 path:
    ``libsubmit.providers.azure.azureProvider.AzureProvider``).

    ``auth``: ``subscription_id`` (required); ``tenant_id`` + ``client_id`` +
    ``client_secret`` for a service principal (else the DefaultAzureCredential chain:
    environment, managed identity, Azure CLI); ``authority``: a token service host other
    than Microsoft's (Azure Stack, private clouds; instance discovery is then off).
    Options: ``location`` (``eastus``), ``vmSize`` (``Standard_B2s``), ``imagePublisher``,
    ``imageOffer``, ``imageSku``, ``imageVersion`` (Ubuntu 22.04 LTS), ``adminUsername``
    (``parsl``), ``sshPublicKey`` (else password login with a random password nobody keeps),
    ``resourceGroup`` (use it instead of creating one), ``driverAddress``.
    """

    name: ClassVar[str] = "azure"
    sdk_module: ClassVar[str] = "azure.mgmt.compute"
    extra: ClassVar[str] = "azure"
    also_needs: ClassVar[tuple[str, ...]] = ("azure.identity", "azure.mgmt.network", "azure.mgmt.resource")
    auth_keys: ClassVar[frozenset[str]] = frozenset({"subscription_id", "tenant_id", "client_id", "client_secret", "authority"})
    option_names: ClassVar[frozenset[str]] = frozenset({
        "location", "vmSize", "imagePublisher", "imageOffer", "imageSku", "imageVersion", "adminUsername", "sshPublicKey",
        "resourceGroup", "driverAddress",
    })

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self._auth.get("subscription_id"):
            raise ConfigurationError("the azure provider needs the subscription: give auth 'subscription_id'", f"{type(self).__name__}.auth.subscription_id")
        partial = {"tenant_id", "client_id", "client_secret"} & set(self._auth)
        if partial and len(partial) != 3:
            missing = sorted({"tenant_id", "client_id", "client_secret"} - partial)
            raise ConfigurationError(f"a service principal needs tenant_id, client_id and client_secret; missing {', '.join(missing)}", f"{type(self).__name__}.auth")
        self.location: str = self.options.get("location", "eastus")

    # ---- connection -------------------------------------------------------------------------
    def _connect(self) -> None:
        identity = importlib.import_module("azure.identity")
        # a custom authority (Azure Stack, a private cloud) is not in Microsoft's instance list
        extra = {"authority": self._auth["authority"], "disable_instance_discovery": True} if self._auth.get("authority") else {}
        if self._auth.get("client_secret"):
            credential = identity.ClientSecretCredential(self._auth["tenant_id"], self._auth["client_id"], self._auth["client_secret"], **extra)
        else:
            credential = identity.DefaultAzureCredential(**extra)
        try:
            resources = importlib.import_module("azure.mgmt.resource.resources")
        except ModuleNotFoundError:  # azure-mgmt-resource before the package split
            resources = importlib.import_module("azure.mgmt.resource")
        network = importlib.import_module("azure.mgmt.network")
        kwargs: dict[str, Any] = {"polling_interval": self.poll_interval}
        if self.endpoint_url:
            kwargs["base_url"] = self.endpoint_url
        sub = self._auth["subscription_id"]
        self.resources = resources.ResourceManagementClient(credential, sub, **kwargs)
        self.network = network.NetworkManagementClient(credential, sub, **kwargs)
        self.compute = self._sdk.ComputeManagementClient(credential, sub, **kwargs)
        self.models = importlib.import_module("azure.mgmt.compute.models")
        self.network_models = importlib.import_module("azure.mgmt.network.models")
        self.resource_models = importlib.import_module(resources.__name__ + ".models")

    def _error_details(self, exc: BaseException) -> tuple[str, str] | None:
        core = importlib.import_module("azure.core.exceptions")
        if isinstance(exc, core.HttpResponseError):
            error = getattr(exc, "error", None)
            code = getattr(error, "code", None) or str(exc.status_code or type(exc).__name__)
            message = getattr(error, "message", None) or str(exc.reason or exc.message)
            return str(code), str(message)
        if isinstance(exc, core.AzureError) or type(exc).__module__.startswith("azure.identity"):
            return type(exc).__name__, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return None

    def _missing(self, exc: BaseException) -> bool:
        return isinstance(exc, importlib.import_module("azure.core.exceptions").ResourceNotFoundError)

    # ---- network ----------------------------------------------------------------------------
    def _group(self) -> str:
        return str(self.options.get("resourceGroup") or (self.state.resource("resource-group") or {}).get("id"))

    def _ensure_network(self, state: CloudState) -> None:
        prefix = f"parsl-{self.label}-{state.token}"
        tags = {"parsl-label": self.label, "parsl-state-token": state.token}
        net = self.network_models
        if not self.options.get("resourceGroup"):
            rec = state.resource("resource-group")
            if rec is None or not self.resources.resource_groups.check_existence(rec["id"]):
                state.add_resource("resource-group", prefix, True)
                self.resources.resource_groups.create_or_update(prefix, self.resource_models.ResourceGroup(location=self.location, tags=tags))
        group = self._group()
        if state.resource("nsg") is None:
            rules = []
            if self.options.get("driverAddress"):
                rules.append(net.SecurityRule(
                    name="parsl-driver", priority=100, direction="Inbound", access="Allow", protocol="*",
                    source_address_prefix=f"{self.options['driverAddress']}/32", source_port_range="*",
                    destination_address_prefix="*", destination_port_range="*",
                ))
            state.add_resource("nsg", prefix, True)
            nsg = self.network.network_security_groups.begin_create_or_update(
                group, prefix, net.NetworkSecurityGroup(location=self.location, tags=tags, security_rules=rules)
            ).result()
            state.add_resource("nsg", prefix, True, arm_id=nsg.id)
        if state.resource("vnet") is None:
            state.add_resource("vnet", prefix, True)
            nsg_id = (state.resource("nsg") or {})["arm_id"]
            vnet = self.network.virtual_networks.begin_create_or_update(group, prefix, net.VirtualNetwork(
                location=self.location, tags=tags, address_space=net.AddressSpace(address_prefixes=["10.43.0.0/16"]),
                subnets=[net.Subnet(name="blocks", address_prefix="10.43.0.0/24", network_security_group=net.NetworkSecurityGroup(id=nsg_id))],
            )).result()
            state.add_resource("vnet", prefix, True, subnet=vnet.subnets[0].id)

    def _delete_network(self, state: CloudState) -> None:
        group = self._group()
        for rec in reversed(list(state.resources)):
            if rec["created"]:
                try:
                    if rec["kind"] == "vnet":
                        self.network.virtual_networks.begin_delete(group, rec["id"]).result()
                    elif rec["kind"] == "nsg":
                        self.network.network_security_groups.begin_delete(group, rec["id"]).result()
                    elif rec["kind"] == "resource-group":
                        self.resources.resource_groups.begin_delete(rec["id"]).result()
                except Exception as e:
                    if not self._missing(e):
                        raise
            state.drop_resource(rec["kind"])

    # ---- virtual machines -------------------------------------------------------------------
    def _start_instance(self, name: str, user_data: str) -> str:
        import base64

        m = self.models
        admin = self.options.get("adminUsername", "parsl")
        if self.options.get("sshPublicKey"):
            linux = m.LinuxConfiguration(
                disable_password_authentication=True,
                ssh=m.SshConfiguration(public_keys=[m.SshPublicKey(path=f"/home/{admin}/.ssh/authorized_keys", key_data=self.options["sshPublicKey"])]),
            )
            password = None
        else:
            linux, password = m.LinuxConfiguration(disable_password_authentication=False), secrets.token_urlsafe(24) + "aA1!"
        subnet = (self.state.resource("vnet") or {})["subnet"]
        vm = m.VirtualMachine(
            location=self.location,
            tags={"parsl-label": self.label, "parsl-state-token": self.state.token},
            hardware_profile=m.HardwareProfile(vm_size=self.options.get("vmSize", "Standard_B2s")),
            storage_profile=m.StorageProfile(
                image_reference=m.ImageReference(
                    publisher=self.options.get("imagePublisher", "Canonical"),
                    offer=self.options.get("imageOffer", "0001-com-ubuntu-server-jammy"),
                    sku=self.options.get("imageSku", "22_04-lts-gen2"),
                    version=self.options.get("imageVersion", "latest"),
                ),
                os_disk=m.OSDisk(create_option="FromImage", delete_option="Delete"),
            ),
            os_profile=m.OSProfile(
                computer_name=name, admin_username=admin, admin_password=password, linux_configuration=linux,
                custom_data=base64.b64encode(user_data.encode()).decode(),
            ),
            network_profile=m.NetworkProfile(
                network_api_version="2020-11-01",
                network_interface_configurations=[
                    m.VirtualMachineNetworkInterfaceConfiguration(
                        name=f"{name}-nic", primary=True, delete_option="Delete",
                        ip_configurations=[
                            m.VirtualMachineNetworkInterfaceIPConfiguration(
                                name="ipconfig", subnet=m.SubResource(id=subnet),
                                public_ip_address_configuration=m.VirtualMachinePublicIPAddressConfiguration(name=f"{name}-ip", delete_option="Delete"),
                            )
                        ],
                    )
                ],
            ),
        )
        self.state.add_instance(name, name)  # recorded before the call: a crash now still leaves a record
        self.compute.virtual_machines.begin_create_or_update(self._group(), name, vm).result()
        return name

    def _instance_states(self, ids: Sequence[str]) -> dict[str, JobState | None]:
        found: dict[str, JobState | None] = {}
        for name in ids:
            try:
                view = self.compute.virtual_machines.instance_view(self._group(), name)
            except Exception as e:
                if not self._missing(e):
                    raise
                found[name] = None
                continue
            power = [s.code.split("/", 1)[1] for s in view.statuses or [] if s.code and s.code.startswith("PowerState/")]
            failed = any(s.code == "ProvisioningState/failed" for s in view.statuses or [] if s.code)
            found[name] = JobState.FAILED if failed else _POWER.get(power[0], JobState.UNKNOWN) if power else JobState.PENDING
        return found

    def _terminate(self, ids: Sequence[str]) -> None:
        for name in ids:
            try:
                self.compute.virtual_machines.begin_delete(self._group(), name)
            except Exception as e:
                if not self._missing(e):
                    raise
