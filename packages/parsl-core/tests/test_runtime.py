"""Run directories, the run log, cleanup at interpreter exit, lazy plugin import paths, and the
thread executor's conformance."""
from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from parsl.dataflow.rundir import make_rundir
from parsl.executors.threads import ThreadPoolExecutor
from parsl.testing.executor_kit import ExecutorConformance


class TestThreadPoolConformance(ExecutorConformance):
    def make_executor(self, tmp_path):
        return ThreadPoolExecutor(max_workers=2, thread_name_prefix="conf")


def test_thread_names_use_the_prefix():
    import threading

    ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix="myprefix")
    assert ex.submit(lambda: threading.current_thread().name).result().startswith("myprefix")
    ex.shutdown()


def test_rundirs_are_distinct_under_concurrent_drivers(tmp_path):
    code = "from parsl.dataflow.rundir import make_rundir; print(make_rundir('runinfo'))"
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path, stdout=subprocess.PIPE, text=True) for _ in range(20)]
    dirs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(dirs)) == 20
    assert sorted(os.listdir(tmp_path / "runinfo")) == [f"{i:03d}" for i in range(20)]


def test_make_rundir_skips_taken_numbers(tmp_path):
    base = tmp_path / "ri"
    (base / "000").mkdir(parents=True)
    (base / "notanumber").mkdir()
    assert make_rundir(str(base)).endswith("001")


def test_run_log_is_compact_and_per_task_lines_are_off_by_default(tmp_path):
    import parsl
    from parsl import python_app

    @python_app
    def f(x):
        return x

    with parsl.load() as dfk:
        for i in range(50):
            f(i).result()
    log = open(os.path.join(dfk.run_dir, "parsl.log")).read()
    assert "DataFlowKernel started" in log and "cleaned up: 50 tasks" in log
    assert log.count("\n") < 10, log
    # the handler is removed at cleanup: later records do not reach the old run's log
    logging.getLogger("parsl.dataflow").info("after cleanup")
    assert "after cleanup" not in open(os.path.join(dfk.run_dir, "parsl.log")).read()


def test_cleanup_runs_at_interpreter_exit(tmp_path):
    script = textwrap.dedent(
        """
        import time
        from parsl import App, DataFlowKernel, ThreadPoolExecutor
        dfk = DataFlowKernel(executors=[ThreadPoolExecutor(2)])
        @App('python', dfk)
        def slow(i):
            time.sleep(0.3)
            open('done-%d' % i, 'w').close()
        futs = [slow(i) for i in range(4)]
        # no result(), no cleanup(): the exit hook must wait for the tasks
        """
    )
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True, timeout=60)
    assert sorted(p for p in os.listdir(tmp_path) if p.startswith("done-")) == [f"done-{i}" for i in range(4)]
    log = open(tmp_path / "runinfo" / "000" / "parsl.log").read()
    assert "cleaned up: 4 tasks" in log


@pytest.mark.parametrize(
    "stmt, words",
    [
        ("from parsl.executors.ipp import IPyParallelExecutor", "pip install 'parsl-executors[ipp]'"),
        ("from parsl.executors.swift_t import TurbineExecutor", "pip install 'parsl-executors[mpi]'"),
        ("import parsl; parsl.IPyParallelExecutor", "pip install 'parsl-executors[ipp]'"),
    ],
)
def test_lazy_plugin_paths_name_the_package_when_it_is_absent(tmp_path, stmt, words):
    code = f"import sys\nsys.modules['parsl_executors'] = None\ntry:\n    {stmt}\nexcept ImportError as e:\n    print('ImportError:', e)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ImportError:") and words in out.stdout, out.stdout + out.stderr


def test_lazy_plugin_path_says_upgrade_when_the_distribution_lacks_the_module(tmp_path):
    """parsl-executors installed, but a version without the module the 0.5.0 path points to:
    the error must not claim that the distribution is missing."""
    pytest.importorskip("parsl_executors")
    code = (
        "import sys\nsys.modules['parsl_executors.swift_t'] = None\n"
        "try:\n    from parsl.executors.swift_t import TurbineExecutor\nexcept ImportError as e:\n    print('ImportError:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert "which is installed" in out and "pip install -U 'parsl-executors[mpi]'" in out and "not installed" not in out, out


def test_documented_error_import_paths():
    from parsl.app.errors import (  # noqa: F401
        AppBadFormatting,
        AppException,
        AppFailure,
        AppTimeout,
        BadStdStreamFile,
        BashAppNoReturn,
        DependencyError,
        InvalidAppTypeError,
        MissingOutputs,
        NotFutureError,
        ParslError,
    )
    from parsl.app.futures import DataFuture  # noqa: F401
    from parsl.data_provider.files import File  # noqa: F401
    from parsl.dataflow.error import DataFlowExceptions, DuplicateTaskError, MissingFutError  # noqa: F401
    from parsl.dataflow.futures import AppFuture  # noqa: F401
    from parsl.executors.base import ParslExecutor  # noqa: F401
    from parsl.executors.errors import ControllerErr, ExecutorError, ScalingFailed
    from parsl.executors.exceptions import ExecutorException, TaskExecException

    assert issubclass(TaskExecException, ExecutorException)
    assert issubclass(ScalingFailed, ExecutorError) and issubclass(ControllerErr, ExecutorError)
    assert "site1" in str(ScalingFailed("site1", "no quota")) and "no quota" in str(ScalingFailed("site1", "no quota"))
    assert "boom" in str(ControllerErr("boom"))
    err = AppFailure("bad", 2, retries=1)
    assert (err.reason, err.exitcode, err.retries) == ("bad", 2, 1)
    assert isinstance(err, AppException) and isinstance(err, ParslError)


def test_invalid_app_type():
    from parsl import App
    from parsl.app.errors import InvalidAppTypeError

    with pytest.raises(InvalidAppTypeError, match="'perl'"):
        App("perl")


def test_app_errors_survive_pickling():
    import pickle

    from parsl.app.errors import AppFailure, BadStdStreamFile, DependencyError, MissingOutputs

    for e in [AppFailure("r", 3), MissingOutputs("r", ["a"]), BadStdStreamFile("x", OSError("o")), DependencyError([ValueError("v")], "r", [], [4])]:
        e2 = pickle.loads(pickle.dumps(e))
        assert type(e2) is type(e) and str(e2) == str(e)


def test_remote_exception_wrapper_chains_the_remote_traceback():
    import sys as _sys

    from parsl.app.errors import RemoteExceptionWrapper

    try:
        raise KeyError("remote")
    except KeyError:
        w = RemoteExceptionWrapper(*_sys.exc_info())
    exc = w.get_exception()
    assert isinstance(exc, KeyError) and "raise KeyError" in str(exc.__cause__)


def test_debug_logging_turned_on_after_the_kernel_started(tmp_path):
    """A notebook user may call set_file_logger/set_stream_logger after building the kernel:
    per-task lines then appear."""
    import parsl
    from parsl import App, DataFlowKernel

    dfk = DataFlowKernel(executors=[ThreadPoolExecutor(1)])
    handler = parsl.set_file_logger(str(tmp_path / "debug.log"), level=logging.DEBUG)
    try:

        @App("python", dfk)
        def f():
            return 1

        assert f().result() == 1
    finally:
        logging.getLogger("parsl").removeHandler(handler)
        handler.close()
        logging.getLogger("parsl").setLevel(logging.WARNING)
        dfk.cleanup()
    assert "task 0 f submitted with 0 dependencies" in (tmp_path / "debug.log").read_text()
