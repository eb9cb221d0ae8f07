"""Today's upstream ready-made thread config: ``from parsl.configs.local_threads import config``.

(Upstream's turns usage tracking on; here it stays off unless you opt in.)
"""
from ..config import Config
from ..executors.threads import ThreadPoolExecutor

config = Config(executors=[ThreadPoolExecutor()])
