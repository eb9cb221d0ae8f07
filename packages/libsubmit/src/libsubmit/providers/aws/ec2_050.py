"""The methods the Parsl 0.5.0 reference documents on ``EC2Provider``, as adaptors over this
provider's own machinery (which finds or creates the VPC, gateway and route, subnet, security
group and key pair together, recording each in the state file):

==========================  ==================================================================
``create_session()``        connect; the boto3 session
``initialize_boto_client()``  connect; the EC2 client
``read_state_file(path)``   the state file's contents (a dict; ``{}`` before the first write)
``create_vpc()``            the network set up; the VPC id
``security_group(vpc)``     the network set up; the security group id
``config_route_table(...)`` the network set up (the default route is part of it); the VPC id
``spin_up_instance(cmd, job_name)``  one instance running ``cmd``; its id
``shut_down_instance(ids)`` terminate those instances (all of this provider's by default)
``get_instance_state(ids)`` ``{instance id: JobState}``
``scale_in(n)``             terminate the ``n`` newest live instances; their ids
``show_summary()``          a one-line summary (logged and returned)
``read_configs(path)`` / ``pretty_configs(configs)``  a JSON config file / its pretty text
==========================  ==================================================================
"""
from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING, Any, Mapping, Sequence

if TYPE_CHECKING:
    from parsl.interfaces import JobState

    from ..cloud_state import CloudState

logger = logging.getLogger(__name__)


class EC2Methods050:
    if TYPE_CHECKING:
        session: Any
        client: Any
        label: str
        state_file: str
        _jobs: dict[str, Any]

        def prepare(self, network: bool = True) -> CloudState: ...

        def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str: ...

        def status(self, job_ids: Sequence[str]) -> list[JobState]: ...

        def cancel(self, job_ids: Sequence[str]) -> list[bool]: ...

        @property
        def current_capacity(self) -> int: ...

    def create_session(self) -> Any:
        self.prepare(network=False)
        return self.session

    def initialize_boto_client(self) -> Any:
        self.prepare(network=False)
        return self.client

    def read_state_file(self, state_file: str | None = None) -> dict[str, Any]:
        path = os.path.expanduser(state_file or self.state_file)
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return {}
        return data if isinstance(data, dict) else {}

    def _network(self, kind: str) -> str | None:
        rec = self.prepare().resource(kind)
        return rec["id"] if rec else None

    def create_vpc(self) -> str | None:
        return self._network("vpc-in-use")

    def security_group(self, vpc: Any = None) -> str | None:
        return self._network("security-group")

    def config_route_table(self, vpc: Any = None, internet_gateway: Any = None) -> str | None:
        return self._network("vpc-in-use")

    def spin_up_instance(self, command: str, job_name: str = "parsl.auto") -> str:
        return self.submit(command, 1, job_name)

    def _live(self) -> list[str]:
        return [iid for iid, job in list(self._jobs.items()) if not job.state.terminal and not job.cancelled]

    def shut_down_instance(self, instances: Sequence[str] | None = None) -> list[bool]:
        return self.cancel(list(instances) if instances is not None else self._live())

    def get_instance_state(self, instances: Sequence[str] | None = None) -> dict[str, JobState]:
        ids = list(instances) if instances is not None else list(self._jobs)
        return dict(zip(ids, self.status(ids), strict=True))

    def scale_in(self, size: int) -> list[str]:
        victims = self._live()[-size:] if size > 0 else []
        if victims:
            self.cancel(victims)
        return victims

    def show_summary(self) -> str:
        state = self.read_state_file()
        summary = f"EC2 provider {self.label}: {self.current_capacity} live instance(s), state file {self.state_file} lists {len(state.get('instances') or {})}"
        logger.info("%s", summary)
        return summary

    def read_configs(self, config_file: str) -> dict[str, Any]:
        with open(os.path.expanduser(config_file)) as f:
            data = json.load(f)
        if not isinstance(data, dict):
            raise ValueError(f"{config_file} does not hold a JSON object")
        return data

    def pretty_configs(self, configs: Any) -> str:
        text = json.dumps(configs, indent=2, sort_keys=True, default=str)
        logger.info("%s", text)
        return text
