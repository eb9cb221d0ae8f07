"""The plugin registry: executors, providers, channels, launchers, staging, containers,
monitoring and ``parsl`` sub-commands by name.

Lookup order for ``get(kind, name)``:

1. programmatic registrations (:func:`register`), for embedding and tests;
2. one cached scan of the entry-point group of that kind (``parsl.executors``,
   ``parsl.providers``, ``parsl.channels``, ``parsl.launchers``, ``parsl.staging``,
   ``parsl.containers``, ``parsl.monitoring``, ``parsl.commands``); parsl-core registers
   ``threads`` and ``file`` there too;
3. a :class:`~parsl.errors.PluginNotFound` that lists what is installed, suggests a close name,
   and, for a name that a known distribution provides, gives the ``pip install`` line.

A plugin whose optional dependency is missing raises
:class:`~parsl.errors.PluginDependencyMissing` with the exact ``pip install 'dist[extra]'``.
Nothing here runs at import time.
"""
from __future__ import annotations

import difflib
import importlib
import re
import threading
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any, Callable

from .errors import PluginDependencyMissing, PluginError, PluginNotFound, PluginTypeError

KINDS: dict[str, str] = {
    "executor": "parsl.executors",
    "provider": "parsl.providers",
    "channel": "parsl.channels",
    "launcher": "parsl.launchers",
    "staging": "parsl.staging",
    "container": "parsl.containers",
    "monitoring": "parsl.monitoring",
    "command": "parsl.commands",
}

#: names that the project's own distributions provide, for the "install it with" hint
KNOWN_PROVIDERS: dict[tuple[str, str], str] = {
    **{("executor", n): "parsl-executors[ipp]" for n in ("ipp",)},
    ("executor", "htex"): "parsl-executors[htex]",
    ("executor", "swift_t"): "parsl-executors[mpi]",
    ("executor", "turbine"): "parsl-executors[mpi]",
    **{("provider", n): "libsubmit" for n in ("local", "slurm", "torque", "cobalt", "condor", "gridengine", "gridEngine")},
    ("provider", "aws"): "libsubmit[aws]",
    ("provider", "azure"): "libsubmit[azure]",
    ("provider", "googlecloud"): "libsubmit[google]",
    ("provider", "jetstream"): "libsubmit[openstack]",
    ("channel", "local"): "libsubmit",
    ("channel", "ssh"): "libsubmit[ssh]",
    ("channel", "ssh-il"): "libsubmit[ssh]",
    **{
        ("launcher", n): "libsubmit"
        for n in ("single_node", "singleNode", "simple", "srun", "srun_mpi", "srunMpi", "aprun", "mpiexec", "mpirun", "jsrun", "gnu_parallel")
    },
    ("staging", "globus"): "parsl-data[globus]",
    **{("staging", n): "parsl-data" for n in ("http", "https", "ftp")},
    **{("container", n): "parsl-containers" for n in ("docker", "podman", "singularity", "apptainer")},
    ("monitoring", "sqlite"): "parsl-monitoring",
    **{("command", n): "parsl-monitoring" for n in ("status", "top", "report", "web", "run")},
    ("command", "globus"): "parsl-data[globus]",
}

# module names whose distribution is not spelled like the module
_MODULE_TO_DIST = {"zmq": "pyzmq", "google": "google-cloud-compute", "yaml": "pyyaml", "mpi4py": "mpi4py"}


@dataclass(frozen=True)
class PluginInfo:
    """One row of ``parsl plugins``."""

    kind: str
    name: str
    target: str
    distribution: str | None
    version: str | None
    source: str  # "entry point" or "registered"


#: parsl-core's own plugins (also declared as entry points in its pyproject)
_BUILTINS: dict[tuple[str, str], str] = {
    ("executor", "threads"): "parsl.executors.threads:ThreadPoolExecutor",
    ("staging", "file"): "parsl.data_provider.file_staging:FileStaging",
}

_lock = threading.Lock()
_registered: dict[str, dict[str, Any]] = {k: {} for k in KINDS}
_scan: dict[str, dict[str, metadata.EntryPoint]] | None = None
_loaded: dict[tuple[str, str], Any] = {}


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise PluginError(f"unknown plugin kind {kind!r}; kinds are: {', '.join(KINDS)}")
    return KINDS[kind]


def register(kind: str, name: str, obj: Any) -> None:
    """Register ``obj`` (a class, a callable, or a ``"module:attr"`` string) as the ``kind``
    plugin ``name``. Registrations take precedence over entry points."""
    _check_kind(kind)
    with _lock:
        _registered[kind][name] = obj
        _loaded.pop((kind, name), None)


def unregister(kind: str, name: str) -> None:
    """Remove a programmatic registration (entry points are untouched)."""
    _check_kind(kind)
    with _lock:
        _registered[kind].pop(name, None)
        _loaded.pop((kind, name), None)


def clear_cache() -> None:
    """Forget the entry-point scan and loaded plugins (the next lookup scans again)."""
    global _scan
    with _lock:
        _scan = None
        _loaded.clear()


def _entry_points() -> dict[str, dict[str, metadata.EntryPoint]]:
    global _scan
    scan = _scan
    if scan is None:
        found: dict[str, dict[str, metadata.EntryPoint]] = {k: {} for k in KINDS}
        all_eps = metadata.entry_points()
        for kind, group in KINDS.items():
            for ep in all_eps.select(group=group):
                found[kind].setdefault(ep.name, ep)
        # parsl-core's own defaults, also when it runs from a source tree with no metadata
        for (kind, name), value in _BUILTINS.items():
            found[kind].setdefault(name, metadata.EntryPoint(name, value, KINDS[kind]))
        with _lock:
            if _scan is None:
                _scan = found
            scan = _scan
    return scan


def names(kind: str) -> list[str]:
    """Every name of this kind that is registered or installed."""
    _check_kind(kind)
    return sorted(set(_registered[kind]) | set(_entry_points()[kind]))


def _expected_types(kind: str) -> tuple[type, ...] | None:
    from . import interfaces

    return {
        "executor": (interfaces.ParslExecutor,),
        "provider": (interfaces.ExecutionProvider,),
        "channel": (interfaces.Channel,),
        "staging": (interfaces.Staging,),
        "container": (interfaces.ContainerEngine,),
        "monitoring": (interfaces.Monitor,),
    }.get(kind)


def _import_target(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in filter(None, attr.split(".")):
        obj = getattr(obj, part)
    return obj


def _dist_of(ep: metadata.EntryPoint) -> metadata.Distribution | None:
    return getattr(ep, "dist", None)


def _missing_dependency(kind: str, name: str, err: ModuleNotFoundError, target: str, dist: metadata.Distribution | None) -> PluginError:
    missing = (err.name or "").split(".")[0]
    own = target.split(":")[0].split(".")[0]
    dist_name = dist.metadata["Name"] if dist is not None else KNOWN_PROVIDERS.get((kind, name), "the plugin's distribution").split("[")[0]
    if not missing or missing == own:
        return PluginError(f"{kind} plugin {name!r} ({target}) is broken: {err}; reinstall {dist_name}")
    extra = _extra_providing(dist, missing)
    return PluginDependencyMissing(f"the {kind} plugin {name!r}", missing, dist_name, extra)


def _norm(s: str) -> str:
    return re.sub(r"[-_.]+", "-", s).lower()


def _extra_providing(dist: metadata.Distribution | None, module: str) -> str | None:
    """The extra of ``dist`` whose requirements install ``module``, read from its metadata."""
    if dist is None:
        return None
    wanted = _norm(_MODULE_TO_DIST.get(module, module))
    for req in dist.requires or ():
        m = re.match(r"\s*([A-Za-z0-9_.\-]+)[^;]*;\s*(.*)$", req)
        if not m:
            continue
        req_name, marker = _norm(m.group(1)), m.group(2)
        extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
        if extra and (req_name == wanted or req_name.startswith(wanted + "-") or wanted.startswith(req_name)):
            return extra.group(1)
    return None


def get(kind: str, name: str) -> Any:
    """The plugin object (usually a class) registered as ``kind`` ``name``, loaded and
    type-checked."""
    _check_kind(kind)
    key = (kind, name)
    obj = _loaded.get(key)
    if obj is not None:
        return obj
    dist: metadata.Distribution | None = None
    if name in _registered[kind]:
        obj = _registered[kind][name]
        target = obj if isinstance(obj, str) else f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', obj)}"
    else:
        ep = _entry_points()[kind].get(name)
        if ep is None:
            installed = names(kind)
            close = difflib.get_close_matches(name, installed, n=1)
            hint_dist = KNOWN_PROVIDERS.get(key)
            raise PluginNotFound(
                kind,
                name,
                installed,
                suggestion=close[0] if close else None,
                install_hint=f"pip install '{hint_dist}'" if hint_dist else None,
            )
        obj, target, dist = ep.value, ep.value, _dist_of(ep)
    if isinstance(obj, str):
        try:
            obj = _import_target(obj)
        except ModuleNotFoundError as err:
            raise _missing_dependency(kind, name, err, target, dist) from err
        except (ImportError, AttributeError) as err:
            raise PluginError(f"{kind} plugin {name!r} could not be loaded from {target}: {err}") from err
    expected = _expected_types(kind)
    if expected is not None:
        if not (isinstance(obj, type) and issubclass(obj, expected)):
            raise PluginTypeError(kind, name, obj, expected)
    elif not callable(obj):
        raise PluginTypeError(kind, name, obj, (type,))
    with _lock:
        _loaded[key] = obj
    return obj


def create(kind: str, name: str, **options: Any) -> Any:
    """Instantiate the ``kind`` plugin ``name`` with ``options``."""
    factory: Callable[..., Any] = get(kind, name)
    return factory(**options)


def require(module: str, *, feature: str, distribution: str, extra: str | None = None) -> ModuleType:
    """Import an optional dependency where a feature needs it, or raise
    :class:`PluginDependencyMissing` naming the ``pip install`` line."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        if err.name and err.name.split(".")[0] != module.split(".")[0]:
            raise
        raise PluginDependencyMissing(feature, module, distribution, extra) from None


def describe() -> list[PluginInfo]:
    """Every registered and installed plugin, for ``parsl plugins``."""
    rows: list[PluginInfo] = []
    scan = _entry_points()
    for kind in KINDS:
        for name in names(kind):
            if name in _registered[kind]:
                obj = _registered[kind][name]
                target = obj if isinstance(obj, str) else f"{getattr(obj, '__module__', '?')}:{getattr(obj, '__qualname__', '?')}"
                rows.append(PluginInfo(kind, name, target, None, None, "registered"))
                continue
            ep = scan[kind][name]
            dist = _dist_of(ep)
            rows.append(
                PluginInfo(
                    kind,
                    name,
                    ep.value,
                    dist.metadata["Name"] if dist is not None else None,
                    dist.version if dist is not None else None,
                    "entry point",
                )
            )
    return rows
