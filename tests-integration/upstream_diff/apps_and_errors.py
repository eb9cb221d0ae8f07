"""python, bash and join apps; the exception types of failures and dependency failures."""

from _diffkit import outcome, report

import parsl
from parsl import bash_app, join_app, python_app
from parsl.config import Config
from parsl.data_provider.files import File
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


@bash_app
def no_output(outputs=()):
    return "true"


@bash_app
def no_command():
    return None


@bash_app
def bad_format():
    return "echo {missing}"


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
    out.append(outcome(no_output(outputs=[File("never-made.txt")])))
    out.append(isinstance(no_command().exception(), ValueError))  # upstream: a ValueError; ours: BashAppNoReturn, also one
    out.append(outcome(bad_format()))
    out.append(outcome(fan(4)))
    out.append(outcome(one_bad()))
    out.append(outcome(double(one_bad())))
report(out)
