"""The Azure provider with the real azure-identity (MSAL client-credentials flow) and
azure-mgmt-resource/-network/-compute clients, over HTTPS.

What is fake: Azure. cloud_fakes/azure_server.py is a small fake of the Microsoft identity
platform's token service and of Azure Resource Manager (resource groups, network security
groups, virtual networks, virtual machines and their instance view) on 127.0.0.1, with a
throw-away certificate the clients trust through REQUESTS_CA_BUNDLE; it runs each VM's
customData as a local process group (cloud_fakes/vm.py).
"""
from __future__ import annotations

import base64
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("azure.mgmt.compute", reason="needs the Azure SDK: pip install 'libsubmit[azure]'")
pytest.importorskip("azure.identity", reason="needs the Azure SDK: pip install 'libsubmit[azure]'")

from cloud_fakes.azure_server import FakeAzure
from cloud_fakes.kit import FakeCloudConformance, killed_driver
from cloud_fakes.tls import loopback_tls

from parsl.interfaces import ExecutionProvider, JobState
from parsl.testing.provider_kit import wait_for_state

pytestmark = pytest.mark.integration
GOLDEN = pathlib.Path(__file__).parent / "golden" / "azure.user-data"
SECRET = "azure-test-secret"


class _TLSFakeAzure(FakeAzure):
    """The fake with its own certificate (trusted through REQUESTS_CA_BUNDLE)."""

    def __init__(self, workdir: pathlib.Path) -> None:
        context, ca = loopback_tls(workdir / "tls")
        self.ca = ca
        super().__init__(workdir, context)

    def __enter__(self) -> _TLSFakeAzure:
        super().__enter__()
        self._mp = pytest.MonkeyPatch()
        self._mp.setenv("REQUESTS_CA_BUNDLE", str(self.ca))
        return self

    def __exit__(self, *exc: object) -> None:
        self._mp.undo()
        super().__exit__(*exc)


def _provider(workdir: pathlib.Path, fake: FakeAzure, secret: str = SECRET, **options: Any) -> Any:
    from libsubmit.providers.azure.azure import AzureProvider

    options.setdefault("label", "az")
    auth = {"subscription_id": "sub-1", "tenant_id": "tenant-1", "client_id": "app-1", "client_secret": secret, "authority": fake.url}
    p = AzureProvider(auth=auth, endpoint_url=fake.url, state_file=str(workdir / "runinfo" / "az-state.json"), **options)
    p.poll_interval = 0.05
    return p


@pytest.fixture
def azure(tmp_path: pathlib.Path) -> Iterator[_TLSFakeAzure]:
    with _TLSFakeAzure(tmp_path / "vms") as fake:
        yield fake


class TestAzureConformance(FakeCloudConformance):
    """The kit's life-cycle on the Azure fake; customData runs as local processes."""

    fake_class = _TLSFakeAzure
    golden_file = GOLDEN
    refusal = ({"vmSize": "Standard_Nope"}, "The value Standard_Nope provided for the VM size is not valid")

    def build(self, workdir: pathlib.Path, fake: Any, **options: Any) -> ExecutionProvider:
        return _provider(workdir, fake, **options)  # type: ignore[no-any-return]

    def leftovers(self, fake: Any) -> Any:
        return fake.groups or fake.resources


def test_lifecycle_creates_and_removes_everything(tmp_path: pathlib.Path, azure: _TLSFakeAzure) -> None:
    """A client secret buys a token from the fake's token service; the provider creates a
    resource group, an NSG admitting the driver's /32 and a VNet whose subnet uses it; the VM
    carries the user data as customData and deletes its NIC, IP and disk with itself;
    cancel then teardown leave nothing."""
    from libsubmit.providers.azure.azureProvider import AzureProvider as Documented

    p = _provider(tmp_path, azure, driverAddress="203.0.113.5", vmSize="Standard_B1s", location="westeurope", sshPublicKey="ssh-ed25519 AAAAC3Nz parsl")
    assert isinstance(p, Documented)
    job = p.submit("echo azure block", 1, "life")
    assert list(azure.groups) == [f"parsl-az-{p.state.token}"]
    vm = next(r for r in azure.resources.values() if r["type"] == "Microsoft.Compute/virtualMachines")
    props = vm["properties"]
    assert vm["name"] == job and vm["location"] == "westeurope" and props["hardwareProfile"]["vmSize"] == "Standard_B1s"
    script = base64.b64decode(props["osProfile"]["customData"]).decode()
    assert "echo azure block" in script and script.rstrip().endswith("shutdown -h now")
    assert props["osProfile"]["linuxConfiguration"]["disablePasswordAuthentication"] is True
    nic = props["networkProfile"]["networkInterfaceConfigurations"][0]["properties"]
    assert nic["deleteOption"] == "Delete" and props["storageProfile"]["osDisk"]["deleteOption"] == "Delete"
    nsg = next(r for r in azure.resources.values() if r["type"] == "Microsoft.Network/networkSecurityGroups")
    (rule,) = nsg["properties"]["securityRules"]
    assert rule["properties"]["sourceAddressPrefix"] == "203.0.113.5/32" and rule["properties"]["access"] == "Allow"
    assert wait_for_state(p, job, lambda s: s is JobState.RUNNING, 30, 0.05)[-1] is JobState.RUNNING
    assert p.cancel([job]) == [True]
    assert wait_for_state(p, job, lambda s: s.terminal, 30, 0.05)[-1] is JobState.CANCELLED
    p.teardown()
    assert azure.groups == {} and azure.resources == {}
    assert not pathlib.Path(p.state_file).exists()
    arm = [r for r in azure.requests if r["path"].lower().startswith("/subscriptions/")]
    assert arm and all(r["headers"]["Authorization"].removeprefix("Bearer ") in azure.tokens for r in arm)


def test_leftovers_of_a_killed_driver_are_deleted(tmp_path: pathlib.Path, azure: _TLSFakeAzure) -> None:
    """A driver process SIGKILLed after submitting leaves its VM in the state file; the next
    run deletes it at its first submit and reuses the recorded resource group; teardown waits
    until the VM is gone (its NIC holds the subnet) before deleting the network."""
    from libsubmit.providers.azure.azure import AzureProvider

    auth = {"subscription_id": "sub-1", "tenant_id": "tenant-1", "client_id": "app-1", "client_secret": SECRET, "authority": azure.url}
    kwargs = {"auth": auth, "endpoint_url": azure.url, "state_file": str(tmp_path / "runinfo" / "az-state.json"), "label": "az"}
    (old,) = killed_driver(AzureProvider, kwargs, env={"REQUESTS_CA_BUNDLE": str(azure.ca)})
    groups = set(azure.groups)
    assert old in {r["name"] for r in azure.resources.values()} and groups
    second = _provider(tmp_path, azure)
    new = second.submit("true", 1, "new")
    states = {r["name"]: r["properties"]["provisioningState"] for r in azure.resources.values() if r["type"].endswith("virtualMachines")}
    assert states == {old: "Deleting", new: "Succeeded"} and set(azure.groups) == groups
    second.teardown()
    assert azure.groups == {} and azure.resources == {}


def test_wrong_secret_is_a_provider_error_without_the_secret(tmp_path: pathlib.Path, azure: _TLSFakeAzure, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from libsubmit.error import CloudAPIError

    caplog.set_level(logging.DEBUG)
    p = _provider(tmp_path, azure, secret="not-the-s3cret-value")
    with pytest.raises(CloudAPIError) as info:
        p.submit("true", 1)
    assert "AADSTS7000215" in info.value.message
    for text in (str(info.value), repr(p), caplog.text):
        assert "not-the-s3cret-value" not in text
    assert SECRET not in repr(_provider(tmp_path, azure))


def test_partial_service_principal_names_what_is_missing(tmp_path: pathlib.Path, azure: _TLSFakeAzure) -> None:
    from libsubmit.providers.azure.azure import AzureProvider
    from parsl.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="missing client_secret"):
        AzureProvider(auth={"subscription_id": "s", "tenant_id": "t", "client_id": "c"}, state_file=str(tmp_path / "s.json"))
    with pytest.raises(ConfigurationError, match="subscription_id"):
        AzureProvider(auth={}, state_file=str(tmp_path / "s.json"))
