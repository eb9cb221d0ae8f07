"""parsl.concurrent.ParslPoolExecutor: submit, map and errors through the standard interface."""

from _diffkit import report

from parsl.concurrent import ParslPoolExecutor
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


def square(x):
    return x * x


def boom(x):
    raise ZeroDivisionError(x)


out = []
with ParslPoolExecutor(Config(executors=[ThreadPoolExecutor(max_threads=2)])) as pool:
    out.append(pool.submit(square, 7).result())
    out.append(list(pool.map(square, range(6))))
    try:
        pool.submit(boom, 1).result()
    except Exception as e:
        out.append(type(e).__name__)
    out.append(pool.submit(square, pool.submit(square, 2)).result())
report(out)
