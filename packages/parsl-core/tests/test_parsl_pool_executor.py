"""``parsl.concurrent.ParslPoolExecutor``: the standard executor interface over a kernel."""
from __future__ import annotations

import pytest

import parsl
from parsl.concurrent import ParslPoolExecutor


def square(x: int) -> int:
    return x * x


def test_submit_map_and_shutdown_of_an_owned_kernel() -> None:
    with ParslPoolExecutor(parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=2)])) as pool:
        f = pool.submit(square, 4)
        assert isinstance(f, parsl.AppFuture) and f.result() == 16
        assert list(pool.map(square, range(5))) == [0, 1, 4, 9, 16]
        assert pool.get_app(square) is pool.get_app(square)
    assert pool.dfk.closed


def test_a_given_kernel_is_left_running() -> None:
    dfk = parsl.load()
    with ParslPoolExecutor(dfk=dfk) as pool:
        assert pool.submit(square, 3).result() == 9
    assert not dfk.closed
    dfk.cleanup()


def test_exactly_one_of_config_and_dfk() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ParslPoolExecutor()
