"""Bash-app std streams: AUTO_LOGNAME, std_autopath, (path, mode) tuples, bad specs."""
import os

from _diffkit import outcome, report

import parsl
from parsl import bash_app
from parsl.config import Config


@bash_app
def hello(word, label=None, stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME):
    return f"echo {word}; echo err-{word} >&2"


@bash_app
def write(word, stdout=None):
    return f"echo {word}"


out = []
with parsl.load(Config()) as dfk:
    f = hello("auto")
    out.append(outcome(f))
    out.append(os.path.relpath(f.stdout, dfk.run_dir))
    out.append(open(f.stdout).read())
    # upstream also writes the command line to stderr first; ours keeps stderr to the command's own output
    out.append(open(f.stderr).read().splitlines()[-1])
    g = hello("labelled", label="L")
    g.result()
    out.append(os.path.basename(g.stdout))
    write("one", stdout=("tuple.txt", "w")).result()
    write("two", stdout=("tuple.txt", "w")).result()
    out.append(open("tuple.txt").read())
    write("a", stdout="append.txt").result()
    write("b", stdout="append.txt").result()
    out.append(open("append.txt").read())
    # rejected by both (upstream: a typeguard error; ours: BadStdStreamFile, as documented)
    out.append(outcome(write("x", stdout=("a", "b", "c")))[0])


def autopath(task_record, kw):
    return os.path.join("mine", f"{task_record['func_name']}.{task_record['id']}.{kw}")


with parsl.load(Config(std_autopath=autopath)):
    os.makedirs("mine", exist_ok=True)
    h = hello("custom")
    h.result()
    out.append(h.stdout)
    out.append(open(h.stdout).read())
report(out)
