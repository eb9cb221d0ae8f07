"""Memoization and checkpoints in today's upstream shape: ``BasicMemoizer(checkpoint_files=,
checkpoint_period=, checkpoint_mode=)`` as ``Config(memoizer=...)``, ``memoizer.checkpoint()``,
key functions that return any picklable value, failures cached within a run."""
from __future__ import annotations

import os

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.data_provider.files import File
from parsl.dataflow.memoization import BasicMemoizer, id_for_memo
from parsl.utils import get_all_checkpoints, get_last_checkpoint

RUNS: list[int] = []


@python_app(cache=True)
def square(x):
    RUNS.append(x)
    return x * x


def test_basic_memoizer_keywords_checkpoint_and_resume() -> None:
    m = BasicMemoizer(checkpoint_mode="manual")
    with parsl.load(parsl.Config(memoizer=m)) as dfk:
        assert square(3).result() == 9
        where = m.checkpoint()
    assert where == os.path.join(dfk.run_dir, "checkpoint")
    assert get_last_checkpoint() == [where]
    # a new run given the checkpoint does not run the call again
    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_files=get_last_checkpoint()))):
        assert square(3).result() == 9
    assert RUNS.count(3) == 1


def test_a_checkpoint_mode_without_files_reuses_every_earlier_run() -> None:
    """As upstream: checkpoint_files None with a mode loads all of runinfo/'s checkpoints."""
    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
        square(4).result()
    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
        square(5).result()
    assert len(get_all_checkpoints()) == 2
    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
        assert square(4).result() == 16 and square(5).result() == 25
    assert RUNS.count(4) == 1 and RUNS.count(5) == 1


def test_periodic_mode_from_the_keywords() -> None:
    m = BasicMemoizer(checkpoint_mode="periodic", checkpoint_period="00:00:01")
    assert m.period == 1.0 and m.mode == "periodic"


class Blob:
    def __init__(self, name: str) -> None:
        self.name = name


def test_key_functions_may_return_any_picklable_value() -> None:
    @id_for_memo.register(Blob)
    def _blob(obj, output_ref=False):
        return ["blob", obj.name]  # not bytes

    @python_app(cache=True)
    def use(b):
        RUNS.append(100)
        return b.name

    with parsl.load():
        assert use(Blob("a")).result() == "a"
        assert use(Blob("a")).result() == "a"
        assert use(Blob("b")).result() == "b"
    assert RUNS.count(100) == 2


def test_a_str_key_function_for_files_with_bash_outputs(tmp_path) -> None:
    """The crash the issue reports: a str-returning key function for File, a bash app with
    File outputs."""
    old = id_for_memo.dispatch(File)

    @id_for_memo.register(File)
    def _file(obj, output_ref=False):
        return obj.filepath

    try:

        @bash_app(cache=True)
        def make(outputs=()):
            return "echo made > {outputs[0]}"

        with parsl.load():
            f = make(outputs=[File(str(tmp_path / "out.txt"))])
            f.result()
            make(outputs=[File(str(tmp_path / "out.txt"))]).result()
        assert (tmp_path / "out.txt").read_text() == "made\n"
    finally:
        id_for_memo.register(File)(old)


def test_failures_are_cached_in_the_run_but_not_checkpointed() -> None:
    @python_app(cache=True)
    def bad(x):
        RUNS.append(-x)
        raise ValueError(x)

    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
        with pytest.raises(ValueError):
            bad(7).result()
        with pytest.raises(ValueError):
            bad(7).result()
    assert RUNS.count(-7) == 1
    with parsl.load(parsl.Config(memoizer=BasicMemoizer(checkpoint_mode="task_exit"))):
        with pytest.raises(ValueError):
            bad(7).result()
    assert RUNS.count(-7) == 2
