"""Local configurations, as 0.5.0 packaged them: ``from parsl.configs.local import localThreads``.

These are plain dicts (copy before changing them); ``localIPP`` needs ``parsl-executors[ipp]``
and ``libsubmit`` installed when a DataFlowKernel is built from it.
"""

localThreads = {
    "sites": [
        {
            "site": "Local_Threads",
            "auth": {"channel": None},
            "execution": {"executor": "threads", "provider": None, "maxThreads": 4},
        }
    ],
    "globals": {"lazyErrors": True},
}

localIPP = {
    "sites": [
        {
            "site": "Local_IPP",
            "auth": {"channel": None},
            "execution": {
                "executor": "ipp",
                "provider": "local",
                "block": {
                    "nodes": 1,
                    "taskBlocks": 4,
                    "initBlocks": 1,
                    "minBlocks": 0,
                    "maxBlocks": 1,
                    "walltime": "00:30:00",
                },
            },
        }
    ],
    "globals": {"lazyErrors": True},
}

__all__ = ["localIPP", "localThreads"]
