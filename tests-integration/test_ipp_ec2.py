"""The IPyParallelExecutor on EC2Provider blocks, end to end against moto's EC2 on 127.0.0.1
(tests-integration/services/moto/start.sh), configured by a 0.5.0 dict with
``"provider": "aws"``.

What is fake: moto runs no VMs. The MotoHypervisor stand-in (cloud_fakes/ec2_hypervisor.py)
reads each instance's user data over the EC2 API and runs it as a local process group, so the
engines the user data starts are real and connect to the controller on 127.0.0.1; when the
executor cancels its block, the instance is terminated in moto and the stand-in kills them.
"""
from __future__ import annotations

import base64
import os
import shlex
import sys
from typing import Any

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from ipp_helpers import config, wait_gone, wait_until
from test_libsubmit_aws import ENDPOINT, NOTHING, REGION, _ours, _reason

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.usefixtures("ipp_stack"),
    pytest.mark.skipif(_reason is not None, reason=_reason or ""),
]


def test_ipp_engines_in_an_ec2_block(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from cloud_fakes.ec2_hypervisor import MotoHypervisor

    from parsl import App, DataFlowKernel

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-test-secret")
    monkeypatch.setenv("AWS_ENDPOINT_URL", ENDPOINT)  # boto3 reads the endpoint from here
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    ec2 = boto3.client("ec2", region_name=REGION)
    ami = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "architecture", "Values": ["x86_64"]}])["Images"][0]["ImageId"]
    label = f"EC2_IPP_{os.getpid()}"
    site = {
        "site": label,
        "auth": {},
        "execution": {
            "executor": "ipp",
            "provider": "aws",
            "block": {
                "nodes": 1, "taskBlocks": 2, "initBlocks": 1, "minBlocks": 1, "maxBlocks": 1, "walltime": "00:05:00",
                "options": {"imageId": ami, "region": REGION, "instanceType": "t2.small", "driverAddress": "127.0.0.1"},
            },
        },
    }
    with MotoHypervisor(ec2, {label}, tmp_path / "vms") as hypervisor:
        dfk = DataFlowKernel(config=config(site))
        ex = dfk.executors[label]
        provider = ex.execution_provider
        ex.wait_for_engines(2, timeout=120)
        (instance,) = list(ex.blocks.values())

        # the user data carries the executor's engine launch command, through the launcher
        user_data = base64.b64decode(ec2.describe_instance_attribute(InstanceId=instance, Attribute="userData")["UserData"]["Value"]).decode()
        assert shlex.quote(provider.launch_command(f"export PARSL_IPP_BLOCK=0; {ex.launch_cmd}")) in user_data
        # the engine's connection file travels in the block's environment, not on its command line
        assert "export PARSL_IPP_ENGINE_JSON=" in user_data and user_data.rstrip().endswith("shutdown -h now")

        @App("python", dfk)
        def where() -> tuple[int, str | None]:
            import os

            return os.getpid(), os.environ.get("PARSL_BLOCK_NAME")

        results = [f.result(timeout=120) for f in [where() for _ in range(8)]]
        name = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Tags"]
        assert {r[1] for r in results} == {next(t["Value"] for t in name if t["Key"] == "Name")}
        engines = {r[0] for r in results}
        assert engines <= set(ex.engine_pids().values())
        vm = hypervisor.vms[instance]
        dfk.cleanup()
        assert wait_until(lambda: ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated", 30)
        assert vm.halted.wait(30), "the block's processes outlived its instance"
        assert wait_gone(list(engines), timeout=30) == []
        # the network stays recorded for the next run; teardown removes it
        token = provider.state.token
        assert os.path.exists(provider.state_file)
        provider.teardown()
        assert _ours(ec2, token) == NOTHING and not os.path.exists(provider.state_file)
