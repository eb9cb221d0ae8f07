"""cleanup() returns although a task waits for a future that is never set."""
import concurrent.futures

from _diffkit import report

import parsl
from parsl import python_app


@python_app
def add(a, b):
    return a + b


dfk = parsl.load()
dfk.straggler_grace = 0.5  # ours: how long cleanup waits for such tasks (upstream ignores it)
never = concurrent.futures.Future()
stuck = add(never, 1)
ok = add(1, 2)
out = [ok.result()]
dfk.cleanup()
out.append("cleanup returned")
report(out)
