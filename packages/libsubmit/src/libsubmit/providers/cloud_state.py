"""The state file of a cloud provider: every resource it created, written before and after each
change, so that a driver killed at any point leaves a record that the next run reads to reuse
or clean what is left.

The file is JSON, mode 0600 (it names account resources), replaced atomically (write a
temporary file in the same directory, fsync, rename): a crash leaves the old or the new copy,
never half of one. Layout::

    {"provider": "aws", "label": "ec2", "token": "<random>",
     "resources": [{"kind": "vpc", "id": "vpc-1", "created": true}, ...],   # creation order
     "instances": {"i-1": {"name": "parsl.auto.1", "session": "<random>"}}}

``token`` tags every resource in the cloud (where the cloud has tags) so a resource created
just before the driver died, and not yet recorded, is still found by the next run.
"""
from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from typing import Any

__all__ = ["CloudState"]


class CloudState:
    """One provider's state file. Thread-safe; every mutation is written through."""

    def __init__(self, path: str, provider: str, label: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self._lock = threading.RLock()
        self.session = secrets.token_hex(8)
        data: dict[str, Any] = {}
        if os.path.exists(self.path):
            with open(self.path) as f:
                try:
                    data = json.load(f)
                except ValueError as e:
                    raise ValueError(f"the cloud state file {self.path} is not valid JSON ({e}); move it away if it is not a provider's") from None
            if data.get("provider") not in (None, provider):
                raise ValueError(f"the state file {self.path} belongs to the {data.get('provider')!r} provider, not {provider!r}: give each provider its own state_file")
        self.provider = provider
        self.label = label
        self.token: str = data.get("token") or secrets.token_hex(8)
        self.resources: list[dict[str, Any]] = list(data.get("resources") or [])
        self.instances: dict[str, dict[str, Any]] = dict(data.get("instances") or {})

    # ---- queries -----------------------------------------------------------------------------
    def resource(self, kind: str) -> dict[str, Any] | None:
        with self._lock:
            for r in self.resources:
                if r["kind"] == kind:
                    return dict(r)
        return None

    def leftovers(self) -> list[str]:
        """Instances recorded by an earlier session (a driver that did not tear down)."""
        with self._lock:
            return [i for i, rec in self.instances.items() if rec.get("session") != self.session]

    @property
    def empty(self) -> bool:
        with self._lock:
            return not self.resources and not self.instances

    # ---- changes (each one written through) -------------------------------------------------
    def add_resource(self, kind: str, rid: str, created: bool, **extra: Any) -> None:
        with self._lock:
            self.resources = [r for r in self.resources if r["kind"] != kind]
            self.resources.append({"kind": kind, "id": rid, "created": created, **extra})
            self.save()

    def drop_resource(self, kind: str) -> None:
        with self._lock:
            self.resources = [r for r in self.resources if r["kind"] != kind]
            self.save()

    def add_instance(self, iid: str, name: str, **extra: Any) -> None:
        with self._lock:
            self.instances[iid] = {"name": name, "session": self.session, **extra}
            self.save()

    def adopt(self, ids: list[str]) -> None:
        """Take over instances an earlier session recorded (after deleting them)."""
        with self._lock:
            for iid in ids:
                if iid in self.instances:
                    self.instances[iid] = dict(self.instances[iid], session=self.session, deleting=True)
            self.save()

    def drop_instance(self, iid: str) -> None:
        with self._lock:
            if self.instances.pop(iid, None) is not None:
                self.save()

    def save(self) -> None:
        """Write the file atomically (0600), or remove it once nothing is recorded."""
        with self._lock:
            if not self.resources and not self.instances:
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
                return
            text = json.dumps(
                {"provider": self.provider, "label": self.label, "token": self.token, "resources": self.resources, "instances": self.instances},
                indent=1,
                sort_keys=True,
            )
            directory = os.path.dirname(self.path)
            os.makedirs(directory, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".state-", dir=directory)  # mkstemp creates it 0600
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
