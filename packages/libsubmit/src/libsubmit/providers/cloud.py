"""What the cloud providers (EC2, Google Compute Engine, Azure, Jetstream/OpenStack) share: one
instance per block, started with user data that runs the executor's workers and then halts the
instance, and a state file that records every resource so nothing is left to cost money.

::

    submit(cmd) ─▶ prepare() (once): read the state file, terminate instances an earlier
                   driver left, find or create the network (recorded before it is used)
                ─▶ user_data(name, cmd)  (pure: launcher + walltime guard + halt; golden-tested)
                ─▶ _start_instance(name, user data) ─▶ instance id ─▶ state file ─▶ job id
    status(ids) ─▶ _instance_states(ids) ─▶ JobState per id; an instance that halted or is gone
                   is terminal (COMPLETED, or CANCELLED once we cancelled it); a terminal
                   instance is deleted (it stays in the state file until teardown)
    cancel(ids) ─▶ _terminate(ids) ─▶ [True...] or [False...] (the cloud refused)
    teardown()  ─▶ terminate every recorded instance, wait until they are gone, delete the
                   network resources this provider created (newest first), remove the file

The instance halts itself when its workers exit or its walltime is up, so a driver that dies
leaves at worst instances that stop within the walltime; the next run (or ``teardown()``)
deletes them from the state file. Every cloud call goes through :meth:`_api`, which turns the
SDK's exceptions into :class:`~libsubmit.error.CloudAPIError` with the cloud's own code and
message. Credentials live in ``self._auth`` only: never in a repr, a log line or an error.
"""
from __future__ import annotations

import contextlib
import itertools
import logging
import os
import re
import shlex
import threading
import time
from abc import abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.interfaces import Channel, JobState, SiteSpec, parse_walltime, reject_unknown_keys

from ..channels.local.local import LocalChannel
from ..error import CloudAPIError
from .base import BlockProvider, validate_job_name
from .cloud_state import CloudState
from .private_files import env_exports

__all__ = ["CloudProvider"]

logger = logging.getLogger(__name__)
_counter = itertools.count(1)


@dataclass
class _Instance:
    name: str
    state: JobState = JobState.PENDING
    cancelled: bool = False


class CloudProvider(BlockProvider):
    """Base of the cloud providers. Keywords beside the block shape and the cloud's options:

    ``auth``: the cloud's credentials (a dict; the 0.5.0 site's ``auth`` section is read too);
    ``state_file``: where the resources are recorded (default
    ``runinfo/<label>.<provider>-state.json`` under the working directory, mode 0600);
    ``endpoint_url``: the API endpoint, for private clouds and emulators.
    """

    #: the Python module of the cloud's SDK and the libsubmit extra that installs it
    sdk_module: ClassVar[str]
    extra: ClassVar[str]
    #: further modules of the same extra, checked at construction too
    also_needs: ClassVar[tuple[str, ...]] = ()
    #: the keys the ``auth`` section may hold
    auth_keys: ClassVar[frozenset[str]] = frozenset()
    #: options that must be given
    required_options: ClassVar[frozenset[str]] = frozenset()
    #: whether a deleted instance stays listed as terminated (EC2: for about an hour); on the
    #: other clouds teardown waits until the instance is not found, since a halted VM that is
    #: still being deleted holds its network interface
    deleted_instances_linger: ClassVar[bool] = False
    #: how long teardown waits for instances to go
    teardown_timeout: float = 300.0
    poll_interval: float = 1.0

    def __init__(
        self,
        config: Mapping[str, Any] | SiteSpec | None = None,
        channel: Channel | None = None,
        *,
        auth: Mapping[str, Any] | None = None,
        state_file: str | None = None,
        endpoint_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        # a cloud needs no channel (0.5.0: "A channel is not required"); the site's auth
        # section holds credentials, so no channel is built from it
        super().__init__(config, channel if channel is not None else LocalChannel(), **kwargs)
        where = f"{self.site.path}.auth" if self.site else f"{type(self).__name__}.auth"
        merged = {k: v for k, v in (self.site.auth if self.site else {}).items() if k != "channel" and v is not None}
        merged.update({k: v for k, v in (auth or {}).items() if v is not None})
        reject_unknown_keys(merged, self.auth_keys, where, owner=f"the {self.name} provider")
        self._auth: dict[str, Any] = merged
        for key in sorted(self.required_options - set(self.options)):
            raise ConfigurationError(f"the {self.name} provider needs the option {key!r}", self.option_where(key))
        self.endpoint_url = endpoint_url
        self.state_file = os.path.abspath(state_file or os.path.join("runinfo", f"{self.label}.{self.name}-state.json"))
        self.walltime = parse_walltime(self.shape.walltime)
        feature = f"the {self.name} provider"
        self._sdk = plugins.require(self.sdk_module, feature=feature, distribution="libsubmit", extra=self.extra)
        for module in self.also_needs:
            plugins.require(module, feature=feature, distribution="libsubmit", extra=self.extra)
        self._jobs: dict[str, _Instance] = {}
        self._lock = threading.RLock()
        self._state: CloudState | None = None

    @classmethod
    def from_site(cls, site: SiteSpec) -> CloudProvider:  # type: ignore[override]
        return cls(config=site)

    def option_where(self, key: str) -> str:
        return f"{self.site.path}.execution.block.options.{key}" if self.site else f"{type(self).__name__}.{key}"

    @property
    def channels_required(self) -> bool:
        return False

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in sorted(self.options.items()))
        return f"{type(self).__name__}(label={self.label!r}, {shown}, state_file={self.state_file!r})"

    # ---- what each cloud defines ------------------------------------------------------------
    @abstractmethod
    def _connect(self) -> None:
        """Build the SDK clients from ``self._auth`` (no call over the network needed)."""

    def _untracked_leftovers(self, state: CloudState) -> list[str]:
        """Instances of this state file's runs that the file does not list (a driver killed
        between the cloud's answer and the write); clouds with tags find them by the state
        token. Called once per session, before anything new is started."""
        return []

    def _ensure_network(self, state: CloudState) -> None:
        """Find (reuse) or create the network resources blocks need, recording each one in
        ``state`` as soon as it exists."""

    @abstractmethod
    def _start_instance(self, name: str, user_data: str) -> str:
        """Start one instance running ``user_data``; return its id."""

    @abstractmethod
    def _instance_states(self, ids: Sequence[str]) -> dict[str, JobState | None]:
        """The state of each instance; ``None`` for one the cloud no longer knows.
        A halted instance is COMPLETED."""

    @abstractmethod
    def _terminate(self, ids: Sequence[str]) -> None:
        """Delete the instances (ids already gone are not an error)."""

    def _delete_network(self, state: CloudState) -> None:
        """Delete the network resources recorded in ``state`` that this provider created."""

    @abstractmethod
    def _error_details(self, exc: BaseException) -> tuple[str, str] | None:
        """The cloud's error code and message if ``exc`` is an error the cloud answered."""

    # ---- helpers for subclasses -------------------------------------------------------------
    @contextlib.contextmanager
    def _api(self, operation: str) -> Iterator[None]:
        """Turn the SDK's errors raised inside into :class:`CloudAPIError`."""
        try:
            yield
        except CloudAPIError:
            raise
        except Exception as e:
            details = self._error_details(e)
            if details is None:
                raise
            raise CloudAPIError(self.name, operation, details[0], details[1]) from e

    def instance_name(self, job_name: str) -> str:
        """A name every cloud accepts (lower case, digits, '-'; at most 63 characters) that is
        unique to this provider's state file."""
        base = re.sub(r"[^a-z0-9-]+", "-", job_name.lower()).strip("-") or "block"
        token = self.state.token[:6]
        suffix = f"-{token}-{os.getpid()}-{next(_counter)}"
        return ("parsl-" + base)[: 63 - len(suffix)].rstrip("-") + suffix

    def user_data(self, name: str, cmd_string: str, env: Mapping[str, str] | None = None) -> str:
        """The script the instance runs at boot (pure): ``env`` exported, the launcher-wrapped
        workers bounded by the walltime, then a halt, so an instance never outlives its
        block. (``env`` is exported here, not inside the ``bash -c`` argument, so it stays off
        command lines; user data itself is readable through the instance's metadata.)"""
        launch = self.launch_command(cmd_string)
        return (
            "#!/bin/bash\n"
            f"# parsl block {name} ({self.name} provider, label {self.label}): run the workers for at most\n"
            f"# the walltime ({self.shape.walltime}), then halt; the provider deletes a halted instance.\n"
            f"export PARSL_BLOCK_NAME={shlex.quote(name)}\n"
            + env_exports(env) +
            'cd "${TMPDIR:-/tmp}"\n'
            f"timeout --kill-after=30 {self.walltime} /bin/bash -c {shlex.quote(launch)}\n"
            'echo "parsl block $PARSL_BLOCK_NAME: workers exited with status $?"\n'
            "shutdown -h now\n"
        )

    @property
    def state(self) -> CloudState:
        with self._lock:
            if self._state is None:
                self._state = CloudState(self.state_file, self.name, self.label)
            return self._state

    # ---- the life-cycle ---------------------------------------------------------------------
    _prepared = False

    _connected = False
    _swept = False

    def prepare(self, network: bool = True) -> CloudState:
        """Connect, delete the instances an earlier driver left (once per provider object,
        before it starts any: later, an unrecorded instance may be one being started) and
        (unless ``network`` is false) find or create the network."""
        with self._lock:
            state = self.state
            if self._prepared:
                return state
            if not self._connected:
                self._connect()
                self._connected = True
            if not self._swept:
                self._sweep(state)
                self._swept = True
            if network:
                with self._api("set up the network"):
                    self._ensure_network(state)
                self._prepared = True
            return state

    def _sweep(self, state: CloudState) -> None:
        with self._api("look for leftover instances"):
            untracked = self._untracked_leftovers(state)
        for iid in untracked:
            state.add_instance(iid, "(unrecorded)", session="")
        leftovers = state.leftovers()
        if leftovers:
            logger.warning("%s provider %s: deleting %d instance(s) an earlier run left: %s", self.name, self.label, len(leftovers), ", ".join(leftovers))
            with self._api("delete leftover instances"):
                self._terminate(leftovers)
            state.adopt(leftovers)  # ours now: teardown waits until they are gone

    def submit(self, cmd_string: str, blocksize: int, job_name: str = "parsl.auto", *, env: Mapping[str, str] | None = None) -> str:
        """Start one instance whose user data exports ``env`` and runs ``cmd_string``
        through the launcher; return the instance id. A refusal raises
        :class:`CloudAPIError`."""
        validate_job_name(job_name)
        state = self.prepare()
        name = self.instance_name(job_name)
        with self._api("start an instance"):
            iid = self._start_instance(name, self.user_data(name, cmd_string, env))
        state.add_instance(iid, name)
        with self._lock:
            self._jobs[iid] = _Instance(name)
        logger.info("%s provider %s: started instance %s (%s)", self.name, self.label, iid, name)
        return iid

    def status(self, job_ids: Sequence[str]) -> list[JobState]:
        """The state of each block; instances already seen terminal are not asked again."""
        ids = [str(j) for j in job_ids]
        with self._lock:
            ask = [j for j in dict.fromkeys(ids) if j in self._jobs and not self._jobs[j].state.terminal]
        if ask:
            with self._api("describe instances"):
                seen = self._instance_states(ask)
            ended = []
            with self._lock:
                for j in ask:
                    job = self._jobs[j]
                    state = seen.get(j)
                    if state is None or state.terminal:
                        state = JobState.CANCELLED if job.cancelled else (state or JobState.COMPLETED)
                        ended.append(j)
                    job.state = state
            if ended:
                self._forget(ended)
        with self._lock:
            return [self._jobs[j].state if j in self._jobs else JobState.UNKNOWN for j in ids]

    def _forget(self, ids: Sequence[str]) -> None:
        """Delete what is left of ended instances (a halted VM still holds disks or addresses
        on some clouds). They stay in the state file until teardown sees them gone."""
        try:
            with self._api("delete ended instances"):
                self._terminate(ids)
        except CloudAPIError as e:
            logger.warning("%s provider %s: could not delete ended instances %s: %s (teardown tries again)", self.name, self.label, ids, e)

    def cancel(self, job_ids: Sequence[str]) -> list[bool]:
        """Terminate the instances; all ``True`` if the cloud accepted, all ``False`` (and the
        error logged) otherwise."""
        ids = [str(j) for j in job_ids]
        if not ids:
            return []
        try:
            self.prepare(network=False)
            with self._api("terminate instances"):
                self._terminate(ids)
        except CloudAPIError as e:
            logger.error("%s provider %s: cancel of %s failed: %s", self.name, self.label, ids, e)
            return [False] * len(ids)
        with self._lock:
            for j in ids:
                if j in self._jobs:
                    self._jobs[j].cancelled = True
        return [True] * len(ids)

    @property
    def current_capacity(self) -> int:
        with self._lock:
            return sum(1 for j in self._jobs.values() if not j.state.terminal and not j.cancelled)

    def teardown(self) -> None:
        """Terminate every instance recorded in the state file (this run's and any an earlier
        run left), wait until they are gone, delete the network resources this provider
        created, and remove the state file."""
        state = self.prepare(network=False)  # also finds what an earlier run left unrecorded
        ids = list(state.instances)
        if ids:
            with self._api("terminate instances"):
                self._terminate(ids)
            deadline = time.monotonic() + self.teardown_timeout
            while True:
                with self._api("describe instances"):
                    seen = self._instance_states(ids)
                live = [i for i, st in seen.items() if st is not None and not (self.deleted_instances_linger and st.terminal)]
                if not live:
                    break
                if time.monotonic() > deadline:
                    raise CloudAPIError(self.name, "teardown", "Timeout", f"instances still not terminated after {self.teardown_timeout:.0f} s: {live}")
                time.sleep(self.poll_interval)
            with self._lock:
                for i in ids:
                    job = self._jobs.get(i)
                    if job is not None and not job.state.terminal:
                        job.cancelled = True
                        job.state = JobState.CANCELLED
            for i in ids:
                state.drop_instance(i)
        with self._api("delete network resources"):
            self._delete_network(state)
        state.save()
        with self._lock:
            self._prepared = False
