"""Upstream's ready-made htex_local config: a high-throughput executor on a local block."""
from _diffkit import outcome, report

import parsl
from parsl import bash_app, python_app
from parsl.configs.htex_local import config


@python_app
def square(x):
    return x * x


@python_app
def fail():
    raise ArithmeticError("boom")


@bash_app
def echo(word, stdout=None):
    return f"echo {word}"


parsl.load(config)
out = [outcome(square(7)), [outcome(f) for f in map(square, range(5))], outcome(fail()), outcome(square(fail()))]
out.append(outcome(echo("hi", stdout="echo.out")))
out.append(open("echo.out").read())
parsl.dfk().cleanup()
parsl.clear()
report(out)
