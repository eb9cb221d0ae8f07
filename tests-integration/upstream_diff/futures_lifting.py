"""AppFuture lifting (fut['key'], fut.attr) and plain concurrent.futures dependencies."""
import concurrent.futures
import threading

from _diffkit import outcome, report

import parsl
from parsl import python_app
from parsl.dataflow.errors import DependencyError


class Box:
    def __init__(self, v):
        self.value = v


@python_app
def record(**kw):
    return dict(kw)


@python_app
def box(v):
    return Box(v)


@python_app
def add(a, b):
    return a + b


@python_app
def fail():
    raise KeyError("gone")


with parsl.load():
    out = []
    r = record(a=1, b={"c": [10, 20, 30]})
    out.append(outcome(r["a"]))
    out.append(r.task_status())
    out.append(outcome(r["b"]["c"][1]))
    out.append(outcome(box(7).value))
    out.append(outcome(add(r["a"], box(2).value)))
    out.append(outcome(r["missing"]))
    out.append(outcome(box(1).missing))
    out.append(outcome(fail()["x"]))
    plain = concurrent.futures.Future()
    f = add(plain, 1)
    out.append(f.done())
    threading.Timer(0.1, plain.set_result, (41,)).start()
    out.append(outcome(f))
    bad = concurrent.futures.Future()
    bad.set_exception(OSError("disk"))
    try:
        add(bad, 1).result()
    except DependencyError as e:
        out.append([type(x).__name__ for x, _ in e.dependent_exceptions_tids])
        out.append(repr(bad) in str(e))
        out.append(type(e.__cause__).__name__)
report(out)
