"""Today's upstream ready-made high-throughput config on this machine:
``from parsl.configs.htex_local import config`` (needs ``pip install 'parsl-executors[htex]'
libsubmit``; usage tracking stays off unless you opt in)."""
from ..config import Config
from ..executors import HighThroughputExecutor  # type: ignore[attr-defined]
from ..providers import LocalProvider  # type: ignore[attr-defined]

config = Config(
    executors=[HighThroughputExecutor(label="htex_local", cores_per_worker=1, provider=LocalProvider(init_blocks=1, max_blocks=1))],
)
