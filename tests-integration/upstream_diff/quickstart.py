"""The upstream quickstart's shape: a ready-made config, parsl.load, apps, parsl.dfk().cleanup()."""
from _diffkit import outcome, report

import parsl
from parsl import bash_app, python_app
from parsl.configs.local_threads import config
from parsl.data_provider.files import File


@python_app
def hello(name):
    return f"Hello {name}"


@bash_app
def write(message, outputs=()):
    return f"echo {message} > {outputs[0]}"


@python_app
def count(inputs=()):
    with open(inputs[0]) as f:
        return len(f.read().split())


parsl.load(config)
out = [outcome(hello("World"))]
w = write("one two three", outputs=[File("words.txt")])
out.append(outcome(count(inputs=[w.outputs[0]])))
out.append(type(w.outputs[0]).__name__)
parsl.dfk().cleanup()
parsl.clear()
report(out)
