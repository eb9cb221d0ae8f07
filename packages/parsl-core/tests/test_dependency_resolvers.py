"""Which futures in a call are dependencies: only those passed directly as arguments and the
items of ``inputs=`` (as 0.5.0 and upstream Parsl do), unless the deep resolver is chosen;
``inputs=`` takes any iterable; futures in an app's default values are dependencies."""
from __future__ import annotations

import concurrent.futures as cf

import pytest

import parsl
from parsl import App, DataFlowKernel, ThreadPoolExecutor, python_app
from parsl.dataflow.dependency_resolvers import (
    DEEP_DEPENDENCY_RESOLVER,
    SHALLOW_DEPENDENCY_RESOLVER,
    DependencyResolver,
)
from parsl.errors import ConfigurationError


def test_050_script_calls_result_on_futures_nested_in_a_list(dfk):
    """The 0.5.0 idiom: a list of futures passed positionally reaches the app as futures."""

    @App("python", dfk)
    def square(x):
        return x * x

    @App("python", dfk)
    def total(items, table=None):
        assert all(isinstance(i, cf.Future) for i in items)
        assert isinstance(table["k"], cf.Future)
        return sum(i.result() for i in items) + table["k"].result()

    squares = [square(i) for i in range(4)]
    assert total(squares, table={"k": square(5)}).result(timeout=30) == 0 + 1 + 4 + 9 + 25


def test_modern_api_is_shallow_by_default_too():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)])) as dfk:
        assert dfk.dependency_resolver is SHALLOW_DEPENDENCY_RESOLVER

        @python_app
        def kinds(direct, nested, inputs=()):
            return type(direct).__name__, type(nested[0]).__name__, [type(i).__name__ for i in inputs]

        done: cf.Future = cf.Future()
        done.set_result(7)
        assert kinds(done, [done], inputs=[done]).result(timeout=30) == ("int", "Future", ["int"])


def test_direct_and_inputs_futures_are_waited_for(dfk):
    @App("python", dfk)
    def add(a, b=0, inputs=()):
        return a + b + sum(inputs)

    gates = [cf.Future() for _ in range(3)]
    f = add(gates[0], b=gates[1], inputs=[1, gates[2]])
    gates[0].set_result(1)
    gates[1].set_result(2)
    assert not f.done()  # still waiting for the future inside inputs=
    gates[2].set_result(3)
    assert f.result(timeout=30) == 7


@pytest.mark.parametrize("how", ["config", "dfk_keyword"])
def test_deep_resolution_is_an_opt_in(how):
    ex = ThreadPoolExecutor(max_workers=2)
    if how == "config":
        dfk = DataFlowKernel(config=parsl.Config(executors=[ex], dependency_resolver=DEEP_DEPENDENCY_RESOLVER))
    else:
        dfk = DataFlowKernel(executors=[ex], dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    try:

        @App("python", dfk)
        def show(nested):
            return nested

        gate: cf.Future = cf.Future()
        f = show({"a": [gate, (gate, 1)], "b": {gate}})
        assert not f.done()
        gate.set_result(2)
        assert f.result(timeout=30) == {"a": [2, (2, 1)], "b": {2}}
    finally:
        dfk.cleanup()


def _gated(n):
    gates = [cf.Future() for _ in range(n)]
    return gates, lambda: [g.set_result(i) for i, g in enumerate(gates)]


@pytest.mark.parametrize("kind", ["dict_values", "tuple", "generator", "set", "range"])
def test_inputs_takes_any_iterable(dfk, kind):
    @App("python", dfk)
    def collect(inputs=()):
        return type(inputs).__name__, sorted(inputs)

    gates, release = _gated(3)
    if kind == "dict_values":
        inputs = {str(i): g for i, g in enumerate(gates)}.values()
    elif kind == "tuple":
        inputs = tuple(gates)
    elif kind == "generator":
        inputs = (g for g in gates)
    elif kind == "set":
        inputs = set(gates)
    else:
        gates, release = [], lambda: None
        inputs = range(3)
    f = collect(inputs=inputs)
    if gates:
        assert not f.done()
    release()
    kind_seen, values = f.result(timeout=30)
    assert values == [0, 1, 2]
    assert kind_seen == ("tuple" if kind == "tuple" else "list")


def test_a_generator_for_inputs_is_consumed_once_at_call_time(dfk):
    @App("python", dfk)
    def count(inputs=()):
        return len(inputs)

    pulled = []

    def gen():
        for i in range(3):
            pulled.append(i)
            yield i

    f = count(inputs=gen())
    assert pulled == [0, 1, 2]  # consumed by the call itself, not later on a worker
    assert f.result(timeout=30) == 3


def test_futures_in_default_values_are_dependencies():
    with parsl.load(parsl.Config(executors=[ThreadPoolExecutor(max_workers=2)])):

        @python_app
        def g(x):
            return x * 10

        gate: cf.Future = cf.Future()

        @python_app
        def f(a, b=gate, inputs=[g(1), g(2)], *, c=gate):  # noqa: B006 - the upstream idiom
            return a, b, sorted(inputs), c

        r = f(1)
        assert not r.done()
        gate.set_result(5)
        assert r.result(timeout=30) == (1, 5, [10, 20], 5)
        # a default the caller overrides (by position or by name) is not added
        assert f(1, 2, inputs=[3], c=4).result(timeout=30) == (1, 2, [3], 4)


def test_a_custom_resolver_follows_the_upstream_contract():
    """DependencyResolver(traverse_to_gather, traverse_to_unwrap), applied to each argument
    and to each item of inputs=."""
    seen = []

    def gather(v):
        seen.append(v)
        return [v[1]] if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], cf.Future) else []

    def unwrap(v):
        return v[1].result() if isinstance(v, tuple) and len(v) == 2 and isinstance(v[1], cf.Future) else v

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], dependency_resolver=DependencyResolver(gather, unwrap))
    try:

        @App("python", dfk)
        def f(a, inputs=()):
            return a, list(inputs)

        gate: cf.Future = cf.Future()
        r = f(("x", gate), inputs=[("y", gate), 3])
        gate.set_result(9)
        assert r.result(timeout=30) == (9, [9, 3])
        assert ("y", gate) in seen and 3 in seen
    finally:
        dfk.cleanup()


def test_config_rejects_a_resolver_of_the_wrong_type():
    with pytest.raises(ConfigurationError, match=r"dependency_resolver.*DEEP_DEPENDENCY_RESOLVER"):
        parsl.Config(dependency_resolver="deep")


SHALLOW_COPY = DependencyResolver(SHALLOW_DEPENDENCY_RESOLVER.traverse_to_gather, SHALLOW_DEPENDENCY_RESOLVER.traverse_to_unwrap)


@pytest.mark.parametrize("resolver", [SHALLOW_DEPENDENCY_RESOLVER, DEEP_DEPENDENCY_RESOLVER, SHALLOW_COPY], ids=["shallow", "deep", "shallow_functions"])
def test_keyword_and_lone_inputs_futures_are_dependencies(resolver):
    """A future passed by keyword, a single future given as ``inputs=`` and a future in an
    ``inputs=`` list are all waited for; when one fails the task fails with DependencyError
    (the app never sees the exception). The shallow traversal functions, wrapped in a new
    DependencyResolver, behave as the shallow resolver itself."""
    from parsl.dataflow.errors import DependencyError

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], dependency_resolver=resolver)
    ran = []
    try:

        @App("python", dfk)
        def f(a=0, b=0, inputs=()):
            ran.append((a, b))
            return a, b, inputs

        gate: cf.Future = cf.Future()
        lone = f(inputs=gate)
        by_name = f(b=gate)
        assert not lone.done() and not by_name.done()
        gate.set_result(4)
        assert lone.result(timeout=30) == (0, 0, 4)
        assert by_name.result(timeout=30) == (0, 4, ())
        nested: cf.Future = cf.Future()
        nested.set_result(5)
        # shallow: a future inside a positional list reaches the app as it is; deep: its result
        expect = [5] if resolver is DEEP_DEPENDENCY_RESOLVER else [nested]
        assert f([nested]).result(timeout=30)[0] == expect
        bad: cf.Future = cf.Future()
        bad.set_exception(KeyError("lost"))
        for call in (lambda: f(b=bad), lambda: f(inputs=bad), lambda: f(inputs=[1, bad])):
            with pytest.raises(DependencyError) as ei:
                call().result(timeout=30)
            assert [type(e) for e in ei.value.dependent_exceptions] == [KeyError]
        assert len(ran) == 3
    finally:
        dfk.cleanup()


class Pair(tuple):
    """A tuple subclass that is not a namedtuple."""


class Tagged(list):
    def __init__(self, items, tag="t"):
        super().__init__(items)
        self.tag = tag


class NeedsTwo(list):
    def __init__(self, items, label):
        super().__init__(items)
        self.label = label


def test_deep_unwrap_keeps_container_types_where_it_can():
    """Dict subclasses, namedtuples, tuple and list subclasses come back as their own type
    holding results; a container that cannot be rebuilt from its items becomes a list; any
    other object reaches the app as the same object."""
    import collections

    Point = collections.namedtuple("Point", "x y")
    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)], dependency_resolver=DEEP_DEPENDENCY_RESOLVER)
    try:

        @App("python", dfk)
        def echo(*values):
            return values

        gate: cf.Future = cf.Future()
        gate.set_result(1)
        marker = object()
        counts = collections.defaultdict(int, {"a": gate})
        values = echo(
            collections.OrderedDict(k=gate), counts, Point(gate, 2), Pair([gate, gate, 3]), Tagged([gate]), NeedsTwo([gate], "x"), marker
        ).result(timeout=30)
        ordered, dd, point, pair, tagged, plain, same = values
        assert type(ordered) is collections.OrderedDict and ordered == {"k": 1}
        assert type(dd) is collections.defaultdict and dd == {"a": 1} and dd["missing"] == 0
        assert type(point) is Point and point == (1, 2)
        assert type(pair) is Pair and pair == (1, 1, 3)
        assert type(tagged) is Tagged and tagged == [1]
        assert type(plain) is list and plain == [1]
        assert same is marker
        assert counts["a"] is gate  # the caller's containers are left as they were
    finally:
        dfk.cleanup()


def test_resolvers_are_immutable_values():
    """Hashable and frozen: a kernel's resolver cannot be changed under it."""
    import dataclasses

    assert {SHALLOW_COPY: "s"}[DependencyResolver(*dataclasses.astuple(SHALLOW_COPY))] == "s"
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEEP_DEPENDENCY_RESOLVER.traverse_to_gather = SHALLOW_DEPENDENCY_RESOLVER.traverse_to_gather  # type: ignore[misc]
