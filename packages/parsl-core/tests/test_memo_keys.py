"""App caching: what goes into a cache key, and what is (not) cached. Real kernel, real threads."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from dataclasses import dataclass

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.app.errors import UnkeyableArgument
from parsl.dataflow.memoization import id_for_memo

CALLS: dict[str, int] = {}
_lock = threading.Lock()


def _count(name: str) -> None:
    with _lock:
        CALLS[name] = CALLS.get(name, 0) + 1


@pytest.fixture(autouse=True)
def _fresh_calls() -> None:
    CALLS.clear()


@pytest.fixture
def k() -> parsl.DataFlowKernel:
    return parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=4)]))


class Opaque:
    pass


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def test_same_call_is_a_hit_and_different_args_miss(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(a, b=1):
        _count("f")
        return (a, b)

    assert f(1).result() == (1, 1)
    assert f(1).result() == (1, 1)
    assert CALLS["f"] == 1
    assert f(1, b=2).result() == (1, 2)
    assert f(2).result() == (2, 1)
    assert CALLS["f"] == 3


def test_reordered_dict_and_kwargs_give_the_same_key(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(d, **kw):
        _count("f")
        return sorted(d.items()) + sorted(kw.items())

    first = f({"a": 3, "b": 4}, x=1, y=2).result()
    second = f({"b": 4, "a": 3}, y=2, x=1).result()
    assert first == second
    assert CALLS["f"] == 1
    f({"a": 3, "b": 5}, x=1, y=2).result()
    assert CALLS["f"] == 2


def test_inputs_and_outputs_are_part_of_the_key(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(inputs=(), outputs=()):
        _count("f")
        return len(inputs)

    f(inputs=[parsl.File("a.txt")]).result()
    f(inputs=[parsl.File("a.txt")]).result()
    assert CALLS["f"] == 1
    f(inputs=[parsl.File("b.txt")]).result()
    f(inputs=[parsl.File("a.txt")], outputs=[parsl.File("o.txt")]).result()
    assert CALLS["f"] == 3


def test_changing_the_body_changes_the_key(k: parsl.DataFlowKernel) -> None:
    """A documented divergence from upstream Parsl (which keys by name and module only): the
    tutorial says the body is part of the identity."""
    ns: dict[str, object] = {"python_app": python_app, "_count": _count}
    exec(compile("@python_app(cache=True)\ndef g(x):\n    _count('g')\n    return x + 1\n", "<v1>", "exec"), ns)
    assert ns["g"](1).result() == 2  # type: ignore[operator]
    exec(compile("@python_app(cache=True)\ndef g(x):\n    _count('g')\n    return x + 100\n", "<v2>", "exec"), ns)
    assert ns["g"](1).result() == 101  # type: ignore[operator]
    assert CALLS["g"] == 2
    # same body again: a hit
    exec(compile("@python_app(cache=True)\ndef g(x):\n    _count('g')\n    return x + 100\n", "<v3>", "exec"), ns)
    assert ns["g"](1).result() == 101  # type: ignore[operator]
    assert CALLS["g"] == 2


def test_function_hash_without_source_is_the_same_in_every_process(tmp_path: os.PathLike[str]) -> None:
    """Functions defined with exec have no source; their key comes from the code object and
    must not depend on the process (checkpoints are read by later processes)."""
    script = textwrap.dedent(
        """
        from parsl.dataflow.memoization import function_hash
        ns = {}
        exec("def g(x):\\n    s = {'a', 'b', 'c'}\\n    return [x in s, lambda: x * 2.5]", ns)
        print(function_hash(ns["g"]))
        """
    )
    outs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout)
    assert len(outs) == 1


def test_keys_of_set_frozenset_and_dict_arguments_are_the_same_in_every_process() -> None:
    """Set iteration order follows the string hash, which differs per process: the key must sort
    the elements, or a checkpointed call with a set argument never hits in a later run."""
    script = textwrap.dedent(
        """
        from parsl.dataflow.memoization import id_for_memo
        words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
        for value in (set(words), frozenset(words), {w: len(w) for w in words}, {w: set(w) for w in words}):
            print(id_for_memo(value).hex())
        """
    )
    outs = set()
    for seed in ("0", "1", "2", "3", "4"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        outs.add(subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True).stdout)
    assert len(outs) == 1
    assert len(next(iter(outs)).split()) == 4


def test_ignore_for_cache_is_honoured_and_the_callers_list_is_not_changed(k: parsl.DataFlowKernel) -> None:
    ignore = ["x"]

    @python_app(cache=True, ignore_for_cache=ignore)
    def f(y, x=0):
        _count("f")
        return y + x

    assert f(1, x=0).result() == 1
    assert f(1, x=1).result() == 1  # x is not part of the key: the cached result comes back
    assert CALLS["f"] == 1
    assert f(2, x=1).result() == 3
    assert ignore == ["x"]


def test_unkeyable_argument_fails_the_future_naming_the_type(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(a):
        _count("f")
        return 1

    fut = f(Opaque())
    with pytest.raises(UnkeyableArgument) as ei:
        fut.result()
    assert "test_memo_keys.Opaque" in str(ei.value)
    assert "args[0]" in str(ei.value)
    assert "id_for_memo.register" in str(ei.value)
    assert CALLS.get("f", 0) == 0

    # also when the argument arrives through a dependency
    @python_app
    def make():
        return Opaque()

    fut = f(make())
    with pytest.raises(UnkeyableArgument, match="Opaque"):
        fut.result()

    # and in a keyword argument, with the hint to ignore it
    @python_app(cache=True)
    def g(a, extra=None):
        return a

    with pytest.raises(UnkeyableArgument, match=r"ignore_for_cache=\['extra'\]"):
        g(1, extra=Opaque()).result()


def test_registered_key_function_and_dataclasses(k: parsl.DataFlowKernel) -> None:
    class Sample:
        def __init__(self, name: str) -> None:
            self.name = name

    @id_for_memo.register(Sample)
    def _(obj: Sample, output_ref: bool = False) -> bytes:
        return b"Sample:" + obj.name.encode()

    @python_app(cache=True)
    def f(s, p):
        _count("f")
        return s.name, p.x

    assert f(Sample("a"), Point(1, 2)).result() == ("a", 1)
    assert f(Sample("a"), Point(1, 2)).result() == ("a", 1)
    assert CALLS["f"] == 1
    f(Sample("b"), Point(1, 2)).result()
    f(Sample("a"), Point(1, 3)).result()
    assert CALLS["f"] == 3


def test_a_key_function_that_raises_fails_the_task(k: parsl.DataFlowKernel) -> None:
    class Boom:
        pass

    @id_for_memo.register(Boom)
    def _(obj: Boom, output_ref: bool = False) -> bytes:
        raise RuntimeError("no key for you")

    @python_app(cache=True)
    def f(b):
        return 1

    with pytest.raises(RuntimeError, match="no key for you"):
        f(Boom()).result()


def test_a_failed_task_gives_identical_calls_in_the_run_its_exception(k: parsl.DataFlowKernel) -> None:
    """As upstream: within a run, a cached call that failed is not run again."""
    @python_app(cache=True)
    def f(x):
        _count("f")
        raise ValueError(f"bad {x}")

    with pytest.raises(ValueError) as first:
        f(1).result()
    with pytest.raises(ValueError) as second:
        f(1).result()
    assert second.value is first.value
    assert CALLS["f"] == 1
    with pytest.raises(ValueError, match="bad 2"):
        f(2).result()
    assert CALLS["f"] == 2


def test_result_is_cached_only_after_a_successful_retry(tmp_path: os.PathLike[str]) -> None:
    parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], retries=2))

    @python_app(cache=True)
    def flaky(x):
        _count("flaky")
        if CALLS["flaky"] < 3:
            raise RuntimeError("not yet")
        return x * 10

    assert flaky(4).result() == 40
    assert CALLS["flaky"] == 3
    assert flaky(4).result() == 40
    assert CALLS["flaky"] == 3


def test_uncached_app_always_runs(k: parsl.DataFlowKernel) -> None:
    @python_app
    def f(x):
        _count("f")
        return x

    f(1).result()
    f(1).result()
    assert CALLS["f"] == 2


@pytest.mark.parametrize("how", ["config", "dfk_keyword", "dict_appCache", "dict_memoize"])
def test_global_switch_off_disables_caching_and_checkpointing(how: str) -> None:
    ex = [parsl.ThreadPoolExecutor(max_workers=2)]
    if how == "config":
        dfk = parsl.load(parsl.Config(executors=ex, app_cache=False, checkpoint_mode="task_exit"))
    elif how == "dfk_keyword":
        dfk = parsl.DataFlowKernel(executors=ex, appCache=False, checkpointMode="task_exit")
    else:
        key = "appCache" if how == "dict_appCache" else "memoize"
        cfg = {
            "sites": [{"site": "t", "auth": {"channel": None}, "execution": {"executor": "threads", "provider": None, "maxThreads": 2}}],
            "globals": {key: False, "checkpointMode": "task_exit"},
        }
        dfk = parsl.DataFlowKernel(config=cfg)

    @python_app(cache=True, data_flow_kernel=dfk)
    def f(x):
        _count("f")
        return x

    f(1).result()
    f(1).result()
    assert CALLS["f"] == 2
    assert dfk.checkpoint() is None
    dfk.cleanup()
    assert not os.path.exists(os.path.join(dfk.run_dir, "checkpoint"))


def test_bash_cache_hit_neither_reruns_nor_creates_stream_files(k: parsl.DataFlowKernel, tmp_path: os.PathLike[str]) -> None:
    marker = os.path.join(tmp_path, "runs.log")

    @bash_app(cache=True)
    def hello(msg, stdout=None, stderr=None):
        return f"echo {msg} >> {marker}; echo {msg}"

    assert hello("hi", stdout="a.out", stderr="a.err").result() == 0
    assert open("a.out").read() == "hi\n"
    os.remove("a.out")
    os.remove("a.err")
    assert hello("hi", stdout="a.out", stderr="a.err").result() == 0
    assert not os.path.exists("a.out") and not os.path.exists("a.err")
    assert open(marker).read() == "hi\n"


def test_join_app_results_are_cached(k: parsl.DataFlowKernel) -> None:
    @python_app
    def inner(x):
        _count("inner")
        return x + 1

    @parsl.join_app(cache=True)
    def outer(x):
        _count("outer")
        return inner(x)

    assert outer(1).result() == 2
    assert outer(1).result() == 2
    assert CALLS == {"outer": 1, "inner": 1}


def test_identical_calls_in_flight_may_both_run_then_hit(k: parsl.DataFlowKernel) -> None:
    """The documented "Timing" caveat: the first identical calls run; later ones hit."""
    gate = threading.Event()

    @python_app(cache=True)
    def slow(x):
        gate.wait(5)
        _count("slow")
        return x

    a, b = slow(1), slow(1)
    gate.set()
    assert a.result() == b.result() == 1
    assert slow(1).result() == 1
    assert CALLS["slow"] == 2


def test_a_custom_memoizer_through_the_config() -> None:
    from parsl.interfaces.memoizer import MemoHit, Memoizer

    class Always42(Memoizer):
        def __init__(self) -> None:
            self.updates = 0
            self.started_in: str | None = None
            self.closed = 0

        def start(self, run_dir: str) -> None:
            self.started_in = run_dir

        def lookup(self, task):  # type: ignore[no-untyped-def]
            return MemoHit(42) if task.args and task.args[0] % 2 == 0 else None

        def update(self, task, result) -> None:  # type: ignore[no-untyped-def]
            self.updates += 1

        def close(self) -> None:
            self.closed += 1

    m = Always42()
    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=2)], memoizer=m))

    @python_app(cache=True)
    def f(x):
        _count("f")
        return x

    assert [f(i).result() for i in range(10)] == [42, 1, 42, 3, 42, 5, 42, 7, 42, 9]
    assert CALLS["f"] == 5 and m.updates == 5
    assert m.started_in == dfk.run_dir
    dfk.cleanup()
    assert m.closed == 1


def test_a_memoizer_without_checkpoints_refuses_to_load_them() -> None:
    from parsl.dataflow.memoization import InMemoryMemoizer
    from parsl.errors import ConfigurationError

    dfk = parsl.load(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_workers=1)], memoizer=InMemoryMemoizer()))
    with pytest.raises(ConfigurationError, match="InMemoryMemoizer cannot load checkpoints"):
        dfk.load_checkpoints(["runinfo/000"])
    assert dfk.checkpoint() is None


def test_a_cache_hit_completes_the_calls_data_futures(k: parsl.DataFlowKernel) -> None:
    @bash_app(cache=True)
    def make(outputs=()):
        return "echo made >> {outputs[0]}"

    first = make(outputs=[parsl.File("made.txt")])
    assert first.outputs[0].result().filepath.endswith("made.txt")
    second = make(outputs=[parsl.File("made.txt")])
    assert second.result() == 0
    assert second.outputs[0].result().filepath.endswith("made.txt")
    assert open("made.txt").read() == "made\n"  # the command ran once
