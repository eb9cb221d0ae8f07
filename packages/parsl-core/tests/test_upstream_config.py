"""Configuration and logging as today's upstream documents them: fields assigned after
construction (validated at load), retry_handler, exit_mode, std_autopath / AUTO_LOGNAME,
``ThreadPoolExecutor(max_threads=)``, ``parsl.logconfigs``, and the logger helpers that
return a detaching callable."""
from __future__ import annotations

import io
import json
import logging
import os

import pytest

import parsl
from parsl import bash_app, python_app
from parsl.errors import ConfigurationError

ATTEMPTS: list[str] = []


def test_fields_assigned_after_construction_are_used_and_validated_at_load() -> None:
    c = parsl.Config(executors=[parsl.ThreadPoolExecutor(max_threads=2)])
    c.retries = 2

    @python_app
    def flaky(tag):
        ATTEMPTS.append(tag)
        if ATTEMPTS.count(tag) < 3:
            raise RuntimeError("not yet")
        return "ok"

    with parsl.load(c):
        assert flaky("a").result() == "ok"
    assert ATTEMPTS.count("a") == 3
    c.retries = -1
    with pytest.raises(ConfigurationError, match="retries"):
        parsl.load(c)
    c.retries = 0
    c.exit_mode = "sometimes"
    with pytest.raises(ConfigurationError, match="exit_mode"):
        parsl.load(c)


def test_retry_handler_prices_failures() -> None:
    seen = []

    def handler(exc, record):
        seen.append((type(exc).__name__, record["id"], record["fail_count"], record["func_name"]))
        return 0.5 if isinstance(exc, TimeoutError) else 100

    @python_app
    def timeouts(n):
        ATTEMPTS.append(f"t{n}")
        raise TimeoutError("slow")

    @python_app
    def broken():
        ATTEMPTS.append("b")
        raise ValueError("broken")

    with parsl.load(parsl.Config(retries=2, retry_handler=handler)):
        with pytest.raises(TimeoutError):
            timeouts(1).result()
        with pytest.raises(ValueError):
            broken().result()
    # 0.5 per failure: runs until the cost passes 2 (5 runs); 100 stops at once (1 run)
    assert ATTEMPTS.count("t1") == 5
    assert ATTEMPTS.count("b") == 1
    assert seen[0][0] == "TimeoutError" and seen[0][2] == 1 and seen[0][3] == "timeouts"


def test_a_raising_retry_handler_ends_the_task_with_its_error() -> None:
    def handler(exc, record):
        raise LookupError("handler broke")

    @python_app
    def bad():
        raise ValueError("x")

    with parsl.load(parsl.Config(retries=5, retry_handler=handler)):
        with pytest.raises(LookupError) as ei:
            bad().result()
    assert isinstance(ei.value.__cause__, ValueError)


def test_exit_mode_skip_leaves_the_kernel_running() -> None:
    with parsl.load(parsl.Config(exit_mode="skip")) as dfk:
        pass
    assert not dfk.closed
    dfk.cleanup()
    with parsl.load(parsl.Config(exit_mode="wait")) as dfk2:
        pass
    assert dfk2.closed


def test_max_threads_is_max_workers() -> None:
    ex = parsl.ThreadPoolExecutor(max_threads=3)
    assert ex.max_threads == ex.max_workers == 3
    assert parsl.ThreadPoolExecutor(max_workers=5).max_threads == 5
    with pytest.raises(ValueError, match="same setting"):
        parsl.ThreadPoolExecutor(max_workers=2, max_threads=3)


def test_auto_logname_streams() -> None:
    @bash_app
    def hello(label=None, stdout=parsl.AUTO_LOGNAME, stderr=parsl.AUTO_LOGNAME):
        return "echo out; echo err >&2"

    with parsl.load() as dfk:
        f = hello()
        g = hello(label="x", stderr=(parsl.AUTO_LOGNAME, "w"))
        f.result(), g.result()
    assert f.stdout == os.path.join(dfk.run_dir, "task_logs", "0000", f"task_{f.tid:04d}_hello.stdout")
    assert open(f.stdout).read() == "out\n" and open(f.stderr).read() == "err\n"
    assert g.stdout.endswith(f"task_{g.tid:04d}_hello_x.stdout")
    assert open(g.stderr[0]).read() == "err\n"


def test_std_autopath_chooses_the_paths(tmp_path) -> None:
    def autopath(record, kw):
        return str(tmp_path / "logs" / f"{record['func_name']}-{record['id']}.{kw}")

    @bash_app
    def hello(stdout=None):
        return "echo hi"

    with parsl.load(parsl.Config(std_autopath=autopath)):
        f = hello(stdout=parsl.AUTO_LOGNAME)
        f.result()
    assert f.stdout == str(tmp_path / "logs" / f"hello-{f.tid}.stdout")
    assert open(f.stdout).read() == "hi\n"


def test_auto_logname_streams_do_not_spoil_the_cache_key() -> None:
    @bash_app(cache=True)
    def hello(stdout=parsl.AUTO_LOGNAME):
        ATTEMPTS.append("hello")
        return "echo hi"

    with parsl.load():
        hello().result()
        hello().result()
    assert ATTEMPTS.count("hello") == 1


@pytest.mark.parametrize(
    ("setting", "files"),
    [(True, {"parsl.log"}), (False, set()), ("noop", set()), ("file", {"parsl.log"}), ("json", {"parsl.jsonlog"})],
)
def test_parsl_log_exists_exactly_when_logging_is_on(setting, files) -> None:
    from parsl.logconfigs import FileLogging, JSONLogging, NoopLogging
    from parsl.logconfigs.file import FileLogging as UpstreamPath

    assert UpstreamPath is FileLogging

    value = {"noop": NoopLogging(), "file": FileLogging(), "json": JSONLogging()}.get(setting, setting)

    @python_app
    def one():
        return 1

    with parsl.load(parsl.Config(initialize_logging=value)) as dfk:
        one().result()
    present = {n for n in os.listdir(dfk.run_dir) if n.startswith("parsl.")}
    assert present == files
    if setting == "json":
        first = json.loads(open(os.path.join(dfk.run_dir, "parsl.jsonlog")).readline())
        assert first["name"].startswith("parsl")
    assert all(not isinstance(h, logging.FileHandler) for h in logging.getLogger("parsl").handlers)


def test_a_bad_initialize_logging_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="initialize_logging"):
        parsl.Config(initialize_logging="yes")


def test_set_stream_logger_takes_a_stream_and_returns_a_detacher() -> None:
    stream = io.StringIO()
    detach = parsl.set_stream_logger("parsl.test_upstream", logging.INFO, "%(message)s", stream=stream)
    log = logging.getLogger("parsl.test_upstream")
    log.info("first")
    detach()
    log.info("second")
    assert stream.getvalue() == "first\n"
    assert detach not in log.handlers


def test_set_file_logger_returns_a_detacher(tmp_path) -> None:
    path = tmp_path / "x.log"
    detach = parsl.set_file_logger(str(path), "parsl.test_upstream_file", logging.INFO, "%(message)s")
    logging.getLogger("parsl.test_upstream_file").info("kept")
    detach()
    logging.getLogger("parsl.test_upstream_file").info("dropped")
    assert path.read_text() == "kept\n"


def test_upstream_scaling_keywords_are_accepted_checked_and_logged() -> None:
    c = parsl.Config(strategy="none", strategy_period=2, max_idletime=30.0, garbage_collect=True, project_name="p")
    assert c.ignored_upstream_settings() == ["strategy='none'", "strategy_period=2", "max_idletime=30.0", "project_name='p'"]
    with parsl.load(c) as dfk:
        pass
    log = open(os.path.join(dfk.run_dir, "parsl.log")).read()
    assert "upstream Config settings with no effect here: strategy='none', strategy_period=2" in log
    assert parsl.Config().ignored_upstream_settings() == []
    with pytest.raises(ConfigurationError, match="strategy"):
        parsl.Config(strategy="fastest")
    with pytest.raises(ConfigurationError, match="strategy_period"):
        parsl.Config(strategy_period=0)


def test_executors_may_be_none_or_any_iterable() -> None:
    assert [type(e).__name__ for e in parsl.Config(executors=None).executors] == ["ThreadPoolExecutor"]
    gen = (parsl.ThreadPoolExecutor(label=f"t{i}") for i in range(2))
    assert [e.label for e in parsl.Config(executors=gen).executors] == ["t0", "t1"]
    with pytest.raises(ConfigurationError, match="executors"):
        parsl.Config(executors=[])


def test_modern_bash_apps_run_commands_with_literal_braces(tmp_path) -> None:
    """Upstream formats no command; ours formats @bash_app commands with the call's
    arguments when that works (the README's style) and runs the rest as returned."""
    from parsl import App
    from parsl.app.errors import AppBadFormatting, BashAppNoReturn

    (tmp_path / "data.txt").write_text("a 1\nb 2\n")

    @bash_app
    def first_column(path, stdout=None):
        return "awk '{print $1}' " + path

    @bash_app
    def formatted(word, stdout=None):
        return "echo {0}"

    @bash_app
    def nothing():
        return None

    with parsl.load() as dfk:
        first_column(str(tmp_path / "data.txt"), stdout=str(tmp_path / "col.txt")).result()
        formatted("hi", stdout=str(tmp_path / "f.txt")).result()
        err = nothing().exception()

        @App("bash", dfk)
        def strict(stdout=None):
            return "awk '{print $1}' x"

        with pytest.raises(AppBadFormatting, match="literal braces must be doubled"):
            strict().result()
    assert (tmp_path / "col.txt").read_text() == "a\nb\n"
    assert (tmp_path / "f.txt").read_text() == "hi\n"
    assert isinstance(err, BashAppNoReturn) and isinstance(err, ValueError)
