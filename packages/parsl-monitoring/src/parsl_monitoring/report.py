"""A run as one self-contained HTML page: summary, failures with root causes, the task graph
and the timeline (inline SVG and CSS; no script, no external resource)."""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from html import escape
from pathlib import Path

from . import dag, query, timeline
from .store import open_store

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #212121; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 28px; border-bottom: 1px solid #e0e0e0; }
table { border-collapse: collapse; font-size: 13px; } td, th { padding: 3px 10px; text-align: left; border-bottom: 1px solid #f0f0f0; }
th { background: #fafafa; } .num { text-align: right; } .live { color: #1565c0; font-weight: bold; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.graph { overflow: auto; max-height: 900px; border: 1px solid #eeeeee; } .note { color: #757575; font-size: 12px; }
pre { white-space: pre-wrap; margin: 0; font-size: 12px; }
"""


def _when(value: str | None) -> str:
    if not value:
        return "-"
    return dt.datetime.fromtimestamp(float(value), tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _swatch(state: str) -> str:
    return f'<span class="swatch" style="background:{dag.COLOURS.get(state, "#9e9e9e")}"></span>'


def render(db: sqlite3.Connection, title: str, refresh: float | None = None, max_nodes: int = 1500) -> str:
    """The report page of the run whose store is ``db``."""
    s = query.summarize(db)
    states, apps, edges = query.graph(db)
    bars, total_bars = query.timeline(db)
    head = [f"<title>{escape(title)}</title>", f"<style>{_CSS}</style>", '<meta charset="utf-8">']
    if refresh and s.live:
        head.append(f'<meta http-equiv="refresh" content="{refresh:g}">')
    body = [f"<h1>{escape(title)}</h1>"]
    status = '<span class="live">live</span>' if s.live else "finished"
    body.append(
        "<table class='meta'>"
        f"<tr><th>run</th><td>{escape(s.meta.get('run_dir', ''))} ({escape(s.meta.get('run_id', ''))})</td></tr>"
        f"<tr><th>script</th><td>{escape(s.meta.get('script', ''))}</td></tr>"
        f"<tr><th>started</th><td>{_when(s.meta.get('started'))}</td></tr>"
        f"<tr><th>ended</th><td>{_when(s.meta.get('ended'))}</td></tr>"
        f"<tr><th>status</th><td id='run-status'>{status}</td></tr>"
        f"<tr><th>tasks</th><td id='task-total'>{s.total:,} ({s.retries:,} retries)</td></tr></table>"
    )
    body.append("<h2>Tasks by state</h2><table id='by-state'><tr><th>state</th><th class='num'>tasks</th></tr>")
    for st in query.STATE_ORDER:
        if s.by_state.get(st):
            body.append(f"<tr data-state='{st}'><td>{_swatch(st)}{st}</td><td class='num'>{s.by_state[st]:,}</td></tr>")
    body.append("</table>")
    present = [st for st in query.STATE_ORDER if s.by_state.get(st)]
    body.append("<h2>Tasks by app</h2><table id='by-app'><tr><th>app</th>" + "".join(f"<th class='num'>{st}</th>" for st in present) + "</tr>")
    for app, c in sorted(s.by_app.items()):
        body.append(f"<tr><td>{escape(app)}</td>" + "".join(f"<td class='num'>{c.get(st, 0):,}</td>" for st in present) + "</tr>")
    body.append("</table>")
    if s.failures:
        body.append("<h2>Failures</h2>")
        roots = sorted(s.root_causes.items(), key=lambda kv: -kv[1])
        body.append("<p>Root causes (failed tasks, and how many tasks failed because of them):</p><table id='root-causes'><tr><th>task</th><th>app</th><th class='num'>took down</th></tr>")
        for tid, n in roots[:20]:
            body.append(f"<tr><td>{tid}</td><td>{escape(s.apps.get(tid, '?'))}</td><td class='num'>{n:,}</td></tr>")
        body.append("</table><p></p><table id='failures'><tr><th>task</th><th>app</th><th>state</th><th>error</th><th>root cause</th></tr>")
        for f in s.failures:
            body.append(
                f"<tr><td>{f.task_id}</td><td>{escape(f.app)}</td><td>{_swatch(f.state)}{f.state}</td>"
                f"<td><pre>{escape(f.error_type)}: {escape(f.message[:500])}</pre></td><td>{', '.join(map(str, f.root_causes))}</td></tr>"
            )
        body.append("</table>")
    if s.slowest:
        body.append("<h2>Slowest tries</h2><table id='slowest'><tr><th>task</th><th>app</th><th class='num'>seconds</th><th>worker</th></tr>")
        for sl in s.slowest:
            body.append(f"<tr><td>{sl.task_id}</td><td>{escape(sl.app)}</td><td class='num'>{sl.seconds:.3f}</td><td>{escape(sl.host)}:{sl.pid}</td></tr>")
        body.append("</table>")
    if s.blocks:
        body.append("<h2>Blocks</h2><table id='blocks'><tr><th>executor</th><th>block</th><th>last event</th><th>when</th><th>detail</th></tr>")
        for b in s.blocks:
            body.append(
                f"<tr><td>{escape(b['executor'])}</td><td>{escape(b['block'])}</td><td>{escape(b['event'])}</td>"
                f"<td>{_when(repr(b['time']))}</td><td>{escape(b['detail'] or '')}</td></tr>"
            )
        body.append("</table>")
    body.append("<h2>Task graph</h2>")
    if len(states) > max_nodes:
        body.append(f"<p class='note'>{len(states):,} tasks: drawn per app (one node per app, edges labelled with task counts).</p>")
    try:
        svg = dag.inline_svg(dag.render(dag.to_dot(states, apps, edges, max_nodes)))
        body.append(f"<div class='graph' id='dag'>{svg}</div>")
    except (dag.GraphvizMissing, RuntimeError, OSError) as e:
        body.append(f"<p class='note' id='dag-missing'>task graph not drawn: {escape(str(e))}</p>")
    body.append("<h2>Timeline</h2><div class='graph' id='timeline'>" + timeline.to_svg(bars, total_bars) + "</div>")
    legend = " ".join(f"{_swatch(st)}{st}" for st in query.STATE_ORDER)
    body.append(f"<p class='note'>{legend}</p>")
    return "<!DOCTYPE html>\n<html><head>" + "".join(head) + "</head><body>" + "\n".join(body) + "</body></html>\n"


def write_report(run_dir: str | os.PathLike[str], output: str | os.PathLike[str], png: str | os.PathLike[str] | None = None) -> Path:
    """Write ``run_dir``'s report to ``output`` (atomically); with ``png``, also the task graph
    as a PNG there."""
    db = open_store(run_dir)
    try:
        html = render(db, f"Parsl run {Path(run_dir).name}")
        if png is not None:
            states, apps, edges = query.graph(db)
            _atomic_write(Path(png), dag.render(dag.to_dot(states, apps, edges), "png"))
    finally:
        db.close()
    out = Path(output)
    _atomic_write(out, html.encode())
    return out


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
