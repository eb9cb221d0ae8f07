"""The examples of the 0.5.0 documentation and tutorial that run on threads, as written there
(only the sizes are smaller, and each ends with an assertion)."""
from __future__ import annotations

import os

import pytest

import parsl
from parsl import *  # noqa: F403 - the seeds import this way
from parsl.app.errors import DependencyError


@pytest.fixture
def tdfk():
    workers = ThreadPoolExecutor(max_workers=4)  # noqa: F405
    dfk = DataFlowKernel(executors=[workers])  # noqa: F405
    yield dfk
    dfk.cleanup()


def test_tutorial_hello_futures_pi_and_bash(tdfk):
    dfk = tdfk

    @app("python", dfk)  # noqa: F405
    def hello():
        return "Hello World!"

    app_future = hello()
    assert app_future.result() == "Hello World!" and app_future.done()

    @App("python", dfk)  # noqa: F405
    def pi(total):
        import random

        width = 10000
        center = width / 2
        c2 = center**2
        count = 0
        for _ in range(total):
            x, y = random.randint(1, width), random.randint(1, width)
            if (x - center) ** 2 + (y - center) ** 2 < c2:
                count += 1
        return count * 4 / total

    @App("python", dfk)  # noqa: F405
    def mysum(a, b, c):
        return (a + b + c) / 3

    a, b, c = pi(10**4), pi(10**4), pi(10**4)
    avg_pi = mysum(a, b, c)
    assert 3.0 < avg_pi.result() < 3.3
    assert "A: {0:5} B: {1:5} C: {2:5}".format(a.result(), b.result(), c.result())

    @App("bash", dfk)  # noqa: F405
    def sim_mol_dyn(i, dur, outputs=[], stdout=None, stderr=None):  # noqa: B006
        return """echo "{0}" > {outputs[0]}
        sleep {1};
        ls ;
        """

    sim_fut = sim_mol_dyn(5, 0.1, outputs=["sim.out"], stdout="stdout.txt", stderr="stderr.txt")
    data_futs = sim_fut.outputs
    assert sim_fut.result() == 0
    assert open(data_futs[0].result()).read() == "5\n"
    assert "sim.out" in open("stdout.txt").read()


def test_user_guide_map_reduce(tdfk):
    dfk = tdfk

    @App("python", dfk)  # noqa: F405
    def app_double(x):
        return x * 2

    @App("python", dfk)  # noqa: F405
    def app_sum(inputs=[]):  # noqa: B006
        return sum(inputs)

    N = 100
    items = range(0, N)
    mapped_results = []
    for i in items:
        x = app_double(i)
        mapped_results.append(x)
    total = app_sum(inputs=mapped_results)
    assert total.result() == sum(2 * i for i in range(N))


def test_user_guide_python_app_on_files(tdfk):
    dfk = tdfk

    @App("python", dfk)  # noqa: F405
    def echo(inputs=[], outputs=[]):  # noqa: B006
        with open(inputs[0], "r") as in_file, open(outputs[0], "w") as out_file:
            out_file.write(in_file.readline())

    open("in.txt", "w").write("first line\nsecond\n")
    echo(inputs=["in.txt"], outputs=["out.txt"]).result()
    assert open("out.txt").read() == "first line\n"


def test_user_guide_bash_echo_hello(tdfk):
    dfk = tdfk

    @App("bash", dfk)  # noqa: F405
    def echo_hello(stderr="std.err", stdout="std.out"):
        return 'echo "Hello World!"'

    echo_hello().result()
    assert open("std.out").read() == "Hello World!\n"


def test_user_guide_futures_section(tdfk):
    dfk = tdfk

    @app("python", dfk)  # noqa: F405
    def sleep_double(x):
        import time

        time.sleep(0.2)
        return x * 2

    doubled_x = sleep_double(10)
    assert doubled_x.result() == 20

    @app("python", dfk)  # noqa: F405
    def bad_divide(x):
        return 6 / x

    doubled_x = bad_divide(0)
    try:
        doubled_x.result()
    except ZeroDivisionError:
        caught = "zero"
    except Exception:
        caught = "other"
    assert caught == "zero"

    @app("bash", dfk)  # noqa: F405
    def echo(message, outputs=[]):  # noqa: B006
        return "echo %s &> {outputs[0]}" % (message)

    hello = echo("Hello World!", outputs=["hello1.txt"])
    with open(hello.outputs[0].result(), "r") as f:
        assert f.read() == "Hello World!\n"


def test_user_guide_procedural_and_parallel_workflows(tdfk):
    dfk = tdfk

    @app("python", dfk)  # noqa: F405
    def generate(limit):
        from random import randint

        return randint(1, limit)

    @app("bash", dfk)  # noqa: F405
    def save(message, outputs=[]):  # noqa: B006
        return "echo %s &> {outputs[0]}" % (message)

    message = generate(10)
    saved = save(message, outputs=["output.txt"])
    with open(saved.outputs[0].result(), "r") as f:
        assert 1 <= int(f.read()) <= 10

    spans = {}

    @App("python", dfk)  # noqa: F405
    def wait_sleep_double(x, fu_1, fu_2, name=None):
        import time

        start = time.monotonic()
        time.sleep(0.3)
        spans[name] = (start, time.monotonic())
        return x * 2

    doubled_x = wait_sleep_double(10, None, None, name="x")
    doubled_y = wait_sleep_double(10, None, None, name="y")
    doubled_z = wait_sleep_double(10, doubled_x, doubled_y, name="z")
    assert doubled_z.result() == 20
    # two stages: x and y overlap (they ran in parallel), z started after both ended
    assert spans["x"][0] < spans["y"][1] and spans["y"][0] < spans["x"][1]
    assert spans["z"][0] >= max(spans["x"][1], spans["y"][1])

    rand_nums = [generate(i) for i in range(1, 5)]
    outputs = [i.result() for i in rand_nums]
    assert all(1 <= v <= i for v, i in zip(outputs, range(1, 5), strict=True))


def test_user_guide_parallel_dataflow(tdfk):
    dfk = tdfk

    @App("bash", dfk)  # noqa: F405
    def generate(outputs=[]):  # noqa: B006
        return "echo $(( RANDOM % (10 - 5 + 1 ) + 5 )) &> {outputs[0]}"

    @App("bash", dfk)  # noqa: F405
    def concat(inputs=[], outputs=[], stdout="stdout.txt", stderr="stderr.txt"):  # noqa: B006
        return "cat {0} >> {1}".format(" ".join(inputs), outputs[0])

    @App("python", dfk)  # noqa: F405
    def total(inputs=[]):  # noqa: B006
        total = 0
        with open(inputs[0], "r") as f:
            for line in f:
                total += int(line)
        return total

    output_files = []
    for i in range(5):
        output_files.append(generate(outputs=["random-%s.txt" % i]))
    cc = concat(inputs=[i.outputs[0] for i in output_files], outputs=["all.txt"])
    totals = total(inputs=[cc.outputs[0]])
    assert 25 <= totals.result() <= 50


def test_user_guide_dependency_error(tdfk):
    dfk = tdfk

    @App("python", dfk)  # noqa: F405
    def bad_divide(x):
        return 6 / x

    @App("python", dfk)  # noqa: F405
    def use(x):
        return x

    with pytest.raises(DependencyError):
        use(bad_divide(0)).result()


def test_configuration_section_dict_and_retries_and_lazy_fail():
    config = {
        "sites": [
            {"site": "Local_Threads", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 4}}
        ],
        "globals": {"lazyErrors": True},
    }
    dfk = DataFlowKernel(config=config)  # noqa: F405
    assert dfk.executors["Local_Threads"].max_workers == 4
    dfk.cleanup()
    import copy

    from parsl.configs.local import localThreads as config2

    config2 = copy.deepcopy(config2)
    config2["globals"]["retries"] = 2
    dfk = DataFlowKernel(config=config2)  # noqa: F405
    assert dfk.retries == 2
    dfk.cleanup()
    dfk = DataFlowKernel(config=config, lazy_fail=False)  # noqa: F405
    assert dfk.lazy_fail is False
    dfk.cleanup()


def test_faq_logging_and_stdout(tdfk, tmp_path):
    import logging

    h1 = parsl.set_stream_logger()
    h2 = parsl.set_file_logger(str(tmp_path / "parsl-debug.log"), level=logging.DEBUG)
    try:
        dfk = tdfk

        @app("bash", dfk)  # noqa: F405
        def hello(msg, stdout=None):
            return "echo {}".format(msg)

        hello("Hello world", stdout="hello.txt").result()
        assert open("hello.txt").read() == "Hello world\n"
    finally:
        for h in (h1, h2):
            logging.getLogger("parsl").removeHandler(h)
            h.close()
        logging.getLogger("parsl").setLevel(logging.WARNING)


def test_faq_python27_style_bash_app(tdfk):
    dfk = tdfk

    @app("bash", dfk)  # noqa: F405
    def python_27_app(arg1, arg2):
        return """echo conda activate py2.7_env
echo python2.7 my_python_app.py -arg {0} -d {1}
""".format(arg1, arg2)

    assert python_27_app("a", "b", ).result() == 0


def test_advanced_tutorial_caching_cell():
    local_threads = {
        "sites": [{"site": "Local_Threads", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 4}}]
    }
    dfk = DataFlowKernel(config=local_threads)  # noqa: F405
    calls = []

    @App("python", dfk, cache=True)  # noqa: F405
    def slow_message(message):
        import time

        calls.append(message)
        time.sleep(0.3)
        return message

    first = slow_message("Hello World")
    assert first.result() == "Hello World"
    second = slow_message("Hello World")
    assert second.result() == "Hello World" and calls == ["Hello World"]  # a hit: the body did not run again
    third = slow_message("Hello World!")
    assert third.result() == "Hello World!"
    assert calls == ["Hello World", "Hello World!"]
    dfk.cleanup()


def test_tutorial_prints_version():
    assert isinstance(parsl.__version__, str) and parsl.__version__[0].isdigit()


def test_run_dirs_are_numbered_under_runinfo():
    d1 = DataFlowKernel(config=parsl.configs.local.localThreads if hasattr(parsl, "configs") else None)  # noqa: F405
    d1.cleanup()
    d2 = DataFlowKernel()  # noqa: F405
    d2.cleanup()
    names = sorted(os.listdir("runinfo"))
    assert names[-2:] == ["000", "001"] and os.path.exists(os.path.join("runinfo", "000", "parsl.log"))
