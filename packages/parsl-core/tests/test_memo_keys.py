"""App caching: what goes into a cache key, and what is (not) cached. Real kernel, real threads."""
from __future__ import annotations

import enum
import os
import subprocess
import sys
import textwrap
import threading
import types
from dataclasses import dataclass

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.app.errors import UnkeyableArgument
from parsl.dataflow.memoization import function_hash, id_for_memo

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
        from parsl.dataflow.memoization import function_hash, id_for_memo
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


class Color(enum.Enum):
    RED = 1
    BLUE = 2


#: one value of each kind a key is built for; no two of them may share a key
DISTINCT_VALUES = [
    None, True, False, 0, 1, -1, 1.5, 2.5, 1 + 2j, 1 + 3j, 2 + 2j, "a", "b", "", b"a", b"b", b"",
    range(3), range(4), range(1, 3), range(0, 3, 2), (1,), (2,), [1], [1, 1], {1}, frozenset({2}),
    {"a": 1}, {"a": 2}, {"b": 1}, Color.RED, Color.BLUE, Point(1, 2), Point(2, 1),
    parsl.File("a.txt"), parsl.File("b.txt"),
]


def test_each_argument_value_has_its_own_key_and_equal_values_hit(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(v):
        _count("f")
        return repr(v)

    assert [f(v).result() for v in DISTINCT_VALUES] == [repr(v) for v in DISTINCT_VALUES]
    assert CALLS["f"] == len(DISTINCT_VALUES)  # no two values shared a key
    assert [f(v).result() for v in DISTINCT_VALUES] == [repr(v) for v in DISTINCT_VALUES]
    assert CALLS["f"] == len(DISTINCT_VALUES)  # every repeat was a hit
    # equal values built anew hit too
    f(Point(1, 2)).result(), f(Color(2)).result(), f(complex(1, 3)).result(), f(range(0, 3, 2)).result()
    assert CALLS["f"] == len(DISTINCT_VALUES)


def _task(*args: object, **kwargs: object) -> types.SimpleNamespace:
    return types.SimpleNamespace(func_name="f", fn_hash="0" * 64, args=args, kwargs=kwargs, ignore_for_cache=(), cache=True)


class Blob:
    def __init__(self, name: str) -> None:
        self.name = name


@id_for_memo.register(Blob)
def _blob_key(obj: Blob, output_ref: bool = False) -> list[str]:
    return ["blob", obj.name]  # not bytes: pickled into the key


class Raw:
    def __init__(self, data: bytes) -> None:
        self.data = data


@id_for_memo.register(Raw)
def _raw_key(obj: Raw, output_ref: bool = False) -> bytearray:
    return bytearray(obj.data)  # bytes-like: used as it is


def test_key_functions_returning_bytes_like_or_other_values(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True)
    def f(v):
        _count("f")
        return v.data if isinstance(v, Raw) else v.name

    assert [f(v).result() for v in (Raw(b"a"), Raw(b"b"), Blob("a"), Blob("b"))] == [b"a", b"b", "a", "b"]
    assert [f(v).result() for v in (Raw(b"a"), Raw(b"b"), Blob("a"), Blob("b"))] == [b"a", b"b", "a", "b"]
    assert CALLS["f"] == 4


def test_keys_are_fixed_so_checkpoints_of_earlier_runs_keep_hitting() -> None:
    """The key of a call is part of the checkpoint format: a key computed differently (by a
    later version, another Python, another process) would orphan every checkpoint written
    before. These are the keys of a few calls covering the built-in key functions (enums and dataclasses
    aside: their keys name the module that defines them); a change
    here must be deliberate, and announced as one that makes old checkpoints miss."""
    from parsl.dataflow.memoization import make_key

    assert make_key(_task()) == "27458ffa7055df8e686ff90d9628d57596029563509268e9cb706549b8f92ebe"
    assert make_key(_task(None, True, 7, -1.5, 2 + 3j, "héllo", b"\x00b", range(1, 9, 2))) == (
        "0e6012d8f4b8a72cd198f2cd661b0569b1c1ced7dea9bb0b99d0849fc767b235"
    )
    assert make_key(_task((1, "a"), [2.0], {3}, frozenset({"x"}), {"k": [None]})) == (
        "21487a6bd8f49524347a709343de4cce9a9835d32651383dcfc365f12b9347d1"
    )
    assert make_key(_task(1, inputs=[parsl.File("in.txt")], outputs=[parsl.File("out.txt")], scale=2)) == (
        "35b9600c6ac60518dbf28f10306737a7df89b445f1fa84cca53659ee900aced5"
    )
    assert make_key(_task(Blob("x"), Raw(b"y"))) == "f064d42ee52b12a3af09855864a4d157fe0ff88bcab0f292a8368e69d6fcb56d"


def test_the_hash_of_an_apps_source_is_fixed(tmp_path: os.PathLike[str]) -> None:
    """A function defined in a file is keyed by its module, name and source text, which do not
    change with the process or the Python version (a code object would)."""
    mod = os.path.join(tmp_path, "memo_golden_app.py")
    with open(mod, "w") as f:
        f.write("def scale(x, factor=3):\n    # triple it\n    return x * factor\n")
    script = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import memo_golden_app as m; from parsl.dataflow.memoization import function_hash; print(function_hash(m.scale))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "a16868fc845c825095dda989bd2aa3702f5d178b5061174d1233e4f7cccdce23"


def test_editing_a_function_without_source_changes_its_key(k: parsl.DataFlowKernel) -> None:
    """Functions defined by exec (notebooks, generated code) are keyed by their code object and
    default values: a change in a nested function, in a set constant or in a default value is
    a new function, whose first call runs."""
    body = "    _count('g')\n    return [(lambda y: y + {inc})(x), x in {{'a', '{s}'}}]\n"
    versions = [
        ("def g(x):\n", 1, "b"),
        ("def g(x):\n", 2, "b"),  # the nested function
        ("def g(x):\n", 2, "c"),  # the set constant
        ("def g(x, d=1):\n", 2, "c"),
        ("def g(x, d=2):\n", 2, "c"),  # a default
        ("def g(x, *, d=2):\n", 2, "c"),
        ("def g(x, *, d=3):\n", 2, "c"),  # a keyword-only default
    ]
    ns: dict[str, object] = {"python_app": python_app, "_count": _count}
    for n, (head, inc, s) in enumerate(versions):
        exec(compile("@python_app(cache=True)\n" + head + body.format(inc=inc, s=s), f"<v{n}>", "exec"), ns)
        assert ns["g"](1).result() == [1 + inc, False]  # type: ignore[operator]
        assert ns["g"](1).result() == [1 + inc, False]  # type: ignore[operator]
        assert CALLS["g"] == n + 1
    # a default no key function knows still gives a key, the same for any such object
    exec("def h(x, d=object()):\n    return x\n", ns)
    first = function_hash(ns["h"])  # type: ignore[arg-type]
    exec("def h(x, d=object()):\n    return x\n", ns)
    assert function_hash(ns["h"]) == first  # type: ignore[arg-type]
    exec("import threading\ndef h(x, d=threading.Lock()):\n    return x\n", ns)
    assert function_hash(ns["h"]) != first  # type: ignore[arg-type]


def test_a_callable_object_as_a_cached_app_is_keyed_by_its_type(k: parsl.DataFlowKernel) -> None:
    class Scale:
        def __call__(self, x):
            _count("scale")
            return 3 * x

    class Shift:
        def __call__(self, x):
            _count("shift")
            return x + 3

    scale, shift = python_app(cache=True)(Scale()), python_app(cache=True)(Shift())
    assert [scale(1).result(), scale(1).result(), shift(1).result(), shift(1).result()] == [3, 3, 4, 4]
    assert CALLS == {"scale": 1, "shift": 1}


def test_key_functions_are_told_which_values_are_outputs(k: parsl.DataFlowKernel) -> None:
    """As upstream: ``output_ref`` is True for the files in ``outputs=`` and False everywhere
    else (inputs, other arguments, inside containers), so a key function may key an output
    by its name only."""
    seen: list[tuple[str, bool]] = []
    original = id_for_memo.dispatch(parsl.File)

    @id_for_memo.register(parsl.File)
    def _file_key(obj: parsl.File, output_ref: bool = False) -> bytes:
        seen.append((obj.filename, output_ref))
        return obj.url.encode()

    try:
        @python_app(cache=True)
        def f(*args, **kwargs):
            return len(args)

        F = parsl.File
        f(F("pos"), [F("pos-list")], (F("pos-tuple"),), other=F("kw"), by={"k": F("dict-value")}, in_set={F("in-set")},
          inputs=[F("in")], outputs=[F("out1"), F("out2")]).result()
        assert dict(seen) == {
            "pos": False, "pos-list": False, "pos-tuple": False, "kw": False, "dict-value": False, "in-set": False,
            "in": False, "out1": True, "out2": True,
        }
        seen.clear()
        for value in ([F("list")], {F("set")}, {"k": F("dict")}, (F("tuple"),), F("alone")):
            id_for_memo(value)
        assert seen == [("list", False), ("set", False), ("dict", False), ("tuple", False), ("alone", False)]
    finally:
        id_for_memo.register(parsl.File)(original)


def test_a_key_function_registered_for_a_builtin_type_is_used(k: parsl.DataFlowKernel) -> None:
    original = id_for_memo.dispatch(float)

    @id_for_memo.register(float)
    def _rounded(obj: float, output_ref: bool = False) -> bytes:
        return b"r" + repr(round(obj, 1)).encode()

    try:
        @python_app(cache=True)
        def f(x):
            _count("f")
            return x

        assert f(1.01).result() == 1.01
        assert f(1.04).result() == 1.01  # the same key: 1.0
        assert f(1.5).result() == 1.5
        assert CALLS["f"] == 2
    finally:
        id_for_memo.register(float)(original)


def test_an_ignored_keyword_does_not_hide_the_ones_after_it(k: parsl.DataFlowKernel) -> None:
    @python_app(cache=True, ignore_for_cache=["a"])
    def f(a=0, m=0, z=0):
        _count("f")
        return (m, z)

    assert f(a=1, m=1, z=1).result() == (1, 1)
    assert f(a=2, m=1, z=1).result() == (1, 1)  # only the ignored keyword differs: a hit
    assert f(a=1, m=1, z=2).result() == (1, 2)
    assert f(a=1, m=2, z=2).result() == (2, 2)
    assert CALLS["f"] == 3
