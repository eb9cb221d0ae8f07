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
