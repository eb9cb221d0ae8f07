"""The ``parsl`` sub-commands of parsl-monitoring: ``status``, ``top``, ``report``, ``web``,
``run`` (each an entry point in the ``parsl.commands`` group, called with its arguments)."""
from __future__ import annotations

import argparse
import os
import runpy
import sys
import time
from pathlib import Path

from . import query
from .store import newest_run, open_store


def _run_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    return newest_run("runinfo")


def format_status(s: query.RunSummary, name: str) -> str:
    lines = [f"run {name}: {'LIVE' if s.live else 'finished'}, {s.total:,} tasks, {s.retries:,} retries"
             + (f" (script {s.meta['script']})" if s.meta.get("script") else "")]
    lines.append("  by state: " + ", ".join(f"{st} {s.by_state[st]:,}" for st in query.STATE_ORDER if s.by_state.get(st)))
    if s.by_app:
        lines.append("  by app:")
        width = max(len(a) for a in s.by_app)
        for app, c in sorted(s.by_app.items()):
            lines.append(f"    {app:<{width}}  " + ", ".join(f"{st} {c[st]:,}" for st in query.STATE_ORDER if c.get(st)))
    if s.root_causes:
        lines.append("  root causes of failures (failed task -> tasks it took down):")
        for tid, n in sorted(s.root_causes.items(), key=lambda kv: -kv[1])[:10]:
            f = next((f for f in s.failures if f.task_id == tid), None)
            why = f"{f.error_type}: {f.message.splitlines()[0][:120] if f.message else ''}" if f else ""
            lines.append(f"    task {tid} ({s.apps.get(tid, '?')}) -> {n:,}  {why}")
    if s.slowest:
        lines.append("  slowest tries:")
        for sl in s.slowest:
            lines.append(f"    task {sl.task_id} ({sl.app}) {sl.seconds:.3f} s on {sl.host}:{sl.pid}")
    if s.blocks:
        lines.append("  blocks:")
        for b in s.blocks:
            lines.append(f"    {b['executor']} block {b['block']}: {b['event']}" + (f" ({b['detail']})" if b["detail"] else ""))
    return "\n".join(lines)


def _summary(run_dir: Path) -> query.RunSummary:
    db = open_store(run_dir)
    try:
        return query.summarize(db)
    finally:
        db.close()


def status_main(argv: list[str]) -> int:
    """counts by state and app, root causes of failures, slowest tries and blocks of a run"""
    ap = argparse.ArgumentParser(prog="parsl status", description="Summarise a monitored run (default: the newest under ./runinfo).")
    ap.add_argument("run_dir", nargs="?", help="a run directory holding monitoring.db")
    args = ap.parse_args(argv)
    try:
        run_dir = _run_dir(args.run_dir)
        print(format_status(_summary(run_dir), run_dir.name))
    except FileNotFoundError as e:
        print(f"parsl status: {e}", file=sys.stderr)
        return 1
    return 0


def top_main(argv: list[str]) -> int:
    """the status of a run, refreshed until it ends"""
    ap = argparse.ArgumentParser(prog="parsl top", description="Watch a monitored run (default: the newest under ./runinfo).")
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    ap.add_argument("--once", action="store_true", help="print once and exit")
    args = ap.parse_args(argv)
    try:
        run_dir = _run_dir(args.run_dir)
        while True:
            s = _summary(run_dir)
            text = format_status(s, run_dir.name)
            if sys.stdout.isatty() and not args.once:
                sys.stdout.write("\x1b[H\x1b[2J")
            print(text, flush=True)
            if args.once or not s.live:
                return 0
            time.sleep(args.interval)
    except FileNotFoundError as e:
        print(f"parsl top: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def report_main(argv: list[str]) -> int:
    """write a self-contained HTML report of a run (task graph, timeline, failures)"""
    from .dag import GraphvizMissing
    from .report import write_report

    ap = argparse.ArgumentParser(prog="parsl report", description="Write a run's HTML report.")
    ap.add_argument("run_dir", nargs="?")
    ap.add_argument("--output", "-o", default="parsl-report.html", help="the HTML file to write (default parsl-report.html)")
    ap.add_argument("--png", help="also draw the task graph into this PNG file")
    args = ap.parse_args(argv)
    try:
        out = write_report(_run_dir(args.run_dir), args.output, args.png)
    except (FileNotFoundError, GraphvizMissing) as e:
        print(f"parsl report: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out}" + (f" and {args.png}" if args.png else ""))
    return 0


def web_main(argv: list[str]) -> int:
    """serve a web view of the runs under a runinfo directory on 127.0.0.1"""
    from .web import make_server

    ap = argparse.ArgumentParser(prog="parsl web", description="Browse monitored runs in a web page (127.0.0.1 only unless --host).")
    ap.add_argument("runinfo", nargs="?", default="runinfo")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; anything else exposes your runs)")
    ap.add_argument("--refresh", type=float, default=2.0, help="seconds between refreshes of live pages")
    args = ap.parse_args(argv)
    server = make_server(args.runinfo, args.host, args.port, args.refresh)
    host, port = server.server_address[:2]
    print(f"parsl web: serving {args.runinfo} at http://{host!s}:{port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def run_main(argv: list[str]) -> int:
    """run a script with monitoring on and a live progress bar"""
    ap = argparse.ArgumentParser(prog="parsl run", description="Run a Parsl script with monitoring on (and a progress bar when a terminal is attached).")
    ap.add_argument("script")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    args = ap.parse_args(argv)
    if not os.path.isfile(args.script):
        print(f"parsl run: no such script: {args.script}", file=sys.stderr)
        return 2
    os.environ["PARSL_MONITORING"] = "1"
    os.environ.setdefault("PARSL_PROGRESS", "1")
    sys.argv = [args.script, *args.args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.script)))
    try:
        runpy.run_path(args.script, run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
