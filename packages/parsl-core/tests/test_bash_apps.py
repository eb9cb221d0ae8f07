"""Bash apps: formatting, redirection, exit codes and every documented error."""
from __future__ import annotations

import os
import time

import pytest

from parsl import App, File, bash_app
from parsl.app.errors import (
    AppBadFormatting,
    AppException,
    AppFailure,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
)


def test_format_with_positional_outputs_and_inputs(dfk):
    @App("bash", dfk)
    def echo(a, b, inputs=(), outputs=(), stdout=None):
        return 'echo "{0}-{1}-{inputs[1]}" > {outputs[0]}'

    f = echo("x", 2, inputs=["i0", "i1"], outputs=["out.txt"])
    assert f.result() == 0
    assert open(f.outputs[0].result()).read() == "x-2-i1\n"


def test_percent_formatting_and_signature_default_streams(dfk):
    @App("bash", dfk)
    def echo(arg1, inputs=(), stderr="std.err", stdout="std.out"):
        return "echo %s %s %s" % (arg1, inputs[0], inputs[1])

    assert echo("Hello", inputs=["World", "!"]).result() == 0
    assert open("std.out").read() == "Hello World !\n"
    assert os.path.exists("std.err")


def test_stdout_and_stderr_paths_on_the_future_and_tuple_modes(dfk):
    @App("bash", dfk)
    def both(stdout=None, stderr=None):
        return "echo out; echo err 1>&2"

    f = both(stdout="o.txt", stderr="e.txt")
    assert f.result() == 0 and f.stdout == "o.txt" and f.stderr == "e.txt"
    both(stdout="o.txt", stderr="e.txt").result()
    assert open("o.txt").read() == "out\nout\n"  # appended
    both(stdout=("o.txt", "w"), stderr="e.txt").result()
    assert open("o.txt").read() == "out\n"  # truncated


@pytest.mark.parametrize(
    "cmd, code, reason",
    [("exit 3", 3, "non-zero"), ("/no/such/command", 127, "command not found"), ("./notexec.sh", 126, "not executable")],
)
def test_exit_codes(dfk, cmd, code, reason):
    open("notexec.sh", "w").write("echo hi\n")

    @App("bash", dfk)
    def run(c):
        return c

    with pytest.raises(AppFailure) as ei:
        run(cmd).result()
    err = ei.value
    assert err.exitcode == code and reason in err.reason
    assert isinstance(err, BashExitFailure) and isinstance(err, AppException)


def test_missing_outputs(dfk):
    @App("bash", dfk)
    def lazy(outputs=()):
        return "true"

    f = lazy(outputs=["never.txt", File("also-never.txt")])
    with pytest.raises(MissingOutputs) as ei:
        f.result()
    assert [str(o) for o in ei.value.outputs] == ["never.txt", "also-never.txt"]
    with pytest.raises(MissingOutputs):
        f.outputs[0].result()


def test_bad_stream_file(dfk):
    @App("bash", dfk)
    def echo(stdout=None):
        return "echo hi"

    with pytest.raises(BadStdStreamFile) as ei:
        echo(stdout="/no/such/dir/out.txt").result()
    assert isinstance(ei.value.exception, FileNotFoundError)
    assert "/no/such/dir/out.txt" in str(ei.value)


def test_no_string_returned(dfk):
    @App("bash", dfk)
    def nothing():
        pass

    with pytest.raises(BashAppNoReturn, match="NoneType"):
        nothing().result()


def test_bad_format(dfk):
    @App("bash", dfk)
    def bad():
        return "echo {missing} ${HOME}"

    with pytest.raises(AppBadFormatting, match="formatting the command failed"):
        bad().result()


def test_walltime_kills_the_whole_process_tree(dfk):
    @App("bash", dfk, walltime=1)
    def tree():
        return "sleep 60 & echo $! > child.pid; sleep 60"

    t0 = time.monotonic()
    with pytest.raises(AppTimeout) as ei:
        tree().result(timeout=30)
    assert time.monotonic() - t0 < 15
    assert ei.value.exitcode == -1
    child = int(open("child.pid").read())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        raise AssertionError(f"background child {child} survived the walltime kill")


def test_modern_bash_app_and_dependency_on_data_future(dfk):
    @bash_app
    def write(msg, outputs=()):
        return f"echo {msg} > {{outputs[0]}}"

    @bash_app
    def copy(inputs=(), outputs=()):
        return "cp {inputs[0]} {outputs[0]}"

    w = write("hello", outputs=["a.txt"])
    c = copy(inputs=[w.outputs[0]], outputs=["b.txt"])
    assert c.result() == 0
    assert open(c.outputs[0].result()).read() == "hello\n"


@pytest.mark.parametrize("cmd, code", [("exit 15", 15), ("/dev/null", 126), ("echo $((5/0))", 1)])
def test_more_exit_codes(dfk, cmd, code):
    @App("bash", dfk)
    def run(c):
        return c

    with pytest.raises(BashExitFailure) as ei:
        run(cmd).result()
    assert ei.value.exitcode == code


@pytest.mark.parametrize(
    "spec",
    [123, ("out.txt", "x"), ("out.txt", "w", "extra"), (5, "w"), "", b"\x00bad"],
    ids=["int", "bad-mode", "3-tuple", "int-path", "empty", "nul-bytes"],
)
def test_malformed_stream_specs_are_bad_std_stream_file(dfk, spec):
    @App("bash", dfk)
    def echo(stdout=None):
        return "echo hi"

    with pytest.raises(BadStdStreamFile):
        echo(stdout=spec).result()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_walltime_kills_setsid_and_orphaned_children_of_a_command_that_traps_sigterm(dfk):
    """The command ignores SIGTERM, starts a child in a session of its own (``setsid``) and
    an orphan (double fork, reparented away from the command): after the 0.5 s grace all
    of them are SIGKILLed; none survives. Before: 2 s of grace, and the setsid child and the
    orphan lived on."""

    @App("bash", dfk, walltime=1)
    def stubborn():
        return (
            "trap '' TERM; setsid sleep 60 & echo $! > setsid.pid; "
            "( sleep 60 & echo $! > orphan.pid ) ; sleep 60"
        )

    with pytest.raises(AppTimeout):
        stubborn().result(timeout=30)
    pids = [int(open(name).read()) for name in ("setsid.pid", "orphan.pid")]
    deadline = time.monotonic() + 5
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [p for p in pids if _alive(p)] == []


def test_argv_form_passes_untrusted_strings_as_single_arguments(dfk, tmp_path):
    """A bash app that returns a list runs it without a shell: each element reaches the
    program as one argument, however hostile (the canary would be created by a shell)."""
    canary = tmp_path / "canary"
    hostile = [f'"; touch {canary} #', f"$(touch {canary})", f"`touch {canary}`", f"a\ntouch {canary}", "{0} {{x}}"]

    @App("bash", dfk)
    def echo_args(args, stdout=None):
        return ["printf", "%s\\0", *args]

    out = tmp_path / "out"
    assert echo_args(hostile, stdout=str(out)).result() == 0
    assert out.read_bytes().split(b"\0")[:-1] == [h.encode() for h in hostile]
    assert not canary.exists()

    @App("bash", dfk)
    def missing():
        return ["/nonexistent/program", "x"]

    assert missing().exception().exitcode == 127


@pytest.mark.parametrize("sig", [9, 15])
def test_command_killed_by_a_signal_fails_with_the_signal(dfk, sig):
    """A shell that dies of a signal has no exit code of its own: the app still fails, and the
    failure says which signal (Popen's negative return code)."""
    @App("bash", dfk)
    def die(s):
        return "kill -{0} $$; echo still here"

    with pytest.raises(BashExitFailure) as ei:
        die(sig).result()
    assert ei.value.exitcode == -sig
