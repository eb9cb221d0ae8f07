"""Mutation testing of the core's decision modules: does the suite notice when the code is wrong?

    python scripts/mutation.py                 # every target, 2 workers
    python scripts/mutation.py --only states   # one target
    python scripts/mutation.py --list          # the mutants, without running anything

Each mutant changes one thing in one module (a comparison turned round, ``and`` for ``or``, a
``not`` dropped, a constant changed, a return value dropped, a call statement removed, ``break``
for ``continue``) in a private copy of the sources, and runs the tests that cover that module
against the copy (``PYTHONPATH`` puts the copy ahead of the editable installs; child processes
inherit it). A failing or timed-out test run kills the mutant; a passing one lets it survive.
The last line is ``mutation score: K/N killed (P%)``; survivors are listed above it with their
line and change. Mutants known to be equivalent (no test can tell them apart) are listed in
``EQUIVALENT`` with the reason and not counted.

Why our own runner rather than mutmut or cosmic-ray: the code under test is five ``src/``
packages installed editable, exercised by tests that start subprocesses; a per-mutant source
copy with ``PYTHONPATH`` works with that unchanged, where mutmut 3's in-place trampolines expect
one package and one test tree.

    worker 1 ─┐   copy of packages/*/src   ┌─ mutate one site ─ pytest <target's tests> ─ killed?
    worker 2 ─┘   (one per worker)         └─ restore the file ───────────────────────────┘

Scores (mutants: those counted, equivalents not included; wall time of the run on the 2-core
machine, under ``nice -n 19``, while other mutation runs loaded it):

    target        mutants  killed  equivalent  wall time
    walltime           84      84          17  91 min (2 workers; 23 killed by timing out twice; :107 re-run alone after its test)
    config            103     103           0  6.9 min (1 worker)
    config_dict       152     152           2  8.6 min (1 worker)
    states              3       3           0  0.1 min (1 worker)
    memo_keys         202     202          18  17.0 min (2 workers, 203 mutants: 192 killed; the other 10 killed by tests added after, checked one by one)
    checkpoint_store  200     199          57  38.7 min (2 workers, 217 mutants: 188 killed; 11 more killed by tests added after, checked one by one)
    kernel            228  111/145 run      4  56 min (4 workers) for 149 of the 233 (before merging main), stopped at the deadline: 100 killed, 11 more by later tests (checked one by one)
"""
from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ROOT / "packages"
CORE = "parsl-core/src/parsl"
CORE_TESTS = "packages/parsl-core/tests"

# target name -> (module, relative to packages/; the tests that cover it, relative to the root)
TARGETS: dict[str, tuple[str, list[str]]] = {
    "dependencies": (f"{CORE}/dataflow/dependencies.py", [f"{CORE_TESTS}/test_upstream_futures.py", f"{CORE_TESTS}/test_python_apps.py", f"{CORE_TESTS}/test_seed_examples.py", f"{CORE_TESTS}/test_files.py"]),
    "dependency_resolvers": (f"{CORE}/dataflow/dependency_resolvers.py", [f"{CORE_TESTS}/test_dependency_resolvers.py", f"{CORE_TESTS}/test_python_apps.py"]),
    "states": (f"{CORE}/dataflow/states.py", [f"{CORE_TESTS}/test_states.py", f"{CORE_TESTS}/test_python_apps.py"]),
    "memo_keys": (f"{CORE}/dataflow/memoization.py", [f"{CORE_TESTS}/test_memo_keys.py", f"{CORE_TESTS}/test_memo_seeds.py", f"{CORE_TESTS}/test_checkpoint_modes.py", f"{CORE_TESTS}/test_upstream_memo.py", f"{CORE_TESTS}/test_memoizers.py", f"{CORE_TESTS}/test_checkpoint_050.py", f"{CORE_TESTS}/test_checkpoint_damage.py"]),
    # of the driver-process tests, the two that exercise the store: a killed driver's unclosed
    # file, and drivers claiming file names in one directory (the others test run dirs and signals)
    "checkpoint_store": (f"{CORE}/dataflow/checkpoint_store.py", [f"{CORE_TESTS}/test_checkpoint_store.py", f"{CORE_TESTS}/test_checkpoint_damage.py", f"{CORE_TESTS}/test_checkpoint_modes.py", f"{CORE_TESTS}/test_checkpoint_050.py", f"{CORE_TESTS}/test_checkpoint_processes.py::test_driver_killed_then_resumed[sigkill-task_exit]", f"{CORE_TESTS}/test_checkpoint_processes.py::test_drivers_told_to_share_a_run_dir_still_write_separate_files"]),
    "bash": (f"{CORE}/app/bash.py", [f"{CORE_TESTS}/test_bash_apps.py", f"{CORE_TESTS}/test_seed_examples.py"]),
    "walltime": (f"{CORE}/app/walltime.py", [f"{CORE_TESTS}/test_walltime.py", f"{CORE_TESTS}/test_python_apps.py", f"{CORE_TESTS}/test_bash_apps.py"]),
    # the kernel's fast tests; of the driver-process tests those of cleanup at exit and one of
    # the signal handlers it installs (the others test exit_signals, the concurrent-driver one rundir)
    "kernel": (f"{CORE}/dataflow/dflow.py", [
        f"{CORE_TESTS}/test_python_apps.py", f"{CORE_TESTS}/test_kernel.py", f"{CORE_TESTS}/test_upstream_futures.py", f"{CORE_TESTS}/test_dfk_050_api.py",
        f"{CORE_TESTS}/test_lean_future.py", f"{CORE_TESTS}/test_concurrency.py", f"{CORE_TESTS}/test_cleanup_bound.py", f"{CORE_TESTS}/test_task_feed.py",
        f"{CORE_TESTS}/test_memo_keys.py", f"{CORE_TESTS}/test_usage_tracking.py", f"{CORE_TESTS}/test_lifecycle.py::test_dependency_chain_names_the_root_and_spends_no_retries",
        f"{CORE_TESTS}/test_lifecycle.py::test_independent_failures_resolve_lazily", f"{CORE_TESTS}/test_lifecycle.py::test_load_cleanup_cycles_leak_no_threads_or_fds",
        f"{CORE_TESTS}/test_lifecycle.py::test_exit_without_cleanup_warns_and_finishes_tasks", f"{CORE_TESTS}/test_lifecycle.py::test_sigterm_kills_running_commands_and_exits_quickly",
        *(f"{CORE_TESTS}/test_runtime.py::{t}" for t in ("test_thread_names_use_the_prefix", "test_run_log_is_compact_and_per_task_lines_are_off_by_default", "test_cleanup_runs_at_interpreter_exit", "test_debug_logging_turned_on_after_the_kernel_started")),
    ]),
    "scaling_decision": ("parsl-executors/src/parsl_executors/scaling/decision.py", ["packages/parsl-executors/tests/test_scaling_decision.py", "packages/parsl-executors/tests/test_strategy.py", "packages/parsl-executors/tests/test_block_failures.py::test_limit_must_be_positive"]),
    "config_dict": (f"{CORE}/config_dict.py", [f"{CORE_TESTS}/test_config_dict_fields.py", f"{CORE_TESTS}/test_config.py", f"{CORE_TESTS}/test_config_050_keys.py", f"{CORE_TESTS}/test_config_bounds.py", f"{CORE_TESTS}/test_seed_examples.py"]),
    "config": (f"{CORE}/config.py", [f"{CORE_TESTS}/test_config_fields.py", f"{CORE_TESTS}/test_config.py", f"{CORE_TESTS}/test_config_bounds.py", f"{CORE_TESTS}/test_upstream_config.py"]),
}

# (target, line, change) -> why no test can tell the mutant from the original
EQUIVALENT: dict[tuple[str, int, str], str] = {
    ("bash", 137, "constant: 12 -> 13"): "the length of the random token that marks a command's process tree: 12 or 13 bytes are "
    "equally unguessable and equally found again by proc_tree; nothing outside the tree sees it",
    ("config_dict", 169, "constant: 2 -> 3"): "the default of _count() for maxThreads/max_workers: it is called only when the "
    "key is present, so the default is never returned",
    ("config_dict", 258, "constant: 0 -> 1"): "the default of _count() for controller.port: it is called only when the key is "
    "present, so the default is never returned",
    ("walltime", 78, "constant: False -> True"): "a token that starts as fired only makes disarm() clear the thread's pending "
    "asynchronous exception when there is none to clear (only the watchdog raises one, and only after setting fired)",
    ("walltime", 92, "constant: 0 -> 1"): "the count of live entries only decides when ended entries are dropped from the heap "
    "(fewer than half live, over 1,024 entries); one more counted moves that point by an entry, not which calls time out or when",
    ("walltime", 107, "boolop: And -> Or"): "dropping ended entries (and re-heapifying) more often than needed changes the cost, "
    "not which entries are live nor their order",
    ("walltime", 107, "constant: 1024 -> 1025"): "when to drop ended entries (past 1,024 of them, fewer than half live) is a "
    "cost threshold: one entry later changes neither which calls time out nor when, nor the bound on memory",
    ("walltime", 107, "constant: 2 -> 3"): "the same threshold (fewer than a third live instead of half): dropping ended entries "
    "a little later changes the cost, not the behaviour",
    ("walltime", 107, "binop: Mult -> FloorDiv"): "the same threshold, met at nearly every call past 1,024 entries: dropping ended "
    "entries more often changes the cost, not which calls time out or when",
    ("walltime", 116, "constant: 1 -> 2"): "the live count drifts low, so ended entries are dropped more often: cost, not behaviour",
    ("walltime", 150, "constant: 1 -> 2"): "the same drift of the live count, at each firing",
    ("walltime", 148, "constant: False -> True"): "a fired token left active is already off the heap; disarm() then lowers the live "
    "count once more (cost only, as above)",
    ("walltime", 147, "drop call statement"): "the fired entry is inactive, and the next turn of the loop pops inactive entries off "
    "the top: popping it here or there is the same",
    ("walltime", 149, "constant: True -> False"): "without fired, disarm() skips the clear of a pending exception: the same as "
    "dropping that clear (line 120, below)",
    ("walltime", 180, "constant: False -> True"): "the timer is one-shot (setitimer without an interval): the signal handler runs "
    "at most once, so the flag it clears is never read again",
    ("walltime", 190, "constant: False -> True"): "the flag cleared as the timed call returns, just before setitimer(0) "
    "cancels the timer: a signal that came during the call runs the handler at the interpreter's check right after the call "
    "(flag set in both), so the flag matters only for one that arrives in the few bytecodes between that check and "
    "setitimer(0), i.e. a call that ended at its deadline, whose outcome (its value, or AppTimeout) is a race either way; "
    "no test can place a signal in that window",
    ("walltime", 120, "drop call statement"): "the clear of a pending asynchronous exception at the end of disarm(): CPython "
    "delivers the exception at the first check after the watchdog sets it, which in disarm() is the lock's release call, still "
    "inside call_with_walltime's try; a guard for an interpreter that checks later. A stress of 8,000 racing calls "
    "(test_calls_ending_right_at_their_deadline_never_wedge_the_watchdog) behaves the same without it",
    ("memo_keys", 62, "constant: False -> True"): "the default output_ref of the base key function: the base is reached through "
    "key_bytes, which always passes output_ref, or by a direct call for a dataclass or enum, whose key does not read it",
    ("memo_keys", 95, "constant: False -> True"): "the built-in key function of None does not read output_ref, so its default is never used",
    ("memo_keys", 100, "constant: False -> True"): "the built-in key function of bool does not read output_ref, so its default is never used",
    ("memo_keys", 105, "constant: False -> True"): "the built-in key function of int does not read output_ref, so its default is never used",
    ("memo_keys", 111, "constant: False -> True"): "the built-in key function of float does not read output_ref, so its default is never used",
    ("memo_keys", 116, "constant: False -> True"): "the built-in key function of complex does not read output_ref, so its default is never used",
    ("memo_keys", 121, "constant: False -> True"): "the built-in key function of str does not read output_ref, so its default is never used",
    ("memo_keys", 127, "constant: False -> True"): "the built-in key function of bytes does not read output_ref, so its default is never used",
    ("memo_keys", 132, "constant: False -> True"): "the built-in key function of File does not read output_ref, so its default is never used",
    ("memo_keys", 156, "constant: False -> True"): "the built-in key function of range does not read output_ref, so its default is never used",
    ("memo_keys", 222, "constant: 1 -> 2"): "the start value of pos in make_key is never read: enumerate sets it before any "
    "positional argument can fail, and a keyword argument's failure names the keyword",
    ("memo_keys", 381, "constant: False -> True"): "_closed as constructed: start() sets it to False before any use, and close() of a "
    "memoizer never started has nothing to close either way",
    ("memo_keys", 384, "constant: 0 -> 1"): "_written as constructed: start() resets it to 0 before anything is counted or written",
    ("memo_keys", 474, "drop call statement"): "the fsync of a manual/periodic/dfk_exit checkpoint: the records are in the page cache "
    "(shared memory map) either way; only an OS crash or power loss tells the difference",
    ("memo_keys", 568, "compare#0: GtE -> Lt"): "how often task_exit mode fsyncs (at most once a second): durability against an OS "
    "crash and cost, not what any reader of the file sees",
    ("memo_keys", 568, "binop: Sub -> Add"): "the same fsync interval (here: an fsync after every record)",
    ("memo_keys", 569, "drop call statement"): "the same fsync in task_exit mode (close() still fsyncs)",
    ("memo_keys", 269, "boolop: And -> Or"): "InMemoryMemoizer.lookup's own check of enabled and task.cache: its table is filled "
    "only by update/update_exception, which keep that check, and every caller (the kernel, check_memo) skips uncached tasks",
    ("checkpoint_store", 53, "constant: 1 -> 2"): "MAX_RECORD: the length field is a u32, so it never exceeds 1 << 34 (nor 2 << 34)",
    ("checkpoint_store", 53, "constant: 34 -> 35"): "the same bound, 1 << 35",
    ("checkpoint_store", 115, "constant: 1 -> 2"): "the size of a read (1 MiB or 2): how the file is buffered, not what is read",
    ("checkpoint_store", 115, "constant: 20 -> 21"): "the same read size",
    ("checkpoint_store", 124, "binop: Add -> Sub"): "fill() then reads to the end of the file at once: memory, not the records read",
    ("checkpoint_store", 138, "constant: 1 -> 2"): "end() fills up to 'everything' (1 << 62 or 2 << 62 bytes): the same end of file",
    ("checkpoint_store", 138, "constant: 62 -> 63"): "the same 'everything'",
    ("checkpoint_store", 142, "compare#0: GtE -> Lt"): "when the consumed start of the buffer is dropped: memory only (nothing before the current offset is read again)",
    ("checkpoint_store", 142, "binop: Sub -> Add"): "the same drop threshold",
    ("checkpoint_store", 161, "return None"): "zeros_from's False: its only caller tests the result's truth, and None is as false",
    ("checkpoint_store", 178, "binop: Add -> Sub"): "the torn-frame length check: a torn frame that passes it fails the CRC check right after",
    ("checkpoint_store", 201, "boolop: Or -> And"): "the two magics differ only in their last byte, so a header shorter than 8 bytes is a prefix of both or of neither",
    ("checkpoint_store", 209, "drop call statement"): "dropping the consumed start of the buffer: memory only",
    ("checkpoint_store", 210, "constant: 1 -> 2"): "at(off, 2) is empty exactly when at(off, 1) is",
    ("checkpoint_store", 220, "binop: Add -> Sub"): "searching from off - 1 finds the damaged record's own marker first, which the loop rejects again (a marker at off - 1 would need a record with a valid CRC there)",
    ("checkpoint_store", 229, "constant: 0 -> 1"): "nxt is -1 or an offset past the header, never 0",
    ("checkpoint_store", 246, "constant: 0 -> 1"): "the default for a platform without O_NONBLOCK (every POSIX system has it)",
    ("checkpoint_store", 251, "constant: True -> False"): "O_NONBLOCK has no effect on a regular file, the only kind read (check_safe refuses the rest first)",
    ("checkpoint_store", 251, "drop call statement"): "the same: clearing O_NONBLOCK on a regular file",
    ("checkpoint_store", 335, "constant: 448 -> 449"): "mkdir's mode: the chmod to 0700 right after sets the mode (only the instant between the two sees 0701)",
    ("checkpoint_store", 362, "constant: 1 -> 2"): "the closed descriptor -1 or -2: every check is fd < 0 / fd >= 0",
    ("checkpoint_store", 364, "constant: 0 -> 1"): "_size as constructed: open() sets it before any append",
    ("checkpoint_store", 365, "constant: 0 -> 1"): "_capacity as constructed: the first growth is max(2 * capacity, 1 MiB) = 1 MiB either way",
    ("checkpoint_store", 366, "constant: False -> True"): "_dirty as constructed: a sync() before any append fsyncs an unchanged file (cost only)",
    ("checkpoint_store", 381, "drop call statement"): "the fsync of the new file's header: durability against an OS crash, not what any reader sees",
    ("checkpoint_store", 390, "drop call statement"): "the unlink of the temporary name in the no-hard-link path: the unlink after the try block removes it anyway",
    ("checkpoint_store", 395, "drop call statement"): "an fsync (no-hard-link path): durability only",
    ("checkpoint_store", 404, "drop call statement"): "the fsync of the directory: durability only",
    ("checkpoint_store", 425, "constant: 0 -> 1"): "append()'s 'not open yet' test at fd 0: open() returns at once for an open writer",
    ("checkpoint_store", 433, "constant: True -> False"): "_dirty after an append: only decides whether sync() fsyncs (durability); close() syncs regardless",
    ("checkpoint_store", 436, "binop: Mult -> FloorDiv"): "growing from half the capacity, then doubling to what is needed: more steps, the same file and records",
    ("checkpoint_store", 447, "boolop: And -> Or"): "sync()'s condition: a closed writer is never dirty, so only durability (fsync or not) changes",
    ("checkpoint_store", 447, "compare#0: GtE -> Lt"): "sync() then never fsyncs: durability only (the records are in the page cache through the shared map)",
    ("checkpoint_store", 448, "compare#0: IsNot -> Is"): "the msync before the fsync: durability only",
    ("checkpoint_store", 449, "drop call statement"): "the msync: durability only",
    ("checkpoint_store", 451, "constant: False -> True"): "_dirty left set after a sync: more fsyncs (cost)",
    ("checkpoint_store", 459, "constant: True -> False"): "close() marking the writer dirty for its sync: durability only (it still truncates and fsyncs)",
    ("checkpoint_store", 460, "drop call statement"): "close()'s sync: durability only (munmap and the fsync after the truncate follow)",
    ("checkpoint_store", 465, "drop call statement"): "the fsync after the truncate: durability only",
    ("checkpoint_store", 505, "drop call statement"): "the fsync of the directory: durability only",
    ("checkpoint_store", 153, "constant: 1 -> 2"): "find()'s 'not found' -1 or -2: every caller tests nxt >= 0 / nxt < 0",
    ("checkpoint_store", 221, "constant: 0 -> 1"): "nxt is -1 or an offset past the header, never 0",
    ("checkpoint_store", 222, "constant: 1 -> 2"): "searching from nxt + 2: the record marker cannot start 1 byte after another (it does not overlap itself)",
    ("checkpoint_store", 225, "constant: 1 -> 2"): "the 'no next record' -1 or -2: every use tests nxt >= 0 / nxt < 0",
    ("checkpoint_store", 226, "constant: 0 -> 1"): "nxt is -1 or an offset past the header, never 0",
    ("checkpoint_store", 227, "constant: 1 -> 2"): "the 'no next record' -1 or -2, as above",
    ("checkpoint_store", 228, "constant: 0 -> 1"): "nxt is -1 or an offset past the header, never 0",
    ("checkpoint_store", 377, "constant: 384 -> 385"): "the temporary file's creation mode: the fchmod to 0600 right after sets it before anything is written",
    ("checkpoint_store", 391, "constant: 1 -> 2"): "the closed-descriptor marker -1 or -2: the only test is fd >= 0",
    ("checkpoint_store", 447, "constant: 0 -> 1"): "sync() at descriptor 0: durability only (the fsync)",
    ("checkpoint_store", 450, "drop call statement"): "sync()'s fsync: durability only",
    ("checkpoint_store", 462, "drop call statement"): "the explicit munmap: the next line drops the map's last reference, and CPython unmaps it then",
    ("checkpoint_store", 468, "constant: 1 -> 2"): "the closed-descriptor marker -1 or -2: every test is fd < 0 / fd >= 0",
    ("checkpoint_store", 487, "constant: 1 -> 2"): "the size of the zero buffer _fill writes from (1 or 2 MiB): the same bytes written",
    ("checkpoint_store", 487, "constant: 20 -> 21"): "the same buffer size",
    ("checkpoint_store", 487, "binop: Sub -> Add"): "a larger zero buffer: each write is still cut to what is missing",
    ("checkpoint_store", 487, "constant: 0 -> 1"): "a 1-byte buffer floor where nothing is missing: the loop writes nothing then",
    ("kernel", 150, "constant: False -> True"): "_closing as constructed: it only decides whether _finish wakes cleanup's wait, and wait_bounded sets it before waiting, clears the event before each look and polls anyway",
    ("kernel", 644, "boolop: And -> Or"): "_finish waking cleanup's wait more often: wait_bounded clears the event and looks again (cost only)",
    ("kernel", 645, "drop call statement"): "without the wake-up, cleanup's wait notices the last task at its next poll: latency, not outcome",
    ("kernel", 689, "return None"): "how many stragglers were failed: a nonzero count only makes wait_bounded look again at once instead of after one poll (the failed tasks are gone from the table either way)",
}

_NEGATED: dict[type, type] = {
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_SWAPPED_BINOP: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.FloorDiv, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult}
_QUIET_CALLS = {"debug", "info", "warning", "error", "exception", "critical", "log"}


@dataclass(frozen=True)
class Mutant:
    target: str
    index: int  # which site, in walk order
    line: int
    change: str


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_logging_call(node: ast.Expr) -> bool:
    call = node.value
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _QUIET_CALLS


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes inside annotations (mutating them changes nothing at run time)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        anns: list[ast.AST | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            anns.append(node.returns)
            a = node.args
            anns += [x.annotation for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
            anns += [a.vararg.annotation if a.vararg else None, a.kwarg.annotation if a.kwarg else None]
        elif isinstance(node, ast.AnnAssign):
            anns.append(node.annotation)
        for ann in anns:
            if ann is not None:
                out.update(id(n) for n in ast.walk(ann))
    return out


def sites(tree: ast.Module) -> Iterator[tuple[ast.AST, str, int]]:
    """Every mutation site: (node, description, line). The walk order is stable, so an index
    names the same site in a fresh parse of the same source."""
    skip = _annotation_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _NEGATED:
                    yield node, f"compare#{i}: {type(op).__name__} -> {_NEGATED[type(op)].__name__}", line
        elif isinstance(node, ast.BoolOp):
            yield node, f"boolop: {type(node.op).__name__} -> {'Or' if isinstance(node.op, ast.And) else 'And'}", line
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            yield node, "drop not", line
        elif isinstance(node, ast.BinOp) and type(node.op) in _SWAPPED_BINOP:
            yield node, f"binop: {type(node.op).__name__} -> {_SWAPPED_BINOP[type(node.op)].__name__}", line
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            yield node, f"constant: {node.value} -> {not node.value}", line
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield node, f"constant: {node.value} -> {node.value + 1}", line
        elif isinstance(node, ast.Return) and node.value is not None and not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield node, "return None", line
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and not _is_logging_call(node):
            yield node, "drop call statement", line
        elif isinstance(node, ast.Break):
            yield node, "break -> continue", line
        elif isinstance(node, ast.Continue):
            yield node, "continue -> break", line


def _apply(node: ast.AST, change: str) -> ast.AST:
    """Mutate ``node`` in place (or return its replacement for statement-level changes)."""
    if change.startswith("compare#"):
        i = int(change[len("compare#"):].split(":")[0])
        node.ops[i] = _NEGATED[type(node.ops[i])]()  # type: ignore[attr-defined]
    elif change.startswith("boolop"):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()  # type: ignore[attr-defined]
    elif change == "drop not":
        return node.operand  # type: ignore[attr-defined]
    elif change.startswith("binop"):
        node.op = _SWAPPED_BINOP[type(node.op)]()  # type: ignore[attr-defined]
    elif change.startswith("constant"):
        v = node.value  # type: ignore[attr-defined]
        node.value = (not v) if type(v) is bool else v + 1  # type: ignore[attr-defined]
    elif change == "return None":
        node.value = ast.Constant(None)  # type: ignore[attr-defined]
    elif change == "drop call statement":
        return ast.Pass()
    elif change == "break -> continue":
        return ast.Continue()
    elif change == "continue -> break":
        return ast.Break()
    return node


class _Replace(ast.NodeTransformer):
    def __init__(self, target: ast.AST, change: str) -> None:
        self.target, self.change = target, change

    def visit(self, node: ast.AST) -> ast.AST:
        if node is self.target:
            return ast.copy_location(_apply(node, self.change), node)
        return super().visit(node)


def enumerate_mutants(target: str) -> list[Mutant]:
    path = PACKAGES / TARGETS[target][0]
    tree = ast.parse(path.read_text())
    return [Mutant(target, i, line, change) for i, (_, change, line) in enumerate(sites(tree))]


def mutated_source(mutant: Mutant) -> str:
    source = (PACKAGES / TARGETS[mutant.target][0]).read_text()
    tree = ast.parse(source)
    node, change, _ = list(sites(tree))[mutant.index]
    assert change == mutant.change
    new = _Replace(node, change).visit(copy.copy(tree))
    ast.fix_missing_locations(new)
    return ast.unparse(new)


_TIMED_OUT = re.compile(r"^FAILED (.+?) - Failed: Timeout")


@dataclass(frozen=True)
class Run:
    outcome: str  # "passed", "failed" or "timeout"
    slowest: float = 0.0  # seconds of the slowest test
    hung: str | None = None  # the test pytest-timeout stopped, when it says
    tail: str = ""  # the end of pytest's report, for a clean run that fails


_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()


def _stop(proc: subprocess.Popen[str]) -> None:
    """Kill a test run's whole process group and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def _report_tail(stdout: str, lines: int = 30) -> str:
    """The last lines of a pytest report, without the --durations table."""
    kept = [ln for ln in stdout.splitlines() if not re.match(r"^\d+\.\d+s (setup|call|teardown) ", ln)]
    return "\n".join(kept[-lines:])


class Workspace:
    """A private copy of every package's ``src/`` tree, for one worker."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="parsl-mutation-"))
        self.paths = []
        for pkg in sorted(PACKAGES.iterdir()):
            if (pkg / "src").is_dir():
                shutil.copytree(pkg / "src", self.dir / pkg.name / "src", ignore=shutil.ignore_patterns("__pycache__"))
                self.paths.append(str(self.dir / pkg.name / "src"))

    def file(self, rel: str) -> Path:
        pkg, _, rest = rel.partition("/")
        return self.dir / pkg / rest

    def run_tests(self, tests: list[str], timeout: float, per_test: float | None = None) -> Run:
        """Run ``tests`` against this copy. The run gets ``timeout`` seconds, each test
        ``per_test`` (default: all of it)."""
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(self.paths), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("CI", None)
        limit = int(per_test if per_test is not None else timeout)
        cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "--timeout", str(limit), "--durations=0", "--durations-min=0", *tests]
        # its own process group, so that a timeout (or this script ending) stops whatever the
        # tests started too
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        with _live_lock:
            _live.add(proc)
        try:
            stdout, _ = proc.communicate(timeout=timeout + 30)
        except subprocess.TimeoutExpired:
            _stop(proc)
            return Run("timeout")
        finally:
            with _live_lock:
                _live.discard(proc)
        per_node: dict[str, float] = {}
        hung = None
        for line in stdout.splitlines():
            parts = line.split()  # "0.52s call     path::test_name"
            if len(parts) == 3 and parts[0].endswith("s") and parts[1] in ("setup", "call", "teardown"):
                try:
                    per_node[parts[2]] = per_node.get(parts[2], 0.0) + float(parts[0][:-1])
                except ValueError:
                    pass
            found = _TIMED_OUT.match(line)  # "FAILED path::test - Failed: Timeout (>20.0s) from pytest-timeout."
            if found:
                hung = found.group(1)
        slowest = max(per_node.values(), default=0.0)
        if proc.returncode == 0:
            return Run("passed", slowest)
        # pytest-timeout ends a hung test as a failure; tell it apart from an assertion failing
        if hung is not None or "+ Timeout +" in stdout or "from pytest-timeout" in stdout:
            return Run("timeout", slowest, hung, _report_tail(stdout))
        return Run("failed", slowest, tail=_report_tail(stdout))

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", default=[], choices=sorted(TARGETS))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--limit", type=int, default=0, help="at most this many mutants per target (a smoke run)")
    args = ap.parse_args()
    targets = [t for t in (args.only or sorted(TARGETS)) if (PACKAGES / TARGETS[t][0]).exists()]
    mutants: list[Mutant] = []
    for t in targets:
        ms = [m for m in enumerate_mutants(t) if (m.target, m.line, m.change) not in EQUIVALENT]
        mutants += ms[: args.limit] if args.limit else ms
    if args.list:
        for m in mutants:
            print(f"{m.target}:{m.line}: {m.change}")
        print(f"{len(mutants)} mutants")
        return 0

    started = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that the cleanup below runs
    spaces = [Workspace() for _ in range(max(1, args.workers))]
    baseline: dict[str, float] = {}
    slowest: dict[str, float] = {}
    try:
        for t in targets:  # the unmutated tests must pass, and their times bound each mutant's run
            t0 = time.monotonic()
            clean = spaces[0].run_tests(TARGETS[t][1], 600)
            slowest[t] = clean.slowest
            if clean.outcome != "passed":
                print(f"{t}: the tests fail without any mutation ({clean.outcome}); fix them first\n{clean.tail}")
                return 2
            baseline[t] = time.monotonic() - t0
            print(f"{t}: baseline {baseline[t]:.1f} s (slowest test {slowest[t]:.1f} s), {sum(m.target == t for m in mutants)} mutants", flush=True)

        free = list(spaces)
        lock = threading.Lock()
        results: dict[Mutant, str] = {}

        def run(m: Mutant) -> None:
            with lock:
                ws = free.pop()
            rel = TARGETS[m.target][0]
            f = ws.file(rel)
            original = f.read_text()
            try:
                f.write_text(mutated_source(m))
                # a run may take 4 times the clean run, a test 5 times the slowest clean test
                # (at least 60 s and 20 s: the machine is shared, and two workers share it)
                budget, per_test = max(60.0, 4 * baseline[m.target]), max(20.0, 5 * slowest[m.target])
                tests = TARGETS[m.target][1]
                first = ws.run_tests(tests, budget, per_test)
                outcome = first.outcome
                # load, or a real hang? a second chance, 3 times longer, tells: first for the
                # test that hung, alone; if it passes so, for them all again
                if outcome == "timeout" and first.hung is not None:
                    outcome = ws.run_tests([first.hung], 3 * per_test, 3 * per_test).outcome
                    if outcome == "passed":
                        outcome = ws.run_tests(tests, 3 * budget, 3 * per_test).outcome
                elif outcome == "timeout":
                    outcome = ws.run_tests(tests, 3 * budget, 3 * per_test).outcome
            finally:
                f.write_text(original)
                with lock:
                    free.append(ws)
            results[m] = outcome
            mark = {"passed": "survived", "failed": "killed", "timeout": "killed (timed out twice)"}[outcome]
            print(f"  {len(results)}/{len(mutants)} {m.target}:{m.line} {m.change}: {mark}", flush=True)

        pool = ThreadPoolExecutor(len(spaces))
        try:
            list(pool.map(run, mutants))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # interrupted: start nothing more
    finally:
        with _live_lock:
            running = list(_live)
        for proc in running:  # interrupted: stop the runs still going
            _stop(proc)
        for ws in spaces:
            ws.close()

    survivors = [m for m in mutants if results.get(m) == "passed"]
    print("\nper target:")
    for t in targets:
        ms = [m for m in mutants if m.target == t]
        k = sum(results.get(m) != "passed" for m in ms)
        print(f"  {t}: {k}/{len(ms)} killed")
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {TARGETS[m.target][0]}:{m.line}: {m.change}")
    killed = len(mutants) - len(survivors)
    timeouts = [m for m in mutants if results.get(m) == "timeout"]
    if timeouts:
        print("\nkilled by timing out twice (a hang, or a machine too loaded to tell):")
        for m in timeouts:
            print(f"  {TARGETS[m.target][0]}:{m.line}: {m.change}")
    print(f"timeouts among the killed: {len(timeouts)}")
    pct = 100.0 * killed / len(mutants) if mutants else 100.0
    print(f"took {(time.monotonic() - started) / 60:.1f} min with {len(spaces)} workers")
    print(f"mutation score: {killed}/{len(mutants)} killed ({pct:.0f}%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
