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


def _open_paths() -> set[str]:
    out = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return out


def test_argv_form_misuse_and_a_program_that_cannot_run(dfk, tmp_path):
    """An empty list, or one holding a non-string, is BashAppNoReturn; a program that exists
    but is not executable fails with 126 and says so."""
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)

    @App("bash", dfk)
    def argv(items):
        return items

    for bad in ([], ["echo", 3]):
        with pytest.raises(BashAppNoReturn, match="not a non-empty list of strings"):
            argv(bad).result()
    with pytest.raises(BashExitFailure, match="command found but not executable") as ei:
        argv([str(script)]).result()
    assert ei.value.exitcode == 126
    assert argv([str(tmp_path / "absent")]).exception().exitcode == 127


def test_stream_files_are_closed_after_the_command_and_when_stderr_cannot_open(dfk, tmp_path):
    @App("bash", dfk)
    def say(stdout=None, stderr=None):
        return "echo out; echo err >&2"

    out, err = tmp_path / "o.txt", tmp_path / "e.txt"
    assert say(stdout=str(out), stderr=str(err)).result() == 0
    assert (out.read_text(), err.read_text()) == ("out\n", "err\n")
    assert not {str(out), str(err)} & _open_paths()
    kept = tmp_path / "kept.txt"
    with pytest.raises(BadStdStreamFile):
        say(stdout=str(kept), stderr=str(tmp_path / "no-such-dir" / "e.txt")).result()
    assert kept.exists() and str(kept) not in _open_paths()  # opened, then closed again

    @App("bash", dfk)
    def fail(stdout=None):
        return "echo partial; exit 3"

    failed = fail(stdout=str(out))
    exc = failed.exception()  # its traceback keeps the call's frame alive: the file is closed anyway
    assert isinstance(exc, BashExitFailure) and str(out) not in _open_paths()


def test_the_command_leads_its_own_session_and_inherits_no_descriptors(dfk, tmp_path):
    """Each command is a session leader (so its whole tree can be found and killed) and gets
    no file descriptor of the driver's, even one marked inheritable."""
    leak = os.open(tmp_path / "secret", os.O_CREAT | os.O_RDWR, 0o600)
    os.set_inheritable(leak, True)
    try:

        @App("bash", dfk)
        def where(stdout=None):
            return "echo $$ $(ps -o sid= -p $$); ls /proc/$$/fd"

        assert where(stdout=str(tmp_path / "o")).result() == 0
    finally:
        os.close(leak)
    first, *fds = (tmp_path / "o").read_text().split("\n")
    pid, sid = first.split()
    assert pid == sid
    assert str(leak) not in fds and {"0", "1", "2"} <= set(fds)


def test_kill_running_takes_down_commands_still_running(dfk, tmp_path):
    """What an exiting driver calls: every bash command still running is killed with its
    children; a finished command is no longer counted."""
    from parsl.app.bash import kill_running

    @App("bash", dfk)
    def quick():
        return "true"

    assert quick().result() == 0
    assert kill_running() == 0  # the finished command was forgotten

    @App("bash", dfk)
    def hang():
        return "sleep 300 & echo $$ $! > pids; wait"

    f = hang()
    for _ in range(600):
        if os.path.exists("pids") and len(open("pids").read().split()) == 2:
            break
        time.sleep(0.05)
    pids = [int(p) for p in open("pids").read().split()]
    assert kill_running() == 1
    for _ in range(200):
        if not any(_alive(p) for p in pids):
            break
        time.sleep(0.05)
    assert [p for p in pids if _alive(p)] == []  # the shell and its child
    with pytest.raises(BashExitFailure) as ei:
        f.result(timeout=30)
    assert ei.value.exitcode < 0  # a signal
    assert kill_running() == 0


def test_an_exception_while_waiting_kills_the_command(tmp_path):
    """Ctrl-C (or any exception) in the thread waiting for a command stops the command too."""
    import signal
    import threading

    from parsl.app.bash import BashCall

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    call = BashCall(lambda: f"echo $$ > {tmp_path}/pid; sleep 300", "sleeper", None, {})
    old = signal.signal(signal.SIGUSR1, interrupt)  # (SIGALRM is pytest-timeout's)

    def interrupt_once_started():
        for _ in range(600):
            if (tmp_path / "pid").exists():
                break
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGUSR1)

    threading.Thread(target=interrupt_once_started, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            call()
    finally:
        signal.signal(signal.SIGUSR1, old)
    pid = int((tmp_path / "pid").read_text())
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)


def test_bash_call_is_strict_by_default_and_pickles_whole(tmp_path):
    import pickle

    from parsl.app import bash
    from parsl.app.app import BashApp

    strict = bash.BashCall(lambda: "echo {missing}", "strict", None, {})
    with pytest.raises(AppBadFormatting):
        strict()
    call = bash.BashCall(_write_format, "w", 30.0, {"stdout": str(tmp_path / "o")}, strict_format=False)
    again = pickle.loads(pickle.dumps(call))
    assert (again.name, again.walltime, again.defaults, again.strict_format) == ("w", 30.0, {"stdout": str(tmp_path / "o")}, False)
    assert again() == 0 and (tmp_path / "o").read_text() == "{x}\n"
    assert bash.BashApp is BashApp  # today's upstream path of the class


def _write_format():
    return "echo '{x}'"
