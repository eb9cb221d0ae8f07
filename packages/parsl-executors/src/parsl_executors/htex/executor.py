"""The high-throughput executor: an interchange beside the script, a worker pool per node.

::

    submit(func, *a, **kw) ─▶ (tid, fid, fn bytes (pickled once per function), arg bytes, resources)
        └─▶ InterchangeClient (IO thread, batches) ══▶ interchange ══▶ pools ──▶ forked workers
    Future ◀── result / remote exception / WorkerLost / ManagerLost ◀══════════════┘

    start(context) ─▶ per-run keys (pool key file 0600 in a 0700 dir)
                   ─▶ interchange process (settings + keys on its stdin; stdin EOF = driver gone)
                   ─▶ init_blocks x provider.submit(pool command)   (launch.pool_command)
                   ─▶ FlowControl ──▶ Strategy.strategize ──▶ scale_out / scale_in
    shutdown() ─▶ flow control stopped, interchange told to stop (it stops the pools), blocks cancelled

Providers are reached only through :class:`parsl.interfaces.ExecutionProvider`.
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import pickle
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, InvalidStateError
from typing import Any, Callable, Mapping

import cloudpickle

from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.executors.errors import ExecutorShutdown, ScalingFailed
from parsl.interfaces import BlockShape, ExecutionProvider, ExecutorContext, LeanFuture, ParslExecutor, reject_unknown_keys
from parsl.interfaces.site import SiteSpec

from ..scaling import BlockAccessors, BlockScalable, BlockTable, FlowControl, HeldBlock, ScalingPolicy, Strategy, Timer
from .errors import BlocksNeverConnected, InterchangeLost, ManagerLost, WorkerLost
from .launch import DEFAULT_TEMPLATE, PoolSettings, check_template, pool_command
from .options import resource_tuple, site_options
from .wire import RunKeys, is_loopback
from .worker import CANCELLED, FAILED, MANAGER_LOST, OK, WORKER_LOST

logger = logging.getLogger(__name__)

_EMPTY_ARGS = pickle.dumps(((), {}), protocol=pickle.HIGHEST_PROTOCOL)
_FN_CACHE_MAX = 4096
#: upstream keywords accepted for compatibility that change nothing here
_IGNORED = ("storage_access", "address_probe_timeout", "poll_period", "worker_logdir_root", "cpu_affinity", "block_error_handler", "drain_period", "available_accelerators", "worker_ports", "worker_port_range", "interchange_port_range", "interchange_launch_cmd", "manager_selector", "enable_mpi_mode", "mpi_launcher", "working_dir", "encrypt")


class _TaskFuture(LeanFuture):
    """A future whose :meth:`cancel` also withdraws the task from the interchange's queue
    (a :class:`~parsl.interfaces.LeanFuture`: no condition is built until someone waits)."""

    _tid: int
    _executor: HighThroughputExecutor

    def cancel(self) -> bool:
        if not super().cancel():
            return False
        self._executor._cancelled(self._tid)
        return True


class HighThroughputExecutor(BlockAccessors, ParslExecutor, BlockScalable):
    """Pilot-job executor for many short tasks over many nodes (upstream's keywords).

    Args:
        label: the site name apps refer to.
        provider: an :class:`~parsl.interfaces.ExecutionProvider` (``execution_provider`` is
            an alias); its ``shape`` gives nodes per block and the block bounds.
        launch_cmd: the pool command template (placeholders in ``launch.PLACEHOLDERS``).
        address: where pools reach the interchange (default ``127.0.0.1``; the interchange
            binds this address only).
        max_workers_per_node (alias ``max_workers``): workers per pool; default: the node's
            cores divided by ``cores_per_worker``.
        cores_per_worker / mem_per_worker: cores and MB one plain task occupies.
        prefetch_capacity: tasks a pool holds beyond one per worker (default 32 per worker).
        heartbeat_period / heartbeat_threshold: seconds between heartbeats, and of silence
            after which a pool (or the interchange, for a pool) is lost (default 2 periods).
        worker_debug: DEBUG logs from the pools.
        encrypted: CurveZMQ encryption; default on when ``address`` is not loopback.
        max_idletime, strategy_interval, strategy_threshold, flow_control: block scaling,
            as for the ipp executor.
        block_connect_timeout: seconds a block may take to connect its first pool before the
            tasks waiting for a worker fail with :class:`BlocksNeverConnected`.
        max_block_failures: blocks in a row that may end (or be refused) before any pool
            connected; then no more are started and waiting tasks fail with ``ScalingFailed``
            (the shared cap of :mod:`parsl_executors.scaling.failures`; default 3).
    """

    def __init__(
        self,
        label: str = "HighThroughputExecutor",
        provider: ExecutionProvider | None = None,
        launch_cmd: str | None = None,
        address: str | None = None,
        max_workers_per_node: int | float | None = None,
        cores_per_worker: float = 1.0,
        mem_per_worker: float | None = None,
        prefetch_capacity: int | None = None,
        heartbeat_threshold: float | None = None,
        heartbeat_period: float = 5.0,
        worker_debug: bool = False,
        encrypted: bool | None = None,
        max_workers: int | float | None = None,
        *,
        execution_provider: ExecutionProvider | None = None,
        shape: BlockShape | None = None,
        max_idletime: float = 2.0,
        strategy_interval: float = 1.0,
        strategy_threshold: int = 20,
        flow_control: bool = True,
        block_connect_timeout: float = 120.0,
        max_block_failures: int = 3,
        **upstream: Any,
    ) -> None:
        if set(upstream) - set(_IGNORED):
            reject_unknown_keys(upstream, _IGNORED, "", owner="HighThroughputExecutor", suggest_from=_IGNORED + tuple(self._own_keywords()))
        if upstream:
            logger.info("HighThroughputExecutor %s: ignoring upstream keywords with no effect here: %s", label, ", ".join(sorted(upstream)))
        provider = provider if provider is not None else execution_provider
        if provider is not None and not isinstance(provider, ExecutionProvider):
            raise ConfigurationError(f"{provider!r} is not an ExecutionProvider", "provider")
        workers = max_workers_per_node if max_workers_per_node is not None else max_workers
        if workers is not None and (workers == float("inf")):
            workers = None
        if workers is not None and (not isinstance(workers, (int, float)) or isinstance(workers, bool) or workers < 1):
            raise ConfigurationError(f"must be a positive number of workers, got {workers!r}", "max_workers_per_node")
        if cores_per_worker <= 0:
            raise ConfigurationError(f"must be positive, got {cores_per_worker!r}", "cores_per_worker")
        if heartbeat_period <= 0:
            raise ConfigurationError(f"must be positive, got {heartbeat_period!r}", "heartbeat_period")
        if heartbeat_threshold is not None and heartbeat_threshold <= heartbeat_period:
            raise ConfigurationError(f"must be above heartbeat_period ({heartbeat_period}), got {heartbeat_threshold!r}", "heartbeat_threshold")
        if prefetch_capacity is not None and prefetch_capacity < 0:
            raise ConfigurationError(f"cannot be negative, got {prefetch_capacity!r}", "prefetch_capacity")
        if launch_cmd is not None:
            check_template(launch_cmd)
        self.label = label
        self.provider = provider
        self.launch_cmd = launch_cmd or DEFAULT_TEMPLATE
        self.address = address or "127.0.0.1"
        self.workers_per_node = int(workers) if workers is not None else None
        self.cores_per_worker = float(cores_per_worker)
        self.mem_per_worker = mem_per_worker
        self.prefetch_capacity = prefetch_capacity
        self.heartbeat_period = float(heartbeat_period)
        self.heartbeat_threshold = float(heartbeat_threshold) if heartbeat_threshold is not None else 2 * self.heartbeat_period
        self.worker_debug = worker_debug
        self.encrypted = (not is_loopback(self.address)) if encrypted is None else bool(encrypted)
        self.shape = shape or (provider.shape if provider is not None else BlockShape())
        slots = (self.workers_per_node or os.cpu_count() or 1) * self.shape.nodes_per_block
        self._policy = ScalingPolicy(
            min_blocks=self.shape.min_blocks, init_blocks=self.shape.init_blocks, max_blocks=self.shape.max_blocks,
            tasks_per_block=max(1, slots), parallelism=self.shape.parallelism, max_idletime=max_idletime,
            max_block_failures=max_block_failures,
        )
        self.strategy_interval = strategy_interval
        self.strategy_threshold = strategy_threshold
        self.use_flow_control = flow_control
        self.block_connect_timeout = block_connect_timeout

        self._lock = threading.Lock()
        self._futures: dict[int, Future[Any]] = {}
        #: tasks failed with WorkerLost / ManagerLost so far
        self.tasks_lost = 0
        self._submitted = 0
        self._ids = itertools.count()
        self._fn_ids = itertools.count()
        self._fn_cache: dict[int, tuple[Any, int, bytes]] = {}
        self._blocks = BlockTable(label)
        self._dead_blocks: list[HeldBlock] = []  # ended before any pool of theirs connected
        self._client: Any = None
        self._ichg: subprocess.Popen[bytes] | None = None
        self._flow: FlowControl | Timer | None = None
        self.strategy: Strategy | None = None
        self.pools: list[dict[str, Any]] = []
        self._pools_event = threading.Condition()
        self._stats: Future[Any] | None = None
        self.pool_settings: PoolSettings | None = None
        #: the interchange's (driver port, worker port) once started
        self.ports: tuple[int, int] | None = None
        self.run_dir: str | None = None
        self._started = False
        self._shutdown = False

    @staticmethod
    def _own_keywords() -> list[str]:
        import inspect

        return [p for p in inspect.signature(HighThroughputExecutor.__init__).parameters if p not in ("self", "upstream")]

    @classmethod
    def from_site(cls, site: SiteSpec, controller: Mapping[str, Any]) -> HighThroughputExecutor:
        """Build the executor of a validated 0.5.0 site: ``taskBlocks`` is workers per node,
        and the provider starts one pool per node."""
        options = site_options(site)
        shape = site.block.shape
        workers = shape.tasks_per_node
        if not isinstance(workers, int):
            raise ConfigurationError(f"the htex executor needs a number of workers per node, got {workers!r}", f"{site.path}.execution.block.taskBlocks")
        one_pool = dataclasses.replace(shape, tasks_per_node=1)
        provider = None
        if site.provider:
            try:
                provider_cls = plugins.get("provider", site.provider)
            except Exception as e:
                raise ConfigurationError(str(e), f"{site.path}.execution.provider") from e
            pool_site = dataclasses.replace(site, block=dataclasses.replace(site.block, shape=one_pool))
            provider = provider_cls.from_site(pool_site)
        address = (controller or {}).get("publicIp") or None
        return cls(label=site.name, provider=provider, address=address, max_workers_per_node=workers, shape=one_pool, **options)

    def __repr__(self) -> str:
        return f"HighThroughputExecutor(label={self.label!r}, provider={type(self.provider).__name__ if self.provider else None}, encrypted={self.encrypted})"

    # -- life cycle -------------------------------------------------------------------------------

    def start(self, context: ExecutorContext | None = None) -> None:
        """Start the interchange, write the pools' key file, launch ``init_blocks``."""
        if self._started:
            raise RuntimeError(f"executor {self.label!r} was already started")
        plugins.require("zmq", feature="the htex executor", distribution="parsl-executors", extra="htex")
        from .client import InterchangeClient

        context = context or ExecutorContext(run_id="htex", run_dir=os.path.abspath("runinfo"))
        self.context = context
        self._blocks.monitor = context.monitor
        self._started = True
        self.run_dir = os.path.abspath(os.path.join(context.run_dir, self.label))
        os.makedirs(self.run_dir, exist_ok=True)
        try:
            keys = RunKeys.generate(self.encrypted)
            keyfile = keys.write_pool_file(os.path.join(self.run_dir, "keys"))
            client_port, worker_port = self._start_interchange(keys)
            self.ports = (client_port, worker_port)
            self._client = InterchangeClient(self.label, keys, client_port, self._on_results, self._on_message,
                                             lambda: self._ichg is not None and self._ichg.poll() is None, self.heartbeat_period)
            workers = self.workers_per_node or 0
            prefetch = self.prefetch_capacity if self.prefetch_capacity is not None else 32 * max(1, workers or (os.cpu_count() or 1))
            self.pool_settings = PoolSettings(
                python=sys.executable, keyfile=keyfile, address=self.address, port=worker_port, workers=workers,
                cores_per_worker=self.cores_per_worker, mem_per_worker=float(self.mem_per_worker or 0),
                prefetch=prefetch, heartbeat_period=self.heartbeat_period, heartbeat_threshold=self.heartbeat_threshold,
                logdir=os.path.join(self.run_dir, "pools"), debug=self.worker_debug,
            )
            if self.provider is not None and self._policy.init_blocks:
                self.scale_out(self._policy.init_blocks)
            self.strategy = Strategy([self])
            if self.provider is not None and self.use_flow_control and self.provider.scaling_enabled:
                self._flow = FlowControl(self._tick, threshold=self.strategy_threshold, interval=self.strategy_interval, name=f"parsl-{self.label}-strategy")
            else:
                self._flow = Timer(lambda kind: self._check_blocks(), interval=self.strategy_interval, name=f"parsl-{self.label}-blocks")
        except BaseException:
            self.shutdown()
            raise

    def _start_interchange(self, keys: RunKeys) -> tuple[int, int]:
        bind = "127.0.0.1" if is_loopback(self.address) else self.address
        settings = {
            "keys": keys.to_json(with_server_secret=True), "bind_address": bind,
            "heartbeat_period": self.heartbeat_period, "heartbeat_threshold": self.heartbeat_threshold,
            "logfile": os.path.join(self.run_dir or ".", "interchange.log"), "debug": self.worker_debug,
        }
        self._ichg = proc = subprocess.Popen(
            [sys.executable, "-m", "parsl_executors.htex.interchange"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            start_new_session=True, close_fds=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps(settings).encode() + b"\n")
        proc.stdin.flush()
        line = proc.stdout.readline()
        if not line:
            proc.wait(10)
            raise ScalingFailed(self.label, f"the interchange did not start (exit code {proc.returncode}); see {settings['logfile']}")
        ports = json.loads(line)
        return int(ports["client_port"]), int(ports["worker_port"])

    @property
    def interchange_pid(self) -> int | None:
        return self._ichg.pid if self._ichg is not None else None

    # -- tasks ------------------------------------------------------------------------------------

    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Send ``func(*args, **kwargs)`` to a worker; return its future. A
        ``parsl_resource_specification`` keyword ({'cores', 'memory' (MB), 'walltime' (s)})
        is taken out and used to place the task."""
        client = self._client
        if client is None:
            if self._shutdown:
                raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
            raise RuntimeError(f"executor {self.label!r} has not been started")
        if client.lost:
            raise InterchangeLost(self.label, client.lost)
        res = resource_tuple(kwargs.pop("parsl_resource_specification")) if "parsl_resource_specification" in kwargs else None
        cached = self._fn_cache.get(id(func))
        if cached is None or cached[0] is not func:
            if len(self._fn_cache) >= _FN_CACHE_MAX:
                self._fn_cache.clear()
            cached = (func, next(self._fn_ids), cloudpickle.dumps(func, protocol=pickle.HIGHEST_PROTOCOL))
            self._fn_cache[id(func)] = cached
        argb = cloudpickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL) if (args or kwargs) else _EMPTY_ARGS
        tid = next(self._ids)
        self._submitted = tid + 1
        fut = _TaskFuture()
        fut._tid = tid
        fut._executor = self
        self._futures[tid] = fut
        client.put((tid, cached[1], cached[2], argb, res))
        flow = self._flow
        if flow is not None:
            flow.notify()
        return fut

    def _cancelled(self, tid: int) -> None:
        if self._futures.pop(tid, None) is not None and self._client is not None:
            self._client.send("cancel", [tid])

    def _on_results(self, results: list[tuple[int, int, bytes]]) -> None:
        futures = self._futures
        for tid, kind, payload in results:
            fut = futures.pop(tid, None)
            if fut is None:
                continue
            try:
                if kind == OK:
                    fut.set_result(pickle.loads(payload))
                elif kind == FAILED:
                    fut.set_exception(pickle.loads(payload).get_exception())
                elif kind == WORKER_LOST:
                    self.tasks_lost += 1
                    fut.set_exception(WorkerLost(*pickle.loads(payload)))
                elif kind == MANAGER_LOST:
                    self.tasks_lost += 1
                    fut.set_exception(ManagerLost(*pickle.loads(payload)))
                elif kind == CANCELLED:
                    fut.cancel()
            except InvalidStateError:
                pass  # cancelled meanwhile
            except Exception as e:  # a result that cannot be read here
                try:
                    fut.set_exception(e)
                except InvalidStateError:
                    pass

    def _on_message(self, kind: str, body: Any) -> None:
        if kind == "pools":
            with self._pools_event:
                self.pools = body
                if body:
                    self._dead_blocks.clear()
                    self.block_failures.worker_connected()
                for p in body:
                    self._blocks.connected(str(p.get("block")))
                self._pools_event.notify_all()
        elif kind == "stats":
            waiter = self._stats
            if waiter is not None and not waiter.done():
                waiter.set_result(body)
        elif kind == "lost":
            logger.error("executor %s: %s", self.label, body)
            self._fail_all(InterchangeLost(self.label, str(body)))

    def _fail_all(self, err: BaseException) -> list[int]:
        """Fail every waiting task with ``err``; return their task ids."""
        with self._lock:
            futures, self._futures = self._futures, {}
        for fut in futures.values():
            if not fut.done():
                try:
                    fut.set_exception(err)
                except InvalidStateError:
                    pass
        return list(futures)

    @property
    def tasks_submitted(self) -> int:
        """Tasks (and retries of tasks) submitted so far."""
        return self._submitted

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""
        return len(self._futures)

    def interchange_stats(self, timeout: float = 10.0) -> dict[str, Any]:
        """The interchange's counters: dropped frames (``dropped_client``, ``dropped_worker``),
        pools, queued and in-flight tasks, tasks received and results sent."""
        if self._client is None:
            raise RuntimeError(f"executor {self.label!r} is not running")
        self._stats = Future()
        self._client.send("stats")
        return dict(self._stats.result(timeout))

    def connected_workers(self) -> int:
        return sum(int(p.get("workers", 0)) for p in self.pools)

    def worker_pids(self) -> list[int]:
        return [pid for p in self.pools for pid in p.get("worker_pids", [])]

    def wait_for_workers(self, n: int, timeout: float = 60) -> None:
        """Block until at least ``n`` workers are connected (bounded by ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._pools_event:
            while self.connected_workers() < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"executor {self.label!r}: {self.connected_workers()} of {n} workers connected after {timeout} s")
                self._pools_event.wait(left)

    # -- blocks -----------------------------------------------------------------------------------

    def _block_provider(self) -> ExecutionProvider | None:
        return self.provider

    def held_blocks(self) -> int:
        """Blocks not in a terminal state (asks the provider)."""
        if self.provider is None:
            return 0
        ended = self._blocks.refresh(self.provider, self.block_failures)
        with self._lock:
            self._dead_blocks.extend(b for b in ended if not b.connected)
        return len(self._blocks)

    def pool_command(self, block_id: str) -> str:
        """The command a block's launcher runs on each node (containers wrap this one)."""
        assert self.pool_settings is not None
        return f"PARSL_HTEX_BLOCK={block_id} " + pool_command(self.pool_settings, block_id, self.launch_cmd)

    def scale_out(self, blocks: int = 1) -> list[str]:
        provider = self.provider
        if provider is None or self.pool_settings is None:
            raise ScalingFailed(self.label, "no execution provider (or the executor is not started)")
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        tpn = provider.shape.tasks_per_node
        size = tpn if isinstance(tpn, int) else 1
        return self._blocks.submit(provider, blocks, self.pool_command, size, failures=self.block_failures, on_refused=self._refused)

    def _refused(self, err: ScalingFailed) -> None:
        """The provider refused a block: with no block and no pool, nothing can run the tasks."""
        if not self._blocks and not self.pools:
            self._fail_all(err)

    def scale_in(self, blocks: int = 1) -> list[str]:
        provider = self.provider
        if provider is None:
            raise ScalingFailed(self.label, "no execution provider")
        victims = self._blocks.take_newest(blocks)
        if not victims:
            return []
        if self._client is not None:
            self._client.send("release", [b.block_id for b in victims])
        provider.cancel([b.job_id for b in victims])
        logger.info("executor %s: released blocks %s", self.label, ", ".join(b.block_id for b in victims))
        return [b.block_id for b in victims]

    def _tick(self, kind: str | None = None) -> None:
        if self._shutdown:
            return
        if self.strategy is not None and self.scaling_enabled:
            self.strategy.strategize(kind)
        self._check_blocks()

    def _check_blocks(self) -> None:
        """Fail waiting tasks when no pool is connected and none can be expected: a block ended
        without connecting, or every block has been silent past the connect timeout."""
        if self._shutdown or self.pools or not self._futures or self.provider is None:
            return
        if not self.scaling_enabled or self._flow is None or isinstance(self._flow, Timer):
            self.held_blocks()
        blocks = self._blocks.held()
        with self._lock:
            dead, self._dead_blocks = list(self._dead_blocks), []
        now = time.monotonic()
        stale = [b for b in blocks if not b.connected and now - b.submitted > self.block_connect_timeout]
        if dead or (stale and len(stale) == len(blocks)):
            why = []
            if dead:
                why.append(f"block(s) {', '.join(b.block_id for b in dead)} ended ({', '.join(b.state.value for b in dead)}) before a pool connected")
            if stale:
                why.append(f"block(s) {', '.join(b.block_id for b in stale)} did not connect within {self.block_connect_timeout:g} s")
            detail = "; ".join(why) + f"; see the pool logs under {os.path.join(self.run_dir or '.', 'pools')} and the provider's job output"
            logger.error("executor %s: %s", self.label, detail)
            tail = dead[-1].stderr_tail if dead else ""
            self.fail_waiting(BlocksNeverConnected(self.label, detail + (f"; the last one's stderr ends with:\n{tail}" if tail else ""), tail))

    def fail_waiting(self, err: BaseException) -> None:
        """Fail the tasks waiting for a worker (no pool is connected): a block never connected,
        or failed block starts reached the cap (then the strategy starts no more)."""
        if self.pools:
            return
        failed = self._fail_all(err)
        if self._client is not None and failed:
            self._client.send("cancel", failed)

    # -- shutdown ---------------------------------------------------------------------------------

    def shutdown(self, block: bool = True) -> None:
        """Stop scaling, the interchange (which stops the pools) and the blocks; tasks still
        running fail with :class:`ExecutorShutdown`. Idempotent."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        flow, self._flow = self._flow, None
        if flow is not None:
            flow.close()
        client, self._client = self._client, None
        if client is not None:
            client.send("stop")
            client.close()
        proc, self._ichg = self._ichg, None
        if proc is not None:
            for stream in (proc.stdin, proc.stdout):
                try:
                    if stream is not None:
                        stream.close()
                except Exception:
                    pass
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._blocks.cancel_all(self.provider)
        self._fail_all(ExecutorShutdown(f"executor {self.label!r} was shut down before the task finished"))
        self._fn_cache.clear()
