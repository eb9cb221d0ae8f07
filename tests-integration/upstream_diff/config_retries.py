"""Config fields assigned after construction, retries and retry_handler, exit_mode."""

from _diffkit import outcome, report

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor

runs = {}


@python_app
def flaky(tag, succeed_on):
    runs[tag] = runs.get(tag, 0) + 1
    if runs[tag] < succeed_on:
        raise RuntimeError(f"attempt {runs[tag]}")
    return runs[tag]


def cost(exc, task_record):
    return 0.5 if isinstance(exc, RuntimeError) else 10


def broken_handler(exc, task_record):
    raise LookupError("handler failed")


out = []
c = Config(executors=[ThreadPoolExecutor(max_threads=2)])
c.retries = 2
with parsl.load(c):
    out.append(outcome(flaky("a", 3)))
    out.append(outcome(flaky("b", 5)))
out.append([runs["a"], runs["b"]])

c2 = Config(retries=2, retry_handler=cost)
with parsl.load(c2):
    out.append(outcome(flaky("c", 5)))
out.append(runs["c"])

with parsl.load(Config(retries=3, retry_handler=broken_handler)):
    out.append(outcome(flaky("d", 9)))
out.append(runs["d"])

dfk = parsl.load(Config(exit_mode="skip"))
with dfk:
    out.append(outcome(flaky("e", 1)))
dfk.cleanup()
parsl.clear()
report(out)
