"""The IPython Parallel executor: a controller beside the script, engines in provider blocks.

::

    submit(func, *a, **kw) ─▶ Tasks ─ cloudpickle ─▶ load-balanced view ─▶ ipcontroller ─▶ engine: worker.run_task
    Future ◀── result / RemoteExceptionWrapper / EngineLost ◀── Tasks ◀───────────────────────┘

    start(context) ─▶ Controller (own, bound to 127.0.0.1 or publicIp; or a reused one) ─▶ client
                   ─▶ initBlocks x provider.submit(engine launch command, taskBlocks) ─▶ BlockTable
                   ─▶ FlowControl ──every interval / threshold submits──▶ Engines.probe (who registered, who is lost)
                                                                    └─▶ Strategy.strategize
                                                                          ├─▶ scale_out(n): provider.submit
                                                                          └─▶ scale_in(n):  engines shut down, provider.cancel
    shutdown() ─▶ flow control stopped, engines asked to stop, blocks cancelled, own controller stopped

The parts: :mod:`.tasks` (futures and their tries), :mod:`.engines` (who each engine is),
:mod:`.controller`, :mod:`.launch` (a block's engine command) and the shared
:class:`~parsl_executors.scaling.BlockTable` (blocks, and their monitoring events).
Providers are reached only through :class:`parsl.interfaces.ExecutionProvider`.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable, Mapping, Sequence

from parsl import plugins
from parsl.errors import ConfigurationError
from parsl.executors.errors import ExecutorShutdown, ScalingFailed
from parsl.interfaces import BlockShape, ContainerEngine, ExecutionProvider, ExecutorContext, ParslExecutor, Staging, container_from_spec
from parsl.interfaces.site import SiteSpec

from ..scaling import BlockAccessors, BlockScalable, BlockTable, FlowControl, FlowNoControl, HeldBlock, ScalingPolicy, Strategy, Timer
from ..worker_containers import container_launch, remove_containers, remove_orphans
from .controller import Controller
from .engines import EngineInfo, Engines
from .launch import BLOCK_VAR, DEFAULT_ENGINE_FILE, default_engine_command, engine_launch
from .options import site_options
from .tasks import Tasks

logger = logging.getLogger(__name__)


def _ipp() -> Any:
    return plugins.require("ipyparallel", feature="the ipp executor", distribution="parsl-executors", extra="ipp")


class IPyParallelExecutor(BlockAccessors, ParslExecutor, BlockScalable):
    """The IPython Parallel executor.

    Runs python and bash apps on IPython Parallel engines, which run inside blocks obtained
    from ``execution_provider``; the number of blocks follows the workload within the
    ``shape``'s ``min_blocks``/``max_blocks`` and ``parallelism``.

    Args:
        execution_provider: an :class:`~parsl.interfaces.ExecutionProvider`; ``None`` when the
            engines are started by someone else (then there is no scaling). With neither a
            provider nor controller settings, the executor attaches to the cluster the user
            started with ``ipcluster start`` (default profile, ``$IPYTHONDIR``), as 0.5.0 did.
        reuse_controller: allow connecting to a running controller when the controller
            settings ask for ``reuse``; ``False`` always starts a fresh one.
        engine_json_file: a reused controller's engine connection file (an own controller's
            file is found in its profile under the run directory).
        engine_dir: working directory of the engines (default: the script's directory).
        controller: a :class:`Controller` or a 0.5.0 ``controller`` dict; default: the
            workflow's ``controller`` settings, else 127.0.0.1.
        config: a 0.5.0 site dict (``site``, ``execution.block``, ``execution.container``).
        label: the site name apps refer to.
        shape: block shape and bounds (``taskBlocks`` engines per block, min/init/max
            blocks, parallelism); default: the provider's ``shape``.
        container: run each engine in a container: a :class:`~parsl.interfaces.ContainerEngine`
            or a 0.5.0 ``container`` dict (``{"type": "docker"|"podman"|"singularity",
            "image": ...}``; needs ``parsl-containers``). Host network; the engine, run and
            script directories are mounted; the image needs ``parsl-executors[ipp]``.
        container_image: short for ``container={"type": "docker", "image": ...}``.
        max_block_failures: blocks in a row that may end before any engine connected; then
            no more are started and waiting tasks fail with ``ScalingFailed`` (default 3).
        engine_command: how to start an engine on the node (default: this interpreter's
            ``-m ipyparallel.engine``).
        max_idletime: idle seconds before blocks are released down to ``min_blocks``.
        strategy_interval / strategy_threshold: the flow-control trigger.
        flow_control: ``True`` for :class:`FlowControl`; ``False``: no automatic scaling
            after ``init_blocks`` (``scale_out``/``scale_in`` by hand).
        storage_access / working_dir / stage_on_workers: staging (see ParslExecutor); engines
            stage files inside each task when ``stage_on_workers`` (default: ssh channel sites).
        engine_nanny: start ipyparallel's per-engine nanny. Off by default: the nanny detaches
            from the block's process group, so cancelling a block cannot reap it and it
            outlives the block; engine loss is then detected by heartbeat instead.
        heartbeat_period: seconds between the controller's heartbeats to the engines (for a
            controller started here).
        heartbeat_threshold: seconds of silence after which a peer counts as gone, both
            ways: the controller declares an engine lost (its task fails at once with
            :class:`EngineLost`) at most ``threshold`` after its death (it allows
            ``ceil(threshold / period) - 2`` missed beats); an engine whose controller has been
            unreachable this long ends itself and its block, even in the middle of a task.
            Shorter detects losses sooner; too short for a loaded machine or network
            declares live engines lost. Default 2 s (1 s period).
    """

    supports_containers = True

    def __init__(
        self,
        execution_provider: ExecutionProvider | None = None,
        reuse_controller: bool = True,
        engine_json_file: str = DEFAULT_ENGINE_FILE,
        engine_dir: str = ".",
        controller: Controller | Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        *,
        label: str = "ipp",
        shape: BlockShape | None = None,
        container_image: str | None = None,
        container: ContainerEngine | Mapping[str, Any] | None = None,
        max_block_failures: int = 3,
        engine_command: str | None = None,
        max_idletime: float = 2.0,
        strategy_interval: float = 1.0,
        strategy_threshold: int = 20,
        flow_control: bool = True,
        engine_nanny: bool = False,
        heartbeat_period: float = 1.0,
        heartbeat_threshold: float = 2.0,
        storage_access: Sequence[Staging] | None = None,
        working_dir: str | None = None,
        stage_on_workers: bool = False,
    ) -> None:
        if execution_provider is not None and not isinstance(execution_provider, ExecutionProvider):
            raise ConfigurationError(f"{execution_provider!r} is not an ExecutionProvider", "execution_provider")
        if config:
            label = config.get("site", label)
            execution = config.get("execution") or {}
            if shape is None and execution.get("block") is not None:
                from parsl.interfaces import site_from_dict

                shape = site_from_dict(dict(config), "site").block.shape
            container = container or container_from_spec(execution.get("container"), "execution.container")
        self.label = label
        self.execution_provider = execution_provider
        self.reuse_controller = reuse_controller
        self.engine_json_file = engine_json_file
        self.engine_dir = engine_dir
        if container is None and container_image:
            container = {"type": "docker", "image": container_image}
        self.container = container_from_spec(container, "container")
        self.container_image = self.container.image if self.container is not None else None
        if not (isinstance(heartbeat_period, (int, float)) and 0.05 <= heartbeat_period <= 3600):
            raise ConfigurationError(f"must be a number of seconds between 0.05 and 3600, got {heartbeat_period!r}", "heartbeat_period")
        if not (isinstance(heartbeat_threshold, (int, float)) and heartbeat_period <= heartbeat_threshold <= 86400):
            raise ConfigurationError(f"must be a number of seconds from heartbeat_period ({heartbeat_period}) to 86400, got {heartbeat_threshold!r}", "heartbeat_threshold")
        self.heartbeat_period = float(heartbeat_period)
        self.heartbeat_threshold = float(heartbeat_threshold)
        self.engine_command = engine_command or default_engine_command(self.container is not None, self.heartbeat_threshold)
        # the provider's blocks decide the shape, unless it is given here explicitly
        self.shape = shape or (execution_provider.shape if execution_provider is not None else BlockShape())
        self._policy = ScalingPolicy.from_shape(self.shape, max_idletime=max_idletime, max_block_failures=max_block_failures)
        if isinstance(strategy_interval, bool) or not isinstance(strategy_interval, (int, float)) or not 0.01 <= strategy_interval <= 3600:
            raise ConfigurationError(f"must be a number of seconds from 0.01 to 3600, got {strategy_interval!r}", "strategy_interval")
        self.strategy_interval = strategy_interval
        self.strategy_threshold = strategy_threshold
        self.use_flow_control = flow_control
        self.engine_nanny = engine_nanny
        self.storage_access = list(storage_access) if storage_access is not None else None
        self.working_dir = working_dir
        self.stage_on_workers = stage_on_workers
        #: missed controller heartbeats after which an engine stops itself (~1.5 s each), so
        #: engines do not outlive a controller that is gone
        self.controller_misses = 10
        if isinstance(controller, Controller):
            self.controller: Controller | None = controller
        elif controller is not None:
            self.controller = Controller.from_dict(controller)
        else:
            self.controller = None

        self._lock = threading.Lock()
        self._blocks = BlockTable(label)
        self._engines = Engines(self._registered, self._engine_lost)
        self._tasks = Tasks(label, self._engines)
        #: seconds scale-in waits for released engines to unregister before their jobs go
        self.release_grace = 5.0
        #: seconds shutdown waits for the engines to acknowledge before killing what is left
        self.stop_wait = 5.0
        self._client: Any = None
        self._flow: FlowControl | FlowNoControl | None = None
        self.strategy: Strategy | None = None
        self.launch_cmd: str | None = None
        self._launch_env: dict[str, str] = {}
        self.work_dir: str | None = None
        self.context: ExecutorContext | None = None
        self._started = False
        self._shutdown = False

    # -- construction from a 0.5.0 site ------------------------------------------------------

    @classmethod
    def from_site(cls, site: SiteSpec, controller: Mapping[str, Any]) -> IPyParallelExecutor:
        """Build the executor of a validated 0.5.0 site, its provider found by name."""
        provider = None
        if site.provider:
            try:
                provider_cls = plugins.get("provider", site.provider)
            except Exception as e:
                raise ConfigurationError(str(e), f"{site.path}.execution.provider") from e
            provider = provider_cls.from_site(site)
        return cls(
            execution_provider=provider,
            controller=dict(controller) if controller else None,
            label=site.name,
            shape=site.block.shape,
            container=container_from_spec(site.container, f"{site.path}.execution.container"),
            working_dir=(site.data or {}).get("working_dir"),
            stage_on_workers=site.channel not in (None, "local"),
            **site_options(site),
        )

    def __repr__(self) -> str:
        return f"IPyParallelExecutor(label={self.label!r}, provider={type(self.execution_provider).__name__ if self.execution_provider else None})"

    # -- life cycle ------------------------------------------------------------------------

    def start(self, context: ExecutorContext) -> None:
        """Start (or find) the controller, connect, launch ``init_blocks`` and the strategy."""
        if self._started:
            raise RuntimeError(f"executor {self.label!r} was already started")
        ipp = _ipp()
        self.context = context
        self._blocks.monitor = context.monitor
        self._started = True
        self.work_dir = os.path.join(context.run_dir, self.label)
        os.makedirs(self.work_dir, exist_ok=True)
        if self.controller is None:
            self.controller = Controller.for_run(context.settings.get("controller"), self.execution_provider is not None, self.reuse_controller)
        self.controller.heartbeat(self.heartbeat_period, self.heartbeat_threshold)
        if not self.reuse_controller:
            self.controller.reuse = False
        try:
            self.controller.start(self.work_dir)
            engine_file = self.controller.engine_file
            if self.controller.reuse and self.engine_json_file != DEFAULT_ENGINE_FILE:
                engine_file = os.path.expanduser(self.engine_json_file)
            self._client = self.controller.connect(ipp)
            # the controller's scheduler fails a dead engine's task only 5 s after the engine
            # is unregistered; the client's unregistration event lets us fail it at once
            # (ipyparallel 9 has no public hook for it)
            callbacks = getattr(self._client, "_registration_callbacks", None)
            if isinstance(callbacks, list):
                callbacks.append(self._tasks.engine_event)
            self._tasks.connect(self._client.load_balanced_view(), (ipp.error.EngineError,))
            if self.execution_provider is not None:
                remove_orphans(self.container)  # left by earlier drivers that were killed
                self.launch_cmd = self.compose_launch_cmd(engine_file, self.engine_dir, self.container_image)
                if self._policy.init_blocks:
                    self.scale_out(self._policy.init_blocks)
            self.strategy = Strategy([self])
            if self.execution_provider is not None and self.use_flow_control and self.execution_provider.scaling_enabled:
                self._flow = FlowControl(self._tick, threshold=self.strategy_threshold, interval=self.strategy_interval, name=f"parsl-{self.label}-strategy")
            else:
                # no automatic scaling; engines are still looked up, for clear engine-loss errors
                self._flow = Timer(lambda kind: self._probe_engines(), interval=self.strategy_interval, name=f"parsl-{self.label}-engines")
        except BaseException:
            self.shutdown(block=False)
            raise

    def compose_launch_cmd(self, filepath: str, engine_dir: str, container_image: str | None = None) -> str:
        """Reads the json contents from ``filepath`` and composes the one-line command that
        starts one engine in ``engine_dir`` (the launcher runs it ``taskBlocks`` times).

        The connection file holds the controller's key, so it never goes on a command line:
        with a provider that :attr:`passes_env`, it travels in the block's environment
        (``PARSL_IPP_ENGINE_JSON``) and each engine copies it into a 0600 file under the run
        directory; otherwise the command names a 0600 copy under the 0700 run directory,
        which the nodes must then share (see :mod:`.launch`)."""
        with open(os.path.expanduser(filepath)) as f:
            engine_json = f.read()
        engine_dir = os.path.abspath(os.path.expanduser(engine_dir))
        # the engines' copies of the connection file go under the run directory, not the user's
        files = os.path.join(self.work_dir, "engines") if self.work_dir else os.path.join(engine_dir, ".ipp_engines")
        provider = self.execution_provider
        shared = None if provider is None or provider.passes_env else os.path.join(os.path.dirname(files) if self.work_dir else files, "engine-connection.json")
        inner, self._launch_env = engine_launch(
            engine_json, engine_dir, files, self.engine_command, nanny=self.engine_nanny, controller_misses=self.controller_misses, shared_file=shared,
        )
        if container_image:
            # the engine command inside a container: the executor knows no engine's CLI
            engine = self.container if self.container is not None and self.container.image == container_image else container_from_spec({"type": "docker", "image": container_image})
            assert engine is not None
            run_id = self.context.run_id if self.context is not None else "none"
            run_dir = self.context.run_dir if self.context is not None else os.path.dirname(files)
            inner = engine.wrap(container_launch(inner, engine_dir, run_dir, run_id, self.label, BLOCK_VAR, pass_env=tuple(self._launch_env)))
        return inner

    # -- tasks -----------------------------------------------------------------------------

    def submit(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Send ``func(*args, **kwargs)`` to an engine; return its future."""
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        if self._tasks.view is None:
            raise RuntimeError(f"executor {self.label!r} has not been started")
        fut = self._tasks.submit(func, args, kwargs)
        flow = self._flow
        if flow is not None:
            flow.notify()
        return fut

    @property
    def view(self) -> Any:
        """The ipyparallel load-balanced view tasks go through (``None`` when not running)."""
        return self._tasks.view

    def status(self) -> list[Any]:
        """The provider's state of each block (0.5.0's ``executor.status()``)."""
        job_ids = list(self._blocks.jobs().values())
        if not job_ids or self.execution_provider is None:
            return []
        return list(self.execution_provider.status(job_ids))

    @property
    def outstanding(self) -> int:
        """Tasks submitted and not yet finished."""
        return self._tasks.outstanding

    # -- blocks ----------------------------------------------------------------------------

    def _block_provider(self) -> ExecutionProvider | None:
        return self.execution_provider

    def held_blocks(self) -> int:
        """Blocks not in a terminal state (asks the provider)."""
        provider = self.execution_provider
        if provider is None:
            return 0
        if self._blocks.refresh(provider, self.block_failures):
            tripped = self.block_failures.tripped
            if tripped is not None:
                self.fail_waiting(tripped)
        return len(self._blocks)

    def scale_out(self, blocks: int = 1) -> list[str]:
        """Submit ``blocks`` blocks of ``taskBlocks`` engines; return their block ids."""
        provider = self.execution_provider
        if provider is None or self.launch_cmd is None:
            raise ScalingFailed(self.label, "no execution provider (or the executor is not started)")
        if self._shutdown:
            raise ExecutorShutdown(f"executor {self.label!r} has been shut down")
        tasks = self.shape.tasks_per_node
        size = tasks if isinstance(tasks, int) else self._policy.tasks_per_block
        launch = self.launch_cmd
        return self._blocks.submit(
            provider, blocks, lambda bid: f"export {BLOCK_VAR}={bid}; {launch}", size, env=self._launch_env if provider.passes_env else None,
            detail=f"{size} engines", failures=self.block_failures, on_refused=self._fail_stranded,
        )

    def fail_waiting(self, err: BaseException) -> None:
        """Block starts are capped: fail the tasks no engine can run (see ``_fail_stranded``)."""
        self._fail_stranded(err)

    def _fail_stranded(self, err: BaseException) -> None:
        """With no block held and no engine connected, waiting tasks can never run: fail them
        with the provider's error instead of leaving them queued forever."""
        client = self._client
        if len(self._blocks) or client is None or client.ids:
            return
        self._tasks.fail_waiting(err)

    def scale_in(self, blocks: int = 1) -> list[str]:
        """Release ``blocks`` blocks (those that lost engines, then the newest): their engines
        are asked to stop, then the provider cancels the jobs. Returns their block ids."""
        return self._release(blocks, ripe_only=False)

    def release_idle(self, blocks: int = 1) -> list[str]:
        """The strategy's idle release: like :meth:`scale_in`, but a new block stays until
        its engines have registered and then idled ``max_idletime`` seconds (a block
        released before its first engine registered would strand the first tasks)."""
        return self._release(blocks, ripe_only=True)

    def _release(self, blocks: int, ripe_only: bool) -> list[str]:
        provider = self.execution_provider
        if provider is None:
            raise ScalingFailed(self.label, "no execution provider")
        now, idle = time.monotonic(), self._policy.max_idletime

        def ripe(b: HeldBlock) -> bool:
            return b.connected_at is not None and now - b.connected_at >= idle

        victims = self._blocks.take_newest(blocks, ripe if ripe_only else None)
        if not victims:
            return []
        ids = sorted(b.block_id for b in victims)
        engines = self._engines.release(ids)
        client = self._client
        if engines and client is not None:
            try:
                client.shutdown(targets=engines, block=False)
                # let the controller unregister them before their processes go, so no new
                # task is routed to an engine that is about to disappear
                deadline = time.monotonic() + self.release_grace
                while set(engines) & set(client.ids) and time.monotonic() < deadline:
                    time.sleep(0.05)
            except Exception as e:
                logger.debug("asking engines %s to stop failed: %s", engines, e)
        provider.cancel([b.job_id for b in victims])
        for bid in ids:
            remove_containers(self.container, self.context, self.label, bid)
        logger.info("executor %s: released blocks %s", self.label, ", ".join(ids))
        return [b.block_id for b in victims]

    def usable_blocks(self, held: int) -> float:
        """Held blocks counted by their live engines: a block that lost engines counts as
        the fraction still alive, so the strategy replaces the lost capacity."""
        per = self._policy.tasks_per_block
        return max(0.0, held - self._blocks.lost_workers(per) / per)

    # -- the strategy tick and the engines -------------------------------------------------

    def _tick(self, kind: str | None = None) -> None:
        if self._shutdown:
            return
        self._probe_engines()
        tripped = self.block_failures.tripped
        if tripped is not None:
            self._fail_stranded(tripped)  # also tasks submitted after the cap was reached
        if self.strategy is not None and self.scaling_enabled:
            self.strategy.strategize(kind)

    def _probe_engines(self) -> None:
        """Learn host, pid and block of engines that registered since the last tick."""
        client = self._client
        if client is not None:
            self._engines.probe(client)

    def _registered(self, info: EngineInfo) -> None:
        if info.block is None:
            return
        self.block_failures.worker_connected()
        if self._blocks.connected(info.block) is not None:
            logger.info("executor %s: block %s has its first engine registered (engine %d, pid %s)", self.label, info.block, info.engine_id, info.pid)

    def _engine_lost(self, info: EngineInfo) -> None:
        logger.warning("executor %s: engine %d (pid %s on %s, block %s) lost", self.label, info.engine_id, info.pid, info.host, info.block)
        self._blocks.worker_lost(info.block, f"engine {info.engine_id} (pid {info.pid} on {info.host})")

    @property
    def engines(self) -> dict[int, EngineInfo]:
        """Engine id → host, pid and block of the engines registered now (as last probed)."""
        return self._engines.live()

    def engine_pids(self) -> dict[int, int]:
        """Engine id → pid of the engines registered now (probes those not yet known)."""
        client = self._client
        return self._engines.pids(client) if client is not None else {}

    def wait_for_engines(self, n: int, timeout: float = 60) -> None:
        """Block until ``n`` engines are registered (bounded by ``timeout`` seconds)."""
        if self._client is None:
            raise RuntimeError(f"executor {self.label!r} has not been started")
        self._client.wait_for_engines(n, timeout=timeout, block=True)

    # -- shutdown --------------------------------------------------------------------------

    @staticmethod
    def _ask_engines_to_stop(client: Any, hub: bool, engines: list[int]) -> None:
        try:
            if hub:
                client.shutdown(hub=True, block=False)
            elif engines:
                client.shutdown(targets=engines, block=False)
        except Exception as e:
            logger.debug("asking the engines to stop failed: %s", e)

    def shutdown(self, block: bool = True) -> None:
        """Stop the strategy, the engines and blocks, and the controller if started here.
        Tasks still running fail with :class:`ExecutorShutdown`. Idempotent."""
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
        flow, self._flow = self._flow, None
        if flow is not None:
            flow.close()
        self._tasks.close()
        client, self._client = self._client, None
        controller = self.controller
        own = controller is not None and controller.started_here
        if client is not None:
            # ipyparallel waits for the engines' replies without a bound when the hub is
            # included (a confused or flooded controller may never send them): ask from a
            # helper thread and wait a bounded time; the controller and blocks are killed below
            asker = threading.Thread(target=self._ask_engines_to_stop, args=(client, own, self._engines.in_blocks()), name=f"parsl-{self.label}-stop", daemon=True)
            asker.start()
            asker.join(self.stop_wait)
        self._blocks.cancel_all(self.execution_provider)
        remove_containers(self.container, self.context, self.label)
        if client is not None:
            try:
                client.close(linger=0)
            except TypeError:
                client.close()
            except Exception:
                pass
        if controller is not None:
            controller.close()
        self._tasks.fail_all(ExecutorShutdown(f"executor {self.label!r} was shut down before the task finished"))
        self._engines.clear()
