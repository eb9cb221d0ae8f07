"""Globus staging: ``globus://ENDPOINT/path`` files moved by the Globus Transfer service.

::

    stage in:  globus://SRC/path ─▶ TransferData(SRC ─▶ endpoint_name) submitted with a
               submission id ─▶ task_wait(timeout) ─▶ SUCCEEDED: the file is in the working dir
                                                   ─▶ FAILED / timeout (task cancelled):
                                                      StagingError with Globus's own message
    stage out: the same, from endpoint_name to the File's endpoint

The transfer is submitted from the script's side whatever the executor: the endpoint named by
``endpoint_name`` is the one that sees the executor's working directory. A path there is
mapped from the local filesystem: ``endpoint_path + relpath(local, local_path)`` (0.5.0's
``data.globus`` block, or ``GlobusStaging(...)`` in an executor's ``storage_access``).
"""
from __future__ import annotations

import contextlib
import os
import posixpath
import threading
from typing import Any, ClassVar, Mapping

import globus_sdk

from parsl.data_provider.errors import StagingError
from parsl.data_provider.files import File
from parsl.data_provider.transfer import TransferStaging

from .globus_auth import GlobusLoginNeeded, transfer_authorizer


class GlobusStaging(TransferStaging):
    """Stage ``globus://`` files in and out with globus-sdk's TransferClient.

    Args:
        endpoint_name: the UUID (or ``go#ep1``-style name) of the Globus endpoint that sees
            the executor's working directory (``endpoint_uuid`` is upstream's name for it).
        endpoint_path / local_path: the same directory as Globus sees it and as the apps see
            it (default: the same path).
        timeout: seconds to wait for one transfer; then it is cancelled and fails.
        polling_interval: seconds between status polls (Globus allows no less than 1).
        token_file: the file ``parsl globus login`` wrote (default: ~/.parsl/globus-tokens.json).
    """

    schemes: ClassVar[tuple[str, ...]] = ("globus",)
    can_push: ClassVar[bool] = True
    in_task: ClassVar[bool] = False

    def __init__(
        self,
        endpoint_name: str | None = None,
        endpoint_path: str | None = None,
        local_path: str | None = None,
        *,
        endpoint_uuid: str | None = None,
        timeout: int = 6 * 3600,
        polling_interval: int = 5,
        token_file: str | None = None,
    ) -> None:
        if endpoint_name and endpoint_uuid and endpoint_name != endpoint_uuid:
            raise ValueError("give endpoint_name or endpoint_uuid (the same thing), not two different endpoints")
        if (endpoint_path is None) != (local_path is None):
            raise ValueError("endpoint_path and local_path go together: give both (the same directory as Globus and as your apps see it) or neither")
        self.endpoint_name = endpoint_name or endpoint_uuid
        self.endpoint_path = endpoint_path
        self.local_path = local_path
        self.timeout = int(timeout)
        self.polling_interval = max(1, int(polling_interval))
        self.token_file = token_file
        self._client: globus_sdk.TransferClient | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_site_data(cls, data: Mapping[str, Any]) -> GlobusStaging:
        g = data.get("globus") or {}
        return cls(g.get("endpoint_name"), g.get("endpoint_path"), g.get("local_path"))

    def __repr__(self) -> str:
        return f"GlobusStaging(endpoint_name={self.endpoint_name!r}, endpoint_path={self.endpoint_path!r}, local_path={self.local_path!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_client": None, "_lock": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state, _lock=threading.Lock())

    # -- paths -------------------------------------------------------------------------------

    def endpoint_path_of(self, local: str) -> str:
        """Where the local path ``local`` is, as the endpoint ``endpoint_name`` sees it."""
        local = os.path.abspath(local)
        if self.local_path is None or self.endpoint_path is None:
            return local
        rel = os.path.relpath(local, os.path.abspath(self.local_path))
        if rel == ".." or rel.startswith(".." + os.sep):
            raise ValueError(f"{local} is outside local_path {self.local_path!r}, so endpoint {self.endpoint_name} cannot reach it")
        return posixpath.normpath(posixpath.join(self.endpoint_path, rel.replace(os.sep, "/")))

    # -- transfers ---------------------------------------------------------------------------

    def fetch(self, file: File, local_path: str) -> None:
        self._transfer(file, "in", (file.netloc, file.path), (self._endpoint(file, "in"), self._mapped(file, "in", local_path)))

    def push(self, local_path: str, file: File) -> None:
        self._transfer(file, "out", (self._endpoint(file, "out"), self._mapped(file, "out", local_path)), (file.netloc, file.path))

    def _endpoint(self, file: File, direction: str) -> str:
        if not self.endpoint_name:
            raise StagingError(
                file.url, direction,
                "no Globus endpoint for this executor: set data.globus.endpoint_name on its site, or "
                "storage_access=[GlobusStaging(endpoint_name=...)] on the executor",
            )
        return self.endpoint_name

    def _mapped(self, file: File, direction: str, local: str) -> str:
        try:
            return self.endpoint_path_of(local)
        except ValueError as e:
            raise StagingError(file.url, direction, str(e)) from None

    def transfer_client(self) -> globus_sdk.TransferClient:
        with self._lock:
            if self._client is None:
                self._client = globus_sdk.TransferClient(authorizer=transfer_authorizer(self.token_file), app_name="parsl")
            return self._client

    def _transfer(self, file: File, direction: str, src: tuple[str, str], dst: tuple[str, str]) -> None:
        try:
            tc = self.transfer_client()
            submission_id = tc.get_submission_id()["value"]
            data = globus_sdk.TransferData(
                src[0], dst[0], label=f"parsl stage {direction} {file.filename}"[:128], submission_id=submission_id, verify_checksum=True
            )
            data.add_item(src[1], dst[1])
            task_id = tc.submit_transfer(data)["task_id"]
        except GlobusLoginNeeded as e:
            raise StagingError(file.url, direction, str(e)) from None
        except globus_sdk.GlobusAPIError as e:
            raise StagingError(file.url, direction, f"Globus refused the transfer: {e.code}: {e.message}") from None
        except globus_sdk.NetworkError as e:
            raise StagingError(file.url, direction, f"cannot reach Globus: {e}") from None
        try:
            finished = tc.task_wait(task_id, timeout=self.timeout, polling_interval=self.polling_interval)
            task = tc.get_task(task_id)
        except globus_sdk.GlobusAPIError as e:
            raise StagingError(file.url, direction, f"Globus task {task_id}: {e.code}: {e.message}") from None
        if not finished:
            with contextlib.suppress(globus_sdk.GlobusError):
                tc.cancel_task(task_id)
            raise StagingError(
                file.url, direction,
                f"Globus task {task_id} did not finish within {self.timeout} s (status {task['status']}, {task.get('nice_status')}); it was cancelled",
            )
        if task["status"] != "SUCCEEDED":
            raise StagingError(file.url, direction, f"Globus task {task_id} {task['status']}: {_globus_reason(task)}")


def _globus_reason(task: Any) -> str:
    fatal = task.get("fatal_error") or {}
    return fatal.get("description") or task.get("nice_status_details") or task.get("nice_status") or "no reason given"
