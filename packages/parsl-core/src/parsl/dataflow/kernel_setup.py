"""Building a DataFlowKernel's configuration and run log: the typed Config from a dict, an
executor list or nothing; the 0.5.0 DataFlowKernel keywords applied on top; the memoizer the
config asks for; and the compact ``parsl.log`` of the run."""
from __future__ import annotations

import itertools
import logging
import os
import pathlib
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..config import Config
from ..errors import ConfigurationError
from ..interfaces import Memoizer, Monitor, ParslExecutor
from .memoization import from_config as memoizer_from_config

if TYPE_CHECKING:
    from ..logconfigs.base import LogConfig

#: DataFlowKernel keyword -> Config field (the keywords override the config)
_KEYWORDS = {
    "lazyErrors": "lazy_errors",
    "lazy_fail": "lazy_errors",
    "appCache": "app_cache",
    "retries": "retries",
    "checkpointFiles": "checkpoint_files",
    "checkpointMode": "checkpoint_mode",
    "checkpointPeriod": "checkpoint_period",
    "memoizer": "memoizer",
    "data_manager": "data_manager",
    "dependency_resolver": "dependency_resolver",
}


def apply_dfk_keywords(cfg: Config, **keywords: Any) -> Config:
    """``cfg`` with every DataFlowKernel keyword that was given (not None) applied."""
    changes = {_KEYWORDS[k]: v for k, v in keywords.items() if v is not None}
    return cfg.with_(**changes) if changes else cfg


def peek_count(counter: itertools.count[int]) -> int:
    """The next value of an itertools.count, which hands out numbers atomically but has no
    read method; its repr is ``count(N)``."""
    return int(repr(counter)[len("count(") : -1])


def resolve_config(config: Config | dict[str, Any] | None, executors: Sequence[ParslExecutor] | None) -> Config:
    if config is not None and executors is not None:
        raise ConfigurationError("give either config= or executors=, not both")
    if isinstance(config, Config):
        config.validate()  # its fields may have been assigned since it was built
        return config
    if isinstance(config, dict):
        from ..config_dict import config_from_dict

        return config_from_dict(config)
    if config is not None:
        raise ConfigurationError(f"config must be a Config or a 0.5.0 config dict, not {type(config).__name__}")
    if executors is not None:
        if isinstance(executors, ParslExecutor):
            executors = [executors]
        return Config(executors=list(executors))
    return Config()


def default_memoizer(cfg: Config) -> Memoizer:
    """The memoizer a config asks for: checkpointing as configured, or caching in memory."""
    return memoizer_from_config(cfg)


#: loggers whose INFO lines go to parsl.log: the kernel's and the plugin distributions'
#: (block submitted/released, engine lost, scaling decisions); names only, nothing imported
RUN_LOGGERS = ("parsl", "parsl_executors", "libsubmit", "parsl_data", "parsl_containers")


def start_run_log(run_dir: str, setting: bool | LogConfig = True) -> Callable[[], None] | None:
    """Set up the run's log as ``Config.initialize_logging`` asks; return the function that
    detaches it (None when logging is off)."""
    if setting is False:
        return None
    if setting is not True:
        return setting.initialize_logging(log_dir=pathlib.Path(run_dir), log_name="parsl")
    from ..log_utils import COMPACT_FORMAT

    handler = logging.FileHandler(os.path.join(run_dir, "parsl.log"))
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(COMPACT_FORMAT))
    for name in RUN_LOGGERS:
        log = logging.getLogger(name)
        if log.getEffectiveLevel() > logging.INFO:
            log.setLevel(logging.INFO)
        log.addHandler(handler)

    def detach() -> None:
        stop_run_log(handler)

    return detach


def stop_run_log(handler: logging.Handler) -> None:
    for name in RUN_LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    handler.close()


def start_monitor(setting: bool | Monitor, run_id: str, run_dir: str) -> Monitor | None:
    """The workflow's monitor, started, or None when monitoring is off. ``PARSL_MONITORING=1``
    in the environment (what ``parsl run`` sets) turns it on for a config that leaves it off."""
    if setting is False and os.environ.get("PARSL_MONITORING", "") in ("", "0"):
        return None
    if isinstance(setting, Monitor):
        monitor = setting
    else:
        from ..plugins import create

        monitor = create("monitoring", "sqlite")
    monitor.start(run_id, run_dir)
    return monitor
