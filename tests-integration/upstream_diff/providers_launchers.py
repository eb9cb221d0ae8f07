"""Upstream cluster-config objects build unchanged; a LocalProvider config loads."""

from _diffkit import report

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor
from parsl.launchers import AprunLauncher, MpiExecLauncher, SimpleLauncher, SingleNodeLauncher, SrunLauncher
from parsl.providers import CondorProvider, GridEngineProvider, LocalProvider, SlurmProvider, TorqueProvider

out = []
providers = [
    SlurmProvider(partition="debug", nodes_per_block=2, init_blocks=1, min_blocks=0, max_blocks=4,
                  walltime="01:00:00", launcher=SrunLauncher(), worker_init="module load python"),
    TorqueProvider(queue="batch", nodes_per_block=1, walltime="00:30:00", launcher=AprunLauncher()),
    CondorProvider(init_blocks=1, max_blocks=2, worker_init="source setup.sh", launcher=SingleNodeLauncher()),
    GridEngineProvider(walltime="00:05:00", launcher=SingleNodeLauncher()),
    LocalProvider(init_blocks=1, max_blocks=1, launcher=SimpleLauncher()),
]
for p in providers:
    out.append([type(p).__name__, p.nodes_per_block, p.init_blocks, p.min_blocks, p.max_blocks, p.parallelism])
out.append(type(MpiExecLauncher()).__name__)


@python_app
def hello():
    return "hello"


with parsl.load(Config(executors=[ThreadPoolExecutor(label="threads", max_threads=2)], retries=1, strategy="none", max_idletime=60.0)):
    out.append(hello().result())
report(out)
