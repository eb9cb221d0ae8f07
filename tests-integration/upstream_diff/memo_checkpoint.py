"""App caching, failures cached within a run, BasicMemoizer checkpoints across runs,
id_for_memo functions that return bytes."""

from _diffkit import outcome, report

import parsl
from parsl import python_app
from parsl.config import Config
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl.utils import get_all_checkpoints, get_last_checkpoint

calls = []


class Point:
    def __init__(self, x):
        self.x = x


@id_for_memo.register(Point)
def _point(obj, output_ref=False):
    return f"Point:{obj.x}".encode()


@python_app(cache=True)
def square(x):
    calls.append(("square", x))
    return x * x


@python_app(cache=True)
def norm(p):
    calls.append(("norm", p.x))
    return abs(p.x)


@python_app(cache=True)
def bad(x):
    calls.append(("bad", x))
    raise ValueError(x)


out = []
with parsl.load(Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
    out.append([outcome(square(3)), outcome(square(3)), outcome(square(4))])
    out.append([outcome(norm(Point(-2))), outcome(norm(Point(-2)))])
    out.append([outcome(bad(1)), outcome(bad(1))])
out.append(len(get_all_checkpoints()))

with parsl.load(Config(memoizer=BasicMemoizer(checkpoint_files=get_last_checkpoint()))):
    out.append([outcome(square(3)), outcome(square(5))])
    out.append(outcome(bad(1)))

m = BasicMemoizer(checkpoint_mode="manual", checkpoint_files=[])
with parsl.load(Config(memoizer=m)):
    out.append(outcome(square(6)))
    m.checkpoint()
out.append(len(get_all_checkpoints()))
out.append(sorted(calls))


class Opaque:
    pass


@python_app(cache=True)
def takes(o):
    return 1


with parsl.load(Config()):
    try:
        takes(Opaque()).result()
        out.append("no error")
    except ValueError:
        out.append("ValueError")
report(out)
