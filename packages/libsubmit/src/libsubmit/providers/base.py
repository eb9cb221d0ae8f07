"""What every libsubmit provider shares: its block shape, options, launcher and channel, read
either from keyword arguments or from a 0.5.0 site (a dict, or a validated
:class:`parsl.interfaces.SiteSpec`).

A provider exposes the bounds it was configured with as ``provider.shape``, a frozen
:class:`parsl.interfaces.BlockShape` (``nodes_per_block``, ``tasks_per_node``, ``walltime``,
``init_blocks``, ``min_blocks``, ``max_blocks``, ``parallelism``); executors read that and
nothing else.
"""
from __future__ import annotations

import dataclasses
import logging
import re
import types
from typing import Any, ClassVar, Mapping, TypeVar

from parsl import plugins
from parsl.errors import ConfigurationError, PluginError
from parsl.interfaces import BlockShape, Channel, ExecutionProvider, Launcher, SiteSpec, reject_unknown_keys

from ..channels.local.local import LocalChannel
from .private_files import env_exports

__all__ = ["BlockProvider", "channel_from_site", "launcher_from_name", "site_from_config", "validate_job_name"]

P = TypeVar("P", bound="BlockProvider")

_JOB_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_SHAPE_FIELDS = tuple(f.name for f in dataclasses.fields(BlockShape))
#: ``execution.block.options`` keys some 0.5.0 provider read; on a site whose provider does
#: not read one, it is ignored with an INFO line (other unknown keys stay errors)
SCHEDULER_OPTIONS_050 = frozenset(
    {"partition", "account", "queue", "project", "overrides", "requirements", "workerSetup", "pe",
     "imageId", "instanceType", "region", "keyName", "spotMaxBid", "stateFile", "vpcId", "securityGroup"}
)
logger = logging.getLogger("libsubmit.providers")


def validate_job_name(job_name: str) -> str:
    """Job names go into scheduler directives and file names: letters, digits, ``._-``."""
    if not isinstance(job_name, str) or not _JOB_NAME.match(job_name):
        raise ConfigurationError(
            f"{job_name!r} is not a valid job name: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit",
            "job_name",
        )
    return job_name


def site_from_config(config: Mapping[str, Any], provider: str, path: str = "config") -> SiteSpec:
    """Validate a 0.5.0 site dict as given to ``Slurm(config=...)``. The ``site`` name and
    ``execution.executor`` may be left out (a provider does not need them)."""
    from parsl.interfaces import site_from_dict

    if not isinstance(config, Mapping):
        raise ConfigurationError(f"expected a 0.5.0 site dict, got {type(config).__name__}", path)
    raw = dict(config)
    raw.setdefault("site", provider)
    execution = raw.get("execution")
    if isinstance(execution, Mapping):
        execution = dict(execution)
        execution.setdefault("executor", "ipp")
        execution.setdefault("provider", provider)
        raw["execution"] = execution
    return site_from_dict(raw, path)


def channel_from_site(site: SiteSpec) -> Channel:
    """Build the channel named by ``site.auth`` (``None`` or ``"local"`` means a
    :class:`LocalChannel`), with the other ``auth`` keys as its keyword arguments."""
    where = f"{site.path}.auth.channel"
    kwargs = {k: v for k, v in site.auth.items() if k != "channel"}
    if site.script_dir and "scriptDir" not in kwargs and "script_dir" not in kwargs:
        kwargs["scriptDir"] = site.script_dir
    if "script_dir" in kwargs:
        kwargs.setdefault("scriptDir", kwargs.pop("script_dir"))
    if "keyFile" in kwargs:
        kwargs.setdefault("key_filename", kwargs.pop("keyFile"))
    name = site.channel or "local"
    try:
        cls = plugins.get("channel", name)
    except PluginError as e:
        raise ConfigurationError(str(e), where) from e
    try:
        channel: Channel = cls(**kwargs)
    except TypeError as e:
        raise ConfigurationError(f"the {name!r} channel does not accept these auth keys: {e}", f"{site.path}.auth") from e
    return channel


def launcher_from_name(name: str, where: str) -> Launcher:
    try:
        launcher = plugins.get("launcher", name)
    except PluginError as e:
        raise ConfigurationError(str(e), where) from e
    return launcher  # type: ignore[no-any-return]


class BlockProvider(ExecutionProvider):
    """Base of the libsubmit providers.

    Construct with keyword arguments (``nodes_per_block``, ``tasks_per_node``, ``walltime``,
    ``init_blocks``, ``min_blocks``, ``max_blocks``, ``parallelism``, ``launcher`` and the
    provider's own options such as ``partition``), or 0.5.0 style with ``config=`` a site dict
    (its ``execution.block`` gives the shape and ``execution.block.options`` the options);
    keyword arguments win over the dict. ``channel`` defaults to the one the site's ``auth``
    names, else a :class:`LocalChannel`.
    """

    #: the ``parsl.providers`` entry-point name
    name: ClassVar[str] = "block"
    #: scheduler-specific options this provider understands (``execution.block.options``)
    option_names: ClassVar[frozenset[str]] = frozenset()
    #: the launcher used when none is configured
    default_launcher: ClassVar[str] = "single_node"
    #: options whose values are not strings (``spotMaxBid``: a number), with their types
    option_types: ClassVar[Mapping[str, tuple[type, ...]]] = {}

    def __init__(
        self,
        config: Mapping[str, Any] | SiteSpec | None = None,
        channel: Channel | None = None,
        *,
        launcher: str | Launcher | None = None,
        label: str | None = None,
        **kwargs: Any,
    ) -> None:
        site = config if isinstance(config, SiteSpec) or config is None else site_from_config(config, self.name)
        options_path = f"{site.path}.execution.block.options" if site else type(self).__name__
        shape_kwargs = {k: kwargs.pop(k) for k in list(kwargs) if k in _SHAPE_FIELDS}
        shape = site.block.shape if site else BlockShape()
        try:
            self.shape: BlockShape = dataclasses.replace(shape, **shape_kwargs) if shape_kwargs else shape
        except ConfigurationError as e:
            raise ConfigurationError(e.message, f"{type(self).__name__}.{e.path}") from None
        options: dict[str, Any] = {}
        if site:
            # execution.options belongs to the executor; the provider's are block.options
            options.update(site.block.options)
            for key in sorted(set(options) & (SCHEDULER_OPTIONS_050 - self.option_names)):
                # 0.5.0 ignored options meant for another scheduler (configs were copied between sites)
                logger.info("%s.%s is an option of another scheduler; the %s provider ignores it", options_path, key, self.name)
                del options[key]
        options.update(kwargs)
        reject_unknown_keys(
            options,
            self.option_names,
            options_path,
            owner=f"the {self.name} provider",
            suggest_from=self.option_names | SCHEDULER_OPTIONS_050 if site else self.option_names | set(_SHAPE_FIELDS),
        )
        for key, value in options.items():
            types_ok = self.option_types.get(key, (str,))
            if value is not None and (not isinstance(value, types_ok) or isinstance(value, bool)):
                wanted = " or ".join("a string" if t is str else "a number" if t in (int, float) else t.__name__ for t in types_ok)
                raise ConfigurationError(f"expected {wanted}, got {type(value).__name__} {value!r}", f"{options_path}.{key}")
        #: the validated provider-specific options
        self.options: Mapping[str, Any] = {k: v for k, v in options.items() if v is not None}
        launcher_where = f"{site.path}.execution.block.launcher" if site else f"{type(self).__name__}.launcher"
        if launcher is None and site is not None:
            launcher = site.block.launcher or site.execution.get("launcher")
        if launcher is None:
            launcher = self.default_launcher
        if isinstance(launcher, str):
            self.launcher_name = launcher
            self.launcher: Launcher = launcher_from_name(launcher, launcher_where)
        elif callable(launcher):
            self.launcher_name = launcher.__qualname__ if isinstance(launcher, types.FunctionType) else type(launcher).__name__
            self.launcher = launcher
        else:
            raise ConfigurationError(f"expected a launcher name or function, got {launcher!r}", launcher_where)
        self.label = label or (site.name if site else self.name)
        self.channel: Channel = channel if channel is not None else (channel_from_site(site) if site else LocalChannel())
        self.site = site

    @classmethod
    def from_site(cls: type[P], site: SiteSpec) -> P:
        """Build the provider, its channel and its launcher from a validated 0.5.0 site."""
        return cls(config=site, channel=channel_from_site(site))

    #: block scripts are private files, so ``submit(env=...)`` can carry secrets
    passes_env: ClassVar[bool] = True

    @property
    def channels_required(self) -> bool:
        return True

    # upstream reads the block bounds straight off the provider
    @property
    def nodes_per_block(self) -> int:
        return self.shape.nodes_per_block

    @property
    def init_blocks(self) -> int:
        return self.shape.init_blocks

    @property
    def min_blocks(self) -> int:
        return self.shape.min_blocks

    @property
    def max_blocks(self) -> int:
        return self.shape.max_blocks

    @property
    def parallelism(self) -> float:
        return self.shape.parallelism

    def launch_command(self, cmd_string: str, env: Mapping[str, str] | None = None) -> str:
        """The block's command wrapped by the launcher for this provider's shape, after
        ``export`` lines for ``env`` (so values never appear on a command line)."""
        return env_exports(env) + self.launcher(cmd_string, self.shape.tasks_per_node, nodes_per_block=self.shape.nodes_per_block)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(label={self.label!r}, shape={self.shape!r}, channel={self.channel!r})"
