"""The Turbine executor: tasks run by the MPI ranks of provider blocks, rank 0 of each block
handing them to the other ranks as they ask (the seeds' Swift/T model, §3.6.2 and §6.5.7).

::

    submit(func, *a, **kw) ─ cloudpickle ─▶ {task_id, buffer} ─▶ Hub ══ HMAC-framed TCP (127.0.0.1) ══▶ rank 0 ─MPI─▶ rank k
    Future ◀── result / exception / WorkerLost / RankZeroLost ◀─ Hub ◀══ {task_id, result|exception} ══╛

    start(context) ─▶ key (0600 file) + Hub listening ─▶ initBlocks x provider.submit(rank command, taskBlocks)
                   ─▶ FlowControl ──▶ Strategy ──▶ scale_out(n) / scale_in(n)
    shutdown()     ─▶ rank 0s told to stop ─▶ blocks cancelled ─▶ waiting futures fail with ExecutorShutdown

A block of ``taskBlocks`` ranks (times ``nodes``) has one dispatcher (rank 0) and the rest run
tasks. Providers are reached only through :class:`parsl.interfaces.ExecutionProvider`.
"""
from __future__ import annotations

import dataclasses
import itertools
import logging
import os
import pickle
import shlex
import sys
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Mapping

import cloudpickle

from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.executors.errors import ExecutorError, ExecutorShutdown, ScalingFailed
from parsl.interfaces import BlockShape, ExecutionProvider, ExecutorContext, JobState, ParslExecutor, reject_unknown_keys
from parsl.interfaces.site import SiteSpec

from ..scaling import BlockAccessors, BlockScalable, BlockTable, FlowControl, FlowNoControl, ScalingPolicy, Strategy, Timer
from .errors import BlockFailed
from .hub import Hub
from .launch import mpi_launcher
from .mpi_apps import SPEC_KEYWORD, requested_spec
from .wire import KEY_ENV, new_key, read_key, write_key_file

logger = logging.getLogger(__name__)

#: the launcher a site gets when it names none, by provider
DEFAULT_LAUNCHERS = {"local": "mpiexec", "slurm": "srun"}
#: ``execution.options`` a 0.5.0 site may give this executor, with their types
SITE_OPTIONS: dict[str, type | tuple[type, ...]] = {
    "address": str,
    "port": int,
    "rank_command": str,
    "mpi_launcher": str,
    "mpi_options": str,
    "max_idletime": (int, float),
    "strategy_interval": (int, float),
    "strategy_threshold": int,
    "flow_control": bool,
}


class TurbineExecutor(BlockAccessors, ParslExecutor, BlockScalable):
    """The Turbine executor.

    Bypass the Swift/T language and run on top of MPI ranks in provider blocks: rank 0 of
    each block receives tasks from this executor and hands them to the other ranks as they
    ask for work.

    Args:
        swift_attribs: a dict of swift attribs (0.5.0: "for future"; accepted and unused).
        config: a 0.5.0 site dict (``site``, ``execution.provider``, ``execution.block``:
            ``taskBlocks`` is the number of MPI ranks per node of a block).
        execution_provider: where blocks come from; default: 4 ranks on this machine
            (libsubmit's local provider running ``mpiexec -n 4``).
        label: the site name apps refer to.
        shape: block shape and bounds; default: the provider's ``shape``.
        address / port: where the executor listens for its ranks (default ``127.0.0.1``, any
            free port); set ``address`` to an interface the compute nodes reach.
        rank_command: how a node starts a rank (default: this interpreter's
            ``-m parsl_executors.swift_t.rank``; the node needs ``parsl-executors[mpi]``).
        mpi_launcher: how MPI apps are launched: ``"auto"`` (srun inside Slurm, else
            mpiexec), ``"mpiexec"`` or ``"srun"``; ``mpi_options`` are added to every prefix.
        max_idletime, strategy_interval, strategy_threshold, flow_control: block scaling,
            as for the ipp executor.
        max_block_failures: blocks in a row that may end (or be refused) before their rank 0
            connected; then no more are started and waiting tasks fail with ``ScalingFailed``
            (the shared cap of :mod:`parsl_executors.scaling.failures`; default 3).
    """

    def __init__(
        self,
        swift_attribs: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        execution_provider: ExecutionProvider | None = None,
        label: str = "swift_t",
        shape: BlockShape | None = None,
        address: str = "127.0.0.1",
        port: int = 0,
        rank_command: str | None = None,
        mpi_launcher: str = "auto",
        mpi_options: str = "",
        max_idletime: float = 2.0,
        strategy_interval: float = 1.0,
        strategy_threshold: int = 20,
        flow_control: bool = True,
        max_block_failures: int = 3,
    ) -> None:
        if execution_provider is not None and not isinstance(execution_provider, ExecutionProvider):
            raise ConfigurationError(f"{execution_provider!r} is not an ExecutionProvider", "execution_provider")
        if mpi_launcher not in ("auto", "mpiexec", "srun"):
            raise ConfigurationError(f"must be 'auto', 'mpiexec' or 'srun', got {mpi_launcher!r}", "mpi_launcher")
        if config:
            from parsl.interfaces import site_from_dict

            raw = dict(config)
            raw.setdefault("site", label)
            execution = dict(raw.get("execution") or {})
            execution.setdefault("executor", "swift_t")
            raw["execution"] = execution
            site = site_from_dict(raw, "config")
            label = site.name
            shape = shape or site.block.shape
            if execution_provider is None and site.provider:
                execution_provider = _provider_for_site(site)
        self.swift_attribs = dict(swift_attribs or {})
        self.label = label
        self.execution_provider = execution_provider
        self.shape = shape or (execution_provider.shape if execution_provider is not None else BlockShape(tasks_per_node=4, init_blocks=1, min_blocks=1, max_blocks=1))
        tpn = self.shape.tasks_per_node
        if isinstance(tpn, str) and tpn.strip().isdigit():
            tpn = int(tpn)
        self.ranks_per_block: int | None = tpn * self.shape.nodes_per_block if isinstance(tpn, int) else None
        if self.ranks_per_block is not None and self.ranks_per_block < 2:
            raise ConfigurationError(
                f"a Turbine block needs at least 2 MPI ranks (rank 0 hands out tasks, the others run them), got {self.ranks_per_block}",
                "taskBlocks",
            )
        self._policy = dataclasses.replace(
            ScalingPolicy.from_shape(self.shape, max_idletime=max_idletime, max_block_failures=max_block_failures),
            tasks_per_block=max(1, (self.ranks_per_block or 2) - 1),
        )
        self.address = address
        self.port = port
        self.rank_command = rank_command or f"{shlex.quote(sys.executable)} -m parsl_executors.swift_t.rank"
        self.mpi_launcher = mpi_launcher
        self.mpi_options = mpi_options
        self.strategy_interval = strategy_interval
        self.strategy_threshold = strategy_threshold
        self.use_flow_control = flow_control

        self._lock = threading.Lock()
        self._futures: dict[int, Future[Any]] = {}
        self._ids = itertools.count()
        self._blocks = BlockTable(label)
        self._hub: Hub | None = None
        self._flow: FlowControl | FlowNoControl | None = None
        self.strategy: Strategy | None = None
        self.work_dir: str | None = None
        self.key_file: str | None = None
        self.launch_cmd: str | None = None
        self._started = False
        self.context: ExecutorContext | None = None
        self._shutdown = False

    @classmethod
    def from_site(cls, site: SiteSpec, controller: Mapping[str, Any]) -> TurbineExecutor:
        """Build the executor of a validated 0.5.0 site (``"executor": "swift_t"``)."""
        options = dict(site.execution.get("options") or {})
        where = f"{site.path}.execution.options"
        reject_unknown_keys(options, SITE_OPTIONS, where, owner="the swift_t executor")
        for key, value in options.items():
            kind = SITE_OPTIONS[key]
            if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
                raise ConfigurationError(f"expected {getattr(kind, '__name__', 'a number')}, got {value!r}", f"{where}.{key}")
        if "address" not in options and controller and controller.get("publicIp"):
            options["address"] = controller["publicIp"]
        provider = _provider_for_site(site) if site.provider else None
        return cls(execution_provider=provider, label=site.name, shape=site.block.shape, **options)

    def __repr__(self) -> str:
        return f"TurbineExecutor(label={self.label!r}, provider={type(self.execution_provider).__name__ if self.execution_provider else None}, ranks_per_block={self.ranks_per_block})"

    # -- life cycle ------------------------------------------------------------------------

    def start(self, context: ExecutorContext) -> None:
        """Write the run's key, listen for ranks, launch ``init_blocks`` and the strategy."""
        if self._started:
            raise RuntimeError(f"executor {self.label!r} was already started")
        self._started = True
        self.context = context
        self._blocks.monitor = context.monitor
        if self.rank_command.endswith("-m parsl_executors.swift_t.rank"):
            plugins.require("mpi4py", feature="the swift_t (Turbine) executor", distribution="parsl-executors", extra="mpi")
        self.work_dir = os.path.abspath(os.path.join(context.run_dir, self.label))
        os.makedirs(self.work_dir, exist_ok=True)
        try:
            if self.execution_provider is None:
                self.execution_provider = _default_provider(self.shape, os.path.join(self.work_dir, "blocks"))
            if os.environ.get(KEY_ENV):
                # the key the ranks will find in their environment (nodes without a shared file system)
                key = read_key(None)
                if len(key) < 16:
                    raise ConfigurationError(f"must be at least 16 bytes of hex (32 hex digits), got {len(key)} bytes", KEY_ENV)
            else:
                key = new_key()
                self.key_file = os.path.join(self.work_dir, "turbine.key")
                if os.path.exists(self.key_file):
                    os.unlink(self.key_file)
                write_key_file(self.key_file, key)
            self._hub = Hub(key, self.address, self.port, self.label, self._done, self._block_end, on_block_start=self._block_started)
            self._hub.start()
            self.launch_cmd = (
                f"{self.rank_command} --address {shlex.quote(self._hub.address)} --port {self._hub.port} "
                + (f"--key-file {shlex.quote(self.key_file)} " if self.key_file else "")
                + f"--work-dir {shlex.quote(os.path.join(self.work_dir, 'mpi'))} "
                f"--mpi-launcher {self.mpi_launcher}" + (f" --mpi-options {shlex.quote(self.mpi_options)}" if self.mpi_options else "")
            )
            if self._policy.init_blocks:
                self.scale_out(self._policy.init_blocks)
            self.strategy = Strategy([self])
            if self.use_flow_control and self.execution_provider.scaling_enabled:
                self._flow = FlowControl(self._tick, threshold=self.strategy_threshold, interval=self.strategy_interval, name=f"parsl-{self.label}-strategy")
            else:
                self._flow = Timer(lambda kind: self.held_blocks(), interval=self.strategy_interval, name=f"parsl-{self.label}-blocks")
        except BaseException:
            self.shutdown()
            raise

    # -- tasks -----------------------------------------------------------------------------

    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Send ``func(*args, **kwargs)`` to a rank; return its future. A call with
        ``parsl_resource_specification={"num_ranks": n, ...}`` is an MPI app."""
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        hub = self._hub
        if hub is None:
            raise RuntimeError(f"executor {self.label!r} has not been started")
        fut: Future[Any] = Future()
        msg: dict[str, Any] = {}
        try:
            spec = requested_spec(func, kwargs)
            if spec is not None:
                self._check_fits(spec.num_ranks, spec.num_nodes)
                msg["ranks"], msg["nodes"] = spec.num_ranks, spec.num_nodes
            msg["buffer"] = cloudpickle.dumps((func, args, kwargs))
        except Exception as e:
            fut.set_exception(e)
            return fut
        if hub.failed:
            fut.set_exception(ExecutorError(f"executor {self.label!r} cannot take tasks: its I/O thread has ended (see the log)"))
            return fut
        tid = next(self._ids)
        msg["task_id"] = tid
        with self._lock:
            self._futures[tid] = fut
        hub.submit(tid, msg)
        flow = self._flow
        if flow is not None:
            flow.notify()
        return fut

    def _check_fits(self, ranks: int, nodes: int) -> None:
        if self.ranks_per_block is not None and ranks > self.ranks_per_block:
            raise ConfigurationError(
                f"the MPI app asks for {ranks} ranks, but a block of executor {self.label!r} has {self.ranks_per_block} "
                "(taskBlocks x nodes): raise taskBlocks or ask for fewer ranks",
                f"{SPEC_KEYWORD}.num_ranks",
            )
        if nodes > self.shape.nodes_per_block:
            raise ConfigurationError(
                f"the MPI app asks for {nodes} nodes, but a block of executor {self.label!r} has {self.shape.nodes_per_block}",
                f"{SPEC_KEYWORD}.num_nodes",
            )

    def _done(self, task_id: int, kind: str, payload: Any) -> None:
        with self._lock:
            fut = self._futures.pop(task_id, None)
        if fut is None or fut.done():
            return
        try:
            if kind == "result":
                fut.set_result(pickle.loads(payload))
            elif kind == "exception":
                fut.set_exception(pickle.loads(payload).get_exception())
            else:
                fut.set_exception(payload)
        except Exception as e:  # a result that cannot be unpickled here
            if not fut.done():
                fut.set_exception(e)

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""
        return len(self._futures)

    def ranks(self) -> dict[tuple[str, int], tuple[str | None, int | None]]:
        """(block id, rank) → (host, pid) of every rank connected now."""
        hub = self._hub
        return hub.ranks() if hub is not None else {}

    def wait_for_ranks(self, n: int, timeout: float = 60.0) -> None:
        """Block until ``n`` ranks (all blocks together) are connected, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while len(self.ranks()) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"executor {self.label!r}: {len(self.ranks())} of {n} ranks connected after {timeout} s")
            time.sleep(0.05)

    # -- blocks ----------------------------------------------------------------------------

    def _block_provider(self) -> ExecutionProvider | None:
        return self.execution_provider

    def held_blocks(self) -> int:
        """Blocks not in a terminal state (asks the provider)."""
        provider = self.execution_provider
        if provider is None:
            return 0
        for b in self._blocks.refresh(provider, self.block_failures):
            if not b.connected:
                reason = f"its job {b.job_id} ended ({b.state.value}) before any rank connected; the provider's script directory holds its output"
                self._block_failed(b.block_id, reason)
        return len(self._blocks)

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Submit ``blocks`` blocks of ranks; return their block ids."""
        provider = self.execution_provider
        if provider is None or self.launch_cmd is None:
            raise ScalingFailed(self.label, "no execution provider (or the executor is not started)")
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        size = self.ranks_per_block or 1
        launch = self.launch_cmd
        return self._blocks.submit(
            provider, blocks, lambda bid: f"{launch} --block {bid}", size, detail=f"{size} ranks",
            failures=self.block_failures, on_refused=self._fail_waiting_if_stranded,
        )

    def scale_in(self, blocks: int = 1) -> list[str]:
        """Release ``blocks`` blocks, newest first; tasks they held go to the other blocks."""
        provider = self.execution_provider
        if provider is None:
            raise ScalingFailed(self.label, "no execution provider")
        victims = self._blocks.take_newest(blocks)
        if not victims:
            return []
        hub = self._hub
        if hub is not None:
            marked = [threading.Event() for _ in victims]
            for b, ev in zip(victims, marked, strict=True):
                hub.release(b.block_id)
                hub.call(ev.set)
            for ev in marked:
                ev.wait(5.0)
        provider.cancel([b.job_id for b in victims])
        logger.info("executor %s: released blocks %s", self.label, ", ".join(b.block_id for b in victims))
        return [b.block_id for b in victims]

    def _block_started(self, block: str) -> None:
        """Rank 0 of ``block`` connected (on the hub thread): starting blocks works."""
        self.block_failures.worker_connected()
        self._blocks.connected(block)

    def _block_end(self, block: str, reason: str, connected: bool) -> None:
        """A block stopped being able to run tasks (rank 0 gone, or it never started); called
        on the hub thread."""
        b = self._blocks.ended(block, reason)
        provider = self.execution_provider
        if b is not None and provider is not None and not b.state.terminal:
            threading.Thread(target=_cancel_quietly, args=(provider, b.job_id), name=f"parsl-{self.label}-cancel", daemon=True).start()
        if not connected:
            if b is not None:
                # rank 0 said the block cannot run tasks: a failed start, its words as the tail
                self.block_failures.ended(b.block_id, b.job_id, JobState.FAILED, False, reason)
            self._block_failed(block, reason)

    def _block_failed(self, block: str, reason: str) -> None:
        """Block ``block`` never ran a task: the waiting tasks fail if nothing else can run
        them, with the cap's ``ScalingFailed`` once it tripped, else with :class:`BlockFailed`."""
        logger.error("executor %s: block %s could not run tasks: %s", self.label, block, reason)
        tripped = self.block_failures.tripped
        self._fail_waiting_if_stranded(tripped if tripped is not None else BlockFailed(self.label, block, reason))

    def fail_waiting(self, err: BaseException) -> None:
        """Block starts are capped: fail the tasks no rank can run (see ``_fail_waiting_if_stranded``)."""
        self._fail_waiting_if_stranded(err)

    def _fail_waiting_if_stranded(self, err: BaseException) -> None:
        """With no block left to run them, waiting tasks fail instead of waiting forever."""
        hub = self._hub
        if len(self._blocks) or hub is None:
            return
        live = [link for link in hub.links() if link.rank0 is not None and not link.ended]
        if live:
            return

        def fail() -> None:
            while hub.pending:
                task_id, _msg = hub.pending.popleft()
                self._done(task_id, "error", err)

        hub.call(fail)

    def _tick(self, kind: str | None = None) -> None:
        if self._shutdown:
            return
        tripped = self.block_failures.tripped
        if tripped is not None:
            self._fail_waiting_if_stranded(tripped)  # also tasks submitted after the cap was reached
        if self.strategy is not None and self.scaling_enabled:
            self.strategy.strategize(kind)

    # -- shutdown --------------------------------------------------------------------------

    def shutdown(self, block: bool = True) -> None:
        """Stop the strategy, tell rank 0 of each block to stop, cancel the blocks; waiting
        tasks fail with :class:`ExecutorShutdown`. Idempotent."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        flow, self._flow = self._flow, None
        if flow is not None:
            flow.close()
        hub, self._hub = self._hub, None
        if hub is not None:
            hub.stop()
        self._blocks.cancel_all(self.execution_provider)
        with self._lock:
            waiting, self._futures = self._futures, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(ExecutorShutdown(f"executor {self.label!r} was shut down before the task finished"))
        if self.key_file:
            try:
                os.unlink(self.key_file)
            except FileNotFoundError:
                pass


def _cancel_quietly(provider: ExecutionProvider, job_id: str) -> None:
    try:
        provider.cancel([job_id])
    except Exception:
        logger.exception("cancelling block job %s failed", job_id)


def _provider_for_site(site: SiteSpec) -> ExecutionProvider:
    """The site's provider, its launcher wrapped with the MPI launch environment."""
    where = f"{site.path}.execution.provider"
    try:
        provider_cls = plugins.get("provider", site.provider or "")
    except Exception as e:
        raise ConfigurationError(str(e), where) from e
    name = site.block.launcher or site.execution.get("launcher") or DEFAULT_LAUNCHERS.get(site.provider or "", "mpiexec")
    launcher = mpi_launcher(name, oversubscribe=site.provider == "local")
    provider: ExecutionProvider = provider_cls(config=site, launcher=launcher)
    return provider


def _default_provider(shape: BlockShape, script_dir: str) -> ExecutionProvider:
    """4 ranks (or the shape's) on this machine: libsubmit's local provider with mpiexec."""
    local = plugins.get("provider", "local")
    channel = plugins.get("channel", "local")(scriptDir=script_dir)
    fields = {f.name: getattr(shape, f.name) for f in dataclasses.fields(BlockShape)}
    provider: ExecutionProvider = local(channel=channel, launcher=mpi_launcher("mpiexec", oversubscribe=True), **fields)
    return provider
