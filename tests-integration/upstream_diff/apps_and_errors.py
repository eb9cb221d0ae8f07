"""python, bash and join apps; the exception types of failures and dependency failures."""

from _diffkit import outcome, report

import parsl
from parsl import bash_app, join_app, python_app
from parsl.config import Config
from parsl.executors import ThreadPoolExecutor


@python_app
def double(x):
    return 2 * x


@python_app
def fail(msg):
    raise ValueError(msg)


@python_app
def total(inputs=()):
    return sum(inputs)


@bash_app
def echo(word, stdout=None):
    return f"echo {word}"


@bash_app
def exit_with(code):
    return f"exit {code}"


@join_app
def fan(n):
    return [double(i) for i in range(n)]


@join_app
def one_bad():
    return fail("inner")


config = Config(executors=[ThreadPoolExecutor(label="local", max_threads=4)])
with parsl.load(config):
    out = []
    out.append(outcome(double(double(5))))
    out.append(outcome(total(inputs=[double(i) for i in range(5)])))
    out.append(outcome(fail("x")))
    out.append(outcome(double(fail("y"))))
    out.append(outcome(total(inputs=[double(1), fail("z")])))
    out.append(outcome(echo("hi", stdout="echo.out")))
    out.append(open("echo.out").read())
    out.append(outcome(exit_with(3)))
    try:
        exit_with(4).result()
    except Exception as e:
        out.append(getattr(e, "exitcode", None))
    out.append(outcome(fan(4)))
    out.append(outcome(one_bad()))
    out.append(outcome(double(one_bad())))
report(out)
