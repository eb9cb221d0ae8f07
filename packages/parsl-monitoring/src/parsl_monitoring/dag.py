"""The task graph as Graphviz DOT, drawn by ``dot`` into SVG or PNG.

Nodes are coloured by final state and carry ``id="task_N"`` and ``class="task state_S"`` (Graphviz
escapes hyphens in SVG attributes, hence the underscores); an edge along which a failure travelled (a failed or
dependency-failed parent of a dependency-failed child) is drawn thick and red, so the chain
from a root cause to what it took down stands out. Past ``max_nodes`` tasks the graph is drawn
per app instead (one node per app with its counts), which stays readable at any size.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter, defaultdict

COLOURS = {
    "pending": "#bdbdbd",
    "launched": "#90caf9",
    "running": "#42a5f5",
    "joining": "#7e57c2",
    "exec_done": "#4caf50",
    "memo_done": "#26a69a",
    "failed": "#e53935",
    "dep_fail": "#fb8c00",
}
# which state an app node shows when its tasks differ: the most alarming
_SEVERITY = ("failed", "dep_fail", "running", "launched", "joining", "pending", "memo_done", "exec_done")
FAILURE_EDGE = "#c62828"


class GraphvizMissing(RuntimeError):
    """``dot`` is not installed."""


def _quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(states: dict[int, str], apps: dict[int, str], edges: list[tuple[int, int]], max_nodes: int = 1500) -> str:
    """DOT text of the task graph (per task up to ``max_nodes`` tasks, per app beyond)."""
    if len(states) > max_nodes:
        return _app_dot(states, apps, edges)
    lines = [
        "digraph tasks {",
        '  graph [rankdir=LR, fontname="Helvetica", bgcolor="transparent"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, fontcolor="white", color="#00000033"];',
        '  edge [color="#9e9e9e", arrowsize=0.6];',
    ]
    for tid in sorted(states):
        st = states[tid]
        label = f"{apps.get(tid, '?')} #{tid}"
        lines.append(f'  t{tid} [id="task_{tid}", class="task state_{st}", label={_quote(label)}, fillcolor="{COLOURS.get(st, "#9e9e9e")}", tooltip={_quote(f"task {tid}: {st}")}];')
    for parent, child in edges:
        if parent not in states or child not in states:
            continue
        if states[child] == "dep_fail" and states[parent] in ("failed", "dep_fail"):
            lines.append(f'  t{parent} -> t{child} [class="failure_chain", color="{FAILURE_EDGE}", penwidth=2.5];')
        else:
            lines.append(f"  t{parent} -> t{child};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _app_dot(states: dict[int, str], apps: dict[int, str], edges: list[tuple[int, int]]) -> str:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for tid, st in states.items():
        counts[apps.get(tid, "?")][st] += 1
    names = {app: f"a{i}" for i, app in enumerate(sorted(counts))}
    app_edges: Counter[tuple[str, str]] = Counter()
    failing: set[tuple[str, str]] = set()
    for parent, child in edges:
        if parent in states and child in states:
            key = (apps.get(parent, "?"), apps.get(child, "?"))
            app_edges[key] += 1
            if states[child] == "dep_fail" and states[parent] in ("failed", "dep_fail"):
                failing.add(key)
    lines = [
        "digraph apps {",
        '  graph [rankdir=LR, fontname="Helvetica", bgcolor="transparent"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11, fontcolor="white", color="#00000033"];',
        '  edge [color="#9e9e9e", fontname="Helvetica", fontsize=9];',
    ]
    for app, c in sorted(counts.items()):
        worst = next(s for s in _SEVERITY if c.get(s))
        detail = ", ".join(f"{s} {n:,}" for s, n in sorted(c.items(), key=lambda kv: _SEVERITY.index(kv[0]) if kv[0] in _SEVERITY else 99))
        label = f"{app}\n{sum(c.values()):,} tasks\n{detail}"
        lines.append(f'  {names[app]} [id="app_{names[app]}", class="app state_{worst}", label={_quote(label)}, fillcolor="{COLOURS.get(worst, "#9e9e9e")}"];')
    for (pa, ca), n in sorted(app_edges.items()):
        style = f', class="failure_chain", color="{FAILURE_EDGE}", penwidth=2.5' if (pa, ca) in failing else ""
        lines.append(f'  {names[pa]} -> {names[ca]} [label="{n:,}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_text: str, fmt: str = "svg", timeout: float = 120) -> bytes:
    """Run Graphviz's ``dot`` on ``dot_text``; ``fmt`` is ``svg`` or ``png``."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing("drawing the task graph needs Graphviz's `dot` (Debian/Ubuntu: apt-get install graphviz)")
    proc = subprocess.run([exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"dot failed: {proc.stderr.decode(errors='replace')[-500:]}")
    return proc.stdout


def inline_svg(svg: bytes) -> str:
    """SVG text to place inside an HTML page (the XML prolog and doctype removed)."""
    text = svg.decode()
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    return text.strip()
