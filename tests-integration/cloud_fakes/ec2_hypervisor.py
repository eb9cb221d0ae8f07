"""A hypervisor stand-in for moto, which emulates the EC2 API but runs no VMs.

::

    poll thread (every 0.1 s), over the EC2 API like any client:
      describe_instances(running, tag parsl:label in labels) ─▶ new instance
          ─▶ describe_instance_attribute(userData) ─▶ LocalVM(user data).start()
      LocalVM halts ─▶ terminate_instances([id])   (InstanceInitiatedShutdownBehavior=terminate)
      instance seen terminated/shutting-down while its VM runs ─▶ LocalVM.kill()

Only instances tagged with one of ``labels`` are run, so tests sharing the server do not run
each other's instances.
"""
from __future__ import annotations

import base64
import threading
from pathlib import Path
from typing import Any

from .vm import LocalVM


class MotoHypervisor:
    def __init__(self, client: Any, labels: set[str], workdir: Path) -> None:
        self.client = client
        self.labels = labels
        self.workdir = Path(workdir)
        self.vms: dict[str, LocalVM] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="moto-hypervisor", daemon=True)

    def __enter__(self) -> MotoHypervisor:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        for vm in list(self.vms.values()):
            vm.kill()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            try:
                self._tick()
            except Exception as e:  # moto busy or restarting: try again on the next tick
                print(f"moto hypervisor: {type(e).__name__}: {e}")

    def _tick(self) -> None:
        filters = [{"Name": "tag:parsl:label", "Values": sorted(self.labels)}]
        for reservation in self.client.describe_instances(Filters=filters)["Reservations"]:
            for inst in reservation["Instances"]:
                iid, state = inst["InstanceId"], inst["State"]["Name"]
                vm = self.vms.get(iid)
                if state == "running" and vm is None:
                    data = self.client.describe_instance_attribute(InstanceId=iid, Attribute="userData").get("UserData", {}).get("Value")
                    script = base64.b64decode(data).decode() if data else "#!/bin/bash\n"
                    self.vms[iid] = LocalVM(iid, script, self.workdir, on_halt=lambda rc, iid=iid: self._halted(iid)).start()
                elif state in ("shutting-down", "terminated", "stopping", "stopped") and vm is not None and vm.running:
                    vm.kill()

    def _halted(self, iid: str) -> None:
        try:
            self.client.terminate_instances(InstanceIds=[iid])
        except Exception as e:
            print(f"moto hypervisor: terminating {iid} after it halted failed: {e}")
