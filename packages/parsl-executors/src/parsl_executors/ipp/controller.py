"""The IPython Parallel controller an :class:`~parsl_executors.ipp.IPyParallelExecutor` uses.

::

    Controller.for_run(settings) ─▶ from the workflow's controller settings, or the user's
                                    `ipcluster start` cluster (no settings, no provider)
    Controller.heartbeat(period, threshold) ─▶ engine heartbeats and allowed misses
    Controller.start(work_dir)
        reuse? ── yes ─▶ connection files of an existing profile (left running at close)
          │ no
          ▼
        guard ─▶ ipcontroller --ip=<publicIp or 127.0.0.1> --profile-dir=<work_dir>/profile
          └─▶ waits for security/ipcontroller-{engine,client}.json  (bounded)
    Controller.connect(ipyparallel) ─▶ a client (a bounded wait for a user's cluster)
    Controller.close() ─▶ SIGTERM, then SIGKILL, to the controller's process group

Built from the 0.5.0 ``controller`` block: ``publicIp``, ``port``, ``portRange``, ``reuse``,
``profile``, ``ipythonDir`` (``mode`` is accepted and ignored), plus ``allowRemote`` and
``encrypted``.

Binding beyond loopback is an explicit opt-in: a ``publicIp`` that is not a loopback address
(``0.0.0.0``, a cluster address, a host name) needs ``allowRemote: True``; the controller then
logs a WARNING naming the exposure and, unless ``encrypted: False``, encrypts and
authenticates its traffic with CurveZMQ.
"""
from __future__ import annotations

import ipaddress
import logging
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import IO, Any, Mapping

from parsl.errors import ConfigurationError
from parsl.executors.errors import ControllerErr

logger = logging.getLogger(__name__)

#: seconds to wait for a running cluster's controller to answer before giving up
ATTACH_TIMEOUT = 15.0


def default_ipython_dir() -> str:
    """Where IPython keeps its profiles: ``$IPYTHONDIR``, else ``~/.ipython``."""
    return os.environ.get("IPYTHONDIR") or "~/.ipython"


class ControllerError(ControllerErr):
    """The controller could not be started or found (a 0.5.0 ``ControllerErr``)."""


@dataclass
class Controller:
    """Where the controller runs and how to reach it.

    Args:
        public_ip: address the controller binds and engines connect to (default 127.0.0.1;
            set it to an address the compute nodes can reach).
        port / port_range: a fixed registration port, or ``"low,high"`` for every port.
        reuse: connect to a running controller of ``profile`` (in ``ipython_dir``) instead of
            starting one; it is left running at :meth:`close`.
        profile / ipython_dir: where a reused controller's connection files are.
        heartbeat_ms / heartbeat_misses: engine heartbeat period and the missed beats after
            which an engine counts as dead (so a killed engine's task fails ~5 s later).
        start_timeout: seconds to wait for the controller's connection files.
        allow_remote: required (``True``) for a ``public_ip`` that is not a loopback
            address: it lets every host that can reach this machine connect.
        encrypted: CurveZMQ encryption and authentication of the controller's traffic;
            default on when bound beyond loopback, off on loopback (where the HMAC-signed
            messages never leave the machine).
    """

    public_ip: str = "127.0.0.1"
    port: int | None = None
    port_range: str | None = None
    reuse: bool = False
    profile: str = "default"
    ipython_dir: str = "~/.ipython"
    heartbeat_ms: int = 1000
    heartbeat_misses: int = 4
    start_timeout: float = 60.0
    extra_args: tuple[str, ...] = ()
    #: attached to a cluster the user started (no provider): its absence gets the ipcluster hint
    attach: bool = False
    allow_remote: bool = False
    encrypted: bool | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)
    profile_dir: str | None = field(default=None, init=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Controller:
        """From a 0.5.0 ``controller`` block."""
        d = dict(d or {})
        ip = d.get("publicIp") or "127.0.0.1"
        if ip == "*":
            raise ConfigurationError("'*' is no longer accepted (since 0.4.0); give an IP address or leave it out for 127.0.0.1", "controller.publicIp")
        return cls(
            public_ip=ip,
            port=d.get("port"),
            port_range=d.get("portRange"),
            reuse=bool(d.get("reuse", False)),
            profile=d.get("profile") or "default",
            ipython_dir=d.get("ipythonDir") or default_ipython_dir(),
            allow_remote=bool(d.get("allowRemote", False)),
            encrypted=d.get("encrypted"),
        )

    @classmethod
    def running_cluster(cls) -> Controller:
        """The controller of the cluster a user started with ``ipcluster start`` (default
        profile, in ``$IPYTHONDIR`` or ``~/.ipython``), as 0.5.0 attached to it."""
        return cls(reuse=True, ipython_dir=default_ipython_dir(), attach=True)

    @classmethod
    def for_run(cls, settings: Mapping[str, Any] | None, has_provider: bool, reuse: bool = True) -> Controller:
        """The controller of an executor that was given none: from the workflow's
        ``controller`` settings; with neither settings nor a provider to start engines with
        (and ``reuse`` allowed), the user's ``ipcluster start`` cluster, as 0.5.0 did."""
        if not has_provider and not settings and reuse:
            return cls.running_cluster()
        return cls.from_dict(settings)

    def heartbeat(self, period: float, threshold: float) -> None:
        """Beat every ``period`` seconds, and unregister an engine silent for ``threshold``."""
        self.heartbeat_ms = int(period * 1000)
        # an engine that dies just after answering a ping is missed at the next beat and
        # unregistered when the misses exceed the allowance: (misses + 2) periods at worst
        self.heartbeat_misses = max(0, math.ceil(threshold / period) - 2)

    def __post_init__(self) -> None:
        if not self.reuse and not self.loopback and not self.allow_remote:
            raise ConfigurationError(
                f"{self.public_ip!r} is not a loopback address: the controller would accept connections from every host "
                "that can reach this machine. Set controller.allowRemote: True (Controller(allow_remote=True)) to confirm "
                "that engines on other nodes must connect, or leave publicIp out to stay on 127.0.0.1",
                "controller.publicIp",
            )

    @property
    def loopback(self) -> bool:
        """Whether the controller is reachable from this machine only."""
        if self.public_ip == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.public_ip).is_loopback
        except ValueError:
            return False

    @property
    def curve(self) -> bool:
        return self.encrypted if self.encrypted is not None else not self.loopback

    @property
    def started_here(self) -> bool:
        return self.proc is not None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def security_dir(self) -> str:
        if self.profile_dir is None:
            raise ControllerError("the controller has not been started")
        return os.path.join(self.profile_dir, "security")

    @property
    def engine_file(self) -> str:
        return os.path.join(self.security_dir(), "ipcontroller-engine.json")

    @property
    def client_file(self) -> str:
        return os.path.join(self.security_dir(), "ipcontroller-client.json")

    def start(self, work_dir: str) -> None:
        """Start a controller under ``work_dir`` (or locate the reused one)."""
        if self.reuse:
            self.profile_dir = os.path.join(os.path.expanduser(self.ipython_dir), f"profile_{self.profile}")
            if not os.path.exists(self.client_file) and self.attach:
                raise ControllerError(self.no_cluster_message(f"there is no {self.client_file}"))
            if not os.path.exists(self.client_file):
                raise ControllerError(
                    f"controller.reuse is set but there is no running controller's {self.client_file}; "
                    f"start one with `ipcontroller --profile={self.profile}` or drop 'reuse'"
                )
            return
        self.profile_dir = os.path.join(work_dir, "profile")
        sec = self.security_dir()
        os.makedirs(sec, exist_ok=True)
        for name in ("ipcontroller-engine.json", "ipcontroller-client.json"):
            try:
                os.remove(os.path.join(sec, name))
            except FileNotFoundError:
                pass
        cmd = [
            # the guard ends the controller if this process dies without cleaning up
            sys.executable, "-m", "parsl_executors.ipp.guard", str(os.getpid()), "--",
            sys.executable, "-m", "ipyparallel.controller",
            f"--ip={self.public_ip}",
            f"--profile-dir={self.profile_dir}",
            f"--HeartMonitor.period={self.heartbeat_ms}",
            f"--HeartMonitor.max_heartmonitor_misses={self.heartbeat_misses}",
            "--log-level=WARN",
        ]
        if self.port:
            cmd.append(f"--IPController.regport={self.port}")
        if self.port_range:
            lo, _, hi = str(self.port_range).partition(",")
            cmd.append(f"--IPController.ports={lo.strip()}-{hi.strip()}" if hi else f"--IPController.ports={lo.strip()}")
        if self.curve:
            cmd.append("--IPController.enable_curve=True")
        cmd.extend(self.extra_args)
        if not self.loopback:
            logger.warning(
                "the ipp controller listens on %s, beyond loopback (controller.allowRemote): any host that can reach this "
                "machine can connect to its ports; %s",
                self.public_ip,
                "traffic is encrypted and authenticated with CurveZMQ" if self.curve
                else "traffic is NOT encrypted (encrypted: False): messages are only signed with the run's key and can be read on the network",
            )
        log: IO[bytes] = open(os.path.join(work_dir, "controller.log"), "ab")
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)
        finally:
            log.close()
        deadline = time.monotonic() + self.start_timeout
        while not (os.path.exists(self.engine_file) and os.path.exists(self.client_file)):
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise ControllerError(f"ipcontroller exited with code {rc} before it was ready; see {work_dir}/controller.log")
            if time.monotonic() > deadline:
                self.close()
                raise ControllerError(f"ipcontroller did not write its connection files within {self.start_timeout:.0f} s; see {work_dir}/controller.log")
            time.sleep(0.05)
        # the files are written in one go, but give the writer a moment to close them
        time.sleep(0.05)
        logger.info("ipcontroller started (pid %d) on %s, profile %s", self.proc.pid, self.public_ip, self.profile_dir)

    def connect(self, ipp: Any) -> Any:
        """An ``ipyparallel.Client`` of this started controller (``ipp``: the ipyparallel module)."""
        if not self.attach:
            return ipp.Client(self.client_file, timeout=30)
        try:
            return ipp.Client(self.client_file, timeout=ATTACH_TIMEOUT)
        except Exception as e:  # a connection file left behind by a cluster that is gone
            raise ControllerError(self.no_cluster_message(f"its controller did not answer within {ATTACH_TIMEOUT:.0f} s ({type(e).__name__}: {e})")) from e

    def no_cluster_message(self, why: str) -> str:
        return (
            f"IPyParallelExecutor has no execution_provider, so it attaches to a running IPython cluster "
            f"(profile {self.profile!r} in {self.ipython_dir}), but none is running: {why}. "
            f"Start one with `ipcluster start -n 4 --profile={self.profile}` (IPYTHONDIR selects its directory), "
            "or give the executor an execution_provider (e.g. libsubmit's Local) to start its own engines"
        )

    def close(self, timeout: float = 10.0) -> None:
        """Stop a controller started here (a reused one is left alone). Idempotent."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout)
                break
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything the controller left in its group
        except ProcessLookupError:
            pass
        logger.info("ipcontroller (pid %d) stopped", proc.pid)
