"""The interfaces that plugins implement and the kernel talks to.

Plugin distributions (``parsl_executors``, ``libsubmit``, ``parsl_data``, ``parsl_containers``)
import from here and from nothing else in ``parsl`` that is not documented as public.
"""
from ..dataflow.lean_future import LeanFuture
from .channel import Channel
from .container import ContainerEngine, Mount, WorkerLaunch, container_from_spec, run_labels
from .executor import ExecutorContext, ParslExecutor
from .launcher import Launcher
from .memoizer import Memoizer
from .monitoring import Monitor, MonitoredCall, MonitoredRun, RunInfo, report_block
from .provider import BlockShape, ExecutionProvider, JobState, parse_walltime
from .site import BlockSpec, SiteSpec, reject_unknown_keys, site_from_dict
from .staging import Staging
from .task_feed import TaskFeed

__all__ = [
    "BlockShape",
    "BlockSpec",
    "Channel",
    "ContainerEngine",
    "ExecutionProvider",
    "ExecutorContext",
    "JobState",
    "Launcher",
    "LeanFuture",
    "Memoizer",
    "Monitor",
    "MonitoredCall",
    "MonitoredRun",
    "Mount",
    "ParslExecutor",
    "RunInfo",
    "SiteSpec",
    "Staging",
    "TaskFeed",
    "WorkerLaunch",
    "container_from_spec",
    "parse_walltime",
    "reject_unknown_keys",
    "report_block",
    "run_labels",
    "site_from_dict",
]
