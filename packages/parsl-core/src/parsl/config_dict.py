"""0.5.0 dict configs: validation and translation into a typed :class:`~parsl.config.Config`.

The dict has ``sites`` (required), ``globals`` and ``controller`` (see §3.10 of the 0.5.0
guide). Unknown keys, wrong types and impossible values raise one
:class:`~parsl.errors.ConfigurationError` that names the key path, e.g.
``sites[0].execution.block.maxBlocks: expected an integer, got str '2'``. The dict given is
never modified.

Executors other than ``threads`` are built by their plugin's ``from_site(site, controller)``
class method from a validated :class:`~parsl.interfaces.site.SiteSpec`.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Mapping

from .config import CHECKPOINT_MODES, Config
from .errors import ConfigurationError, PluginError
from .interfaces import BlockShape, ParslExecutor, parse_walltime
from .interfaces.site import BlockSpec, SiteSpec, reject_unknown_keys
from .redact import describe

TOP_KEYS = {"sites", "globals", "controller"}
SITE_KEYS = {"site", "auth", "execution", "data"}
AUTH_KEYS = {
    "channel", "hostname", "username", "password", "scriptDir", "script_dir", "userhome", "envs",
    "port", "key_filename", "keyFile", "known_hosts", "accept_unknown_host_keys",
    # cloud providers' credentials (0.5.0 EC2: keyfile, profile; the others' own names)
    "keyfile", "profile", "project", "subscription_id", "tenant_id", "client_id", "client_secret", "authority",
    "cloud", "auth_url", "project_name", "project_id", "user_domain_name", "project_domain_name",
    "application_credential_id", "application_credential_secret", "region_name",
}
EXECUTION_KEYS = {
    "executor", "provider", "maxThreads", "threadNamePrefix", "block", "container", "scriptDir",
    "script_dir", "options", "launcher", "max_workers",
}
BLOCK_KEYS = {
    "nodes", "taskBlocks", "walltime", "initBlocks", "minBlocks", "maxBlocks", "parallelism",
    "scriptDir", "script_dir", "options", "launcher",
}
DATA_KEYS = {"working_dir", "globus"}
GLOBUS_KEYS = {"endpoint_name", "endpoint_path", "local_path"}
GLOBALS_KEYS = {
    "lazyErrors", "retries", "appCache", "memoize", "checkpointMode", "checkpointPeriod",
    "checkpointFiles", "runDir", "usageTracking", "initializeLogging", "monitoring", "lazy_fail", "strategy",
}
logger = logging.getLogger("parsl.config")

CONTROLLER_KEYS = {"publicIp", "port", "portRange", "reuse", "profile", "ipythonDir", "mode", "allowRemote", "encrypted"}

#: 0.5.0's block defaults
BLOCK_DEFAULTS: dict[str, Any] = {
    "nodes": 1, "taskBlocks": 1, "walltime": "00:10:00", "initBlocks": 1, "minBlocks": 0,
    "maxBlocks": 10, "parallelism": 0.75,
}

#: sane upper bound for a thread pool (more is a typo, and would exhaust the machine)
MAX_THREADS = 10_000


def _port_range(value: Any) -> None:
    """``"low,high"`` (or one port) with 1 <= low <= high <= 65535."""
    where = "controller.portRange"
    parts = str(value).split(",") if isinstance(value, (str, int)) and not isinstance(value, bool) else []
    try:
        ports = [int(p.strip()) for p in parts]
    except ValueError:
        ports = []
    if not 1 <= len(ports) <= 2 or not all(1 <= p <= 65535 for p in ports) or ports != sorted(ports):
        raise ConfigurationError(f'must be "low,high" with 1 <= low <= high <= 65535, got {value!r}', where)


_TYPE_NAMES = {int: "an integer", str: "a string", bool: "True or False", dict: "a dict", list: "a list", float: "a number"}


def _describe(v: Any, where: str = "") -> str:
    return describe(v, where)


def _check_keys(d: Mapping[str, Any], allowed: set[str], path: str) -> None:
    reject_unknown_keys(d, allowed, path)


def _get(d: Mapping[str, Any], key: str, kind: type | tuple[type, ...], path: str, default: Any = None, required: bool = False, allow_none: bool = False) -> Any:
    where = f"{path}.{key}" if path else key
    if key not in d:
        if required:
            raise ConfigurationError("is required", where)
        return default
    v = d[key]
    if v is None and allow_none:
        return None
    kinds = kind if isinstance(kind, tuple) else (kind,)
    ok = any(isinstance(v, k) and not (k in (int, float) and isinstance(v, bool)) for k in kinds)
    if float in kinds and isinstance(v, int) and not isinstance(v, bool):
        ok = True
    if not ok:
        expected = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise ConfigurationError(f"expected {expected}, got {_describe(v, where)}", where)
    return v


def _count(d: Mapping[str, Any], key: str, path: str, default: int, minimum: int = 0) -> int:
    v = _get(d, key, int, path, default)
    if v < minimum:
        raise ConfigurationError(f"must be at least {minimum}, got {v}", f"{path}.{key}")
    return int(v)


def _walltime(value: str, where: str) -> str:
    try:
        parse_walltime(value)
    except ConfigurationError as e:
        raise ConfigurationError(e.message, where) from None
    return value


def _block(execution: Mapping[str, Any], path: str) -> BlockSpec:
    raw = _get(execution, "block", dict, path, {})
    bpath = f"{path}.block"
    _check_keys(raw, BLOCK_KEYS, bpath)
    nodes = _count(raw, "nodes", bpath, BLOCK_DEFAULTS["nodes"], 1)
    tasks = _get(raw, "taskBlocks", (int, str), bpath, BLOCK_DEFAULTS["taskBlocks"])
    if isinstance(tasks, int) and tasks < 1:
        raise ConfigurationError(f"must be at least 1, got {tasks}", f"{bpath}.taskBlocks")
    if isinstance(tasks, str) and not tasks.strip():
        raise ConfigurationError("must be a number or a bash expression, got an empty string", f"{bpath}.taskBlocks")
    walltime = _walltime(_get(raw, "walltime", str, bpath, BLOCK_DEFAULTS["walltime"]), f"{bpath}.walltime")
    init = _count(raw, "initBlocks", bpath, BLOCK_DEFAULTS["initBlocks"])
    lo = _count(raw, "minBlocks", bpath, BLOCK_DEFAULTS["minBlocks"])
    hi = _count(raw, "maxBlocks", bpath, max(BLOCK_DEFAULTS["maxBlocks"], init, lo))
    if lo > hi:
        raise ConfigurationError(f"minBlocks ({lo}) is above maxBlocks ({hi})", f"{bpath}.maxBlocks")
    if init > hi:
        # 0.5.0 started initBlocks blocks whatever maxBlocks said (its published configs rely on it)
        logger.warning("%s.initBlocks (%d) is above maxBlocks (%d): the %d initial blocks are started, and maxBlocks is taken as %d", bpath, init, hi, init, init)
        hi = init
    p = float(_get(raw, "parallelism", float, bpath, BLOCK_DEFAULTS["parallelism"]))
    if not 0.0 <= p <= 1.0:
        raise ConfigurationError(f"must be between 0 and 1, got {p}", f"{bpath}.parallelism")
    options = _get(raw, "options", dict, bpath, {})
    script_dir = _get(raw, "scriptDir", str, bpath) or _get(raw, "script_dir", str, bpath)
    launcher = _get(raw, "launcher", str, bpath)
    shape = BlockShape(
        nodes_per_block=nodes, tasks_per_node=tasks, walltime=walltime, init_blocks=init,
        min_blocks=lo, max_blocks=hi, parallelism=p,
    )
    return BlockSpec(shape=shape, options=dict(options), script_dir=script_dir, launcher=launcher)


def site_from_dict(raw: Any, path: str) -> SiteSpec:
    """Validate one ``sites`` entry."""
    if not isinstance(raw, dict):
        raise ConfigurationError(f"each site must be a dict, got {_describe(raw)}", path)
    _check_keys(raw, SITE_KEYS, path)
    name = _get(raw, "site", str, path, required=True)
    if not name:
        raise ConfigurationError("must be a non-empty name", f"{path}.site")
    auth = _get(raw, "auth", dict, path, {}, allow_none=True) or {}
    _check_keys(auth, AUTH_KEYS, f"{path}.auth")
    channel = _get(auth, "channel", str, f"{path}.auth", allow_none=True)
    execution = _get(raw, "execution", dict, path, required=True)
    epath = f"{path}.execution"
    _check_keys(execution, EXECUTION_KEYS, epath)
    executor = _get(execution, "executor", str, epath, required=True)
    provider = _get(execution, "provider", str, epath, allow_none=True)
    for key in ("maxThreads", "max_workers"):
        if key in execution:
            _count(execution, key, epath, 2, 1)
    _get(execution, "threadNamePrefix", str, epath)
    _get(execution, "options", dict, epath)
    container = _get(execution, "container", dict, epath, allow_none=True)
    if container is not None:
        # type and image here; the engine's own keys (pull, run_args, ...) are checked by the
        # engine plugin when the executor is built (parsl.interfaces.container_from_spec)
        _get(container, "type", str, f"{epath}.container", required=True)
        _get(container, "image", str, f"{epath}.container", required=True)
    data = _get(raw, "data", dict, path, allow_none=True)
    if data is not None:
        _check_keys(data, DATA_KEYS, f"{path}.data")
        _get(data, "working_dir", str, f"{path}.data")
        globus = _get(data, "globus", dict, f"{path}.data")
        if globus is not None:
            _check_keys(globus, GLOBUS_KEYS, f"{path}.data.globus")
            _get(globus, "endpoint_name", str, f"{path}.data.globus", required=True)
    script_dir = (
        _get(execution, "scriptDir", str, epath)
        or _get(execution, "script_dir", str, epath)
        or _get(auth, "scriptDir", str, f"{path}.auth")
        or _get(auth, "script_dir", str, f"{path}.auth")
    )
    return SiteSpec(
        name=name, executor=executor, provider=provider, channel=channel, auth=dict(auth),
        execution=dict(execution), block=_block(execution, epath), container=container, data=data,
        script_dir=script_dir, path=path,
    )


def _threads_from_site(site: SiteSpec, controller: Mapping[str, Any]) -> ParslExecutor:
    from .executors.threads import ThreadPoolExecutor, refuse_container

    refuse_container(site.container, f"{site.path}.execution.container")
    options = site.execution.get("options") or {}
    for where, d in ((f"{site.path}.execution.options", options), (f"{site.path}.execution", site.execution)):
        for key in ("maxThreads", "max_workers"):
            if key not in d:
                continue
            v = d[key]
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= MAX_THREADS:
                raise ConfigurationError(f"must be an integer from 1 to {MAX_THREADS}, got {_describe(v)}", f"{where}.{key}")
    max_threads = options.get("maxThreads", site.execution.get("maxThreads", site.execution.get("max_workers", 2)))
    prefix = options.get("threadNamePrefix", site.execution.get("threadNamePrefix", ""))
    return ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix=prefix, label=site.name)


def executor_from_site(site: SiteSpec, controller: Mapping[str, Any]) -> ParslExecutor:
    """Build the executor a site names, through the plugin registry."""
    from . import plugins

    if site.executor == "threads":
        return _threads_from_site(site, controller)
    where = f"{site.path}.execution.executor"
    try:
        cls = plugins.get("executor", site.executor)
    except PluginError as e:
        raise ConfigurationError(str(e), where) from e
    if site.container is not None and not cls.supports_containers:
        raise ConfigurationError(
            f"the {site.executor!r} executor cannot run its workers in a container; use an executor that can (\"ipp\") or remove \"container\"",
            f"{site.path}.execution.container",
        )
    from_site: Callable[..., ParslExecutor] | None = getattr(cls, "from_site", None)
    if from_site is None:
        raise ConfigurationError(f"the {site.executor!r} executor cannot be configured from a 0.5.0 site dict; build it as an object", where)
    return from_site(site, controller)


def config_from_dict(raw: Mapping[str, Any]) -> Config:
    """Validate a 0.5.0 config dict and translate it into a :class:`Config`."""
    if not isinstance(raw, Mapping):
        raise ConfigurationError(f"a config must be a dict, got {_describe(raw)}")
    _check_keys(raw, TOP_KEYS, "")
    sites_raw = _get(raw, "sites", list, "", required=True)
    if not sites_raw:
        raise ConfigurationError("must list at least one site", "sites")
    sites = [site_from_dict(s, f"sites[{i}]") for i, s in enumerate(sites_raw)]
    seen: dict[str, int] = {}
    for i, s in enumerate(sites):
        if s.name in seen:
            raise ConfigurationError(f"duplicate site name {s.name!r} (also sites[{seen[s.name]}])", f"sites[{i}].site")
        seen[s.name] = i
    g = _get(raw, "globals", dict, "", {}, allow_none=True) or {}
    _check_keys(g, GLOBALS_KEYS, "globals")
    controller = _get(raw, "controller", dict, "", {}, allow_none=True) or {}
    _check_keys(controller, CONTROLLER_KEYS, "controller")
    _get(controller, "publicIp", str, "controller", allow_none=True)
    if "port" in controller and controller["port"] is not None:
        if not 1 <= _count(controller, "port", "controller", 0, 1) <= 65535:
            raise ConfigurationError(f"must be a TCP port from 1 to 65535, got {controller['port']!r}", "controller.port")
    if controller.get("portRange") is not None:
        _port_range(controller["portRange"])
    _get(controller, "reuse", bool, "controller")

    lazy = _get(g, "lazyErrors", bool, "globals", _get(g, "lazy_fail", bool, "globals", True))
    if "strategy" in g:
        _get(g, "strategy", str, "globals", allow_none=True)
        logger.info("globals.strategy (%r) is accepted and ignored: each executor scales its blocks with its own strategy", g["strategy"])
    retries = _count(g, "retries", "globals", 0)
    app_cache = _get(g, "appCache", bool, "globals", True)
    memoize = _get(g, "memoize", bool, "globals", True)
    mode = _get(g, "checkpointMode", str, "globals", allow_none=True)
    if mode not in CHECKPOINT_MODES:
        raise ConfigurationError(f"must be one of {', '.join(repr(m) for m in CHECKPOINT_MODES[1:])} or None, got {mode!r}", "globals.checkpointMode")
    period = _get(g, "checkpointPeriod", str, "globals")
    if period is not None:
        _walltime(period, "globals.checkpointPeriod")
    files = _get(g, "checkpointFiles", list, "globals", [])
    for i, f in enumerate(files):
        if not isinstance(f, str):
            raise ConfigurationError(f"expected a path string, got {_describe(f)}", f"globals.checkpointFiles[{i}]")
    run_dir = _get(g, "runDir", str, "globals", "runinfo")
    usage = _get(g, "usageTracking", bool, "globals", False)
    init_logging = _get(g, "initializeLogging", bool, "globals", True)
    monitoring = _get(g, "monitoring", bool, "globals", False)

    executors = [executor_from_site(s, controller) for s in sites]
    return Config(
        executors=executors,
        lazy_errors=lazy,
        retries=retries,
        app_cache=app_cache and memoize,
        checkpoint_files=tuple(files),
        checkpoint_mode=mode,
        checkpoint_period=period,
        run_dir=run_dir,
        usage_tracking=usage,
        initialize_logging=init_logging,
        monitoring=monitoring,
        controller=dict(controller),
        site_data={s.name: dict(s.data) for s in sites if s.data},
    )
