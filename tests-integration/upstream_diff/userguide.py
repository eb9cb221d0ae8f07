"""Idioms of upstream's user guide: files and DataFutures, recursive join apps, ignore_for_cache,
executor labels, errors' attributes, wait_for_current_tasks."""
import os

from _diffkit import outcome, report

import parsl
from parsl.app.app import bash_app, join_app, python_app
from parsl.app.errors import BashExitFailure
from parsl.config import Config
from parsl.data_provider.files import File
from parsl.executors.threads import ThreadPoolExecutor


@bash_app
def generate(outputs=()):
    return "echo $(( 6 * 7 )) > {}".format(outputs[0])


@bash_app
def concat(inputs=(), outputs=(), stdout="concat.out", stderr="concat.err"):
    return "cat {0} > {1}".format(" ".join(i.filepath for i in inputs), outputs[0])


@python_app
def total(inputs=()):
    return sum(int(open(i.filepath).read()) for i in inputs)


@python_app
def add(a, b):
    return a + b


@join_app
def fibonacci(n):
    if n < 2:
        return add(n, 0)
    return add(fibonacci(n - 1), fibonacci(n - 2))


@python_app(cache=True, ignore_for_cache=["note"])
def cached(x, note=""):
    return (x, note)


@python_app(executors=["second"])
def where():
    import threading

    return threading.current_thread().name.startswith("second") or "ok"


@bash_app
def fails():
    return "exit 9"


config = Config(executors=[ThreadPoolExecutor(label="first", max_threads=2), ThreadPoolExecutor(label="second", max_threads=1)])
out = []
with parsl.load(config) as dfk:
    gens = [generate(outputs=[File(os.path.join(os.getcwd(), f"n{i}.txt"))]) for i in range(3)]
    files = [g.outputs[0] for g in gens]
    c = concat(inputs=files, outputs=[File(os.path.join(os.getcwd(), "all.txt"))])
    out.append(outcome(total(inputs=files)))
    out.append(outcome(c))
    out.append(open("all.txt").read())
    out.append(type(c.outputs[0]).__name__)
    out.append(os.path.basename(c.outputs[0].result().filepath))
    out.append(outcome(fibonacci(10)))
    out.append([outcome(cached(1, note="a")), outcome(cached(1, note="b"))])
    out.append(outcome(where()) != ["error", "x"])
    try:
        fails().result()
    except BashExitFailure as e:
        out.append(e.exitcode)
    f = add(1, 2)
    parsl.wait_for_current_tasks()
    out.append(f.done())
    out.append(sorted(k for k in dfk.executors if not k.startswith("_")))
    out.append(fails().exception().__class__.__name__)
report(out)
