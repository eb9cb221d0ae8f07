"""The task timeline: a Gantt chart of tries by worker, as SVG (no dependencies)."""
from __future__ import annotations

from html import escape

from .query import Bar

OUTCOME_COLOURS = {"exec_done": "#4caf50", "failed": "#e53935", "retried": "#fdd835"}
ROW = 18
LEFT = 170
WIDTH = 1100


def _seconds(t: float) -> str:
    if t == 0:
        return "0 s"
    if t < 1:
        return f"{t * 1000:.3g} ms"
    return f"{t:.3g} s"


def to_svg(bars: list[Bar], total: int) -> str:
    """One row per worker (host:pid), one bar per try, coloured by its outcome."""
    if not bars:
        return '<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="400" height="30"><text x="4" y="20" font-family="Helvetica" font-size="12">no task has run yet</text></svg>'
    workers = sorted({b.worker for b in bars})
    row_of = {w: i for i, w in enumerate(workers)}
    t0 = min(b.started for b in bars)
    t1 = max(b.ended for b in bars)
    span = max(t1 - t0, 1e-6)
    scale = (WIDTH - LEFT - 10) / span
    height = ROW * len(workers) + 40
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" height="{height}" font-family="Helvetica" font-size="11">'
    ]
    for w, i in row_of.items():
        y = 10 + i * ROW
        out.append(f'<text x="4" y="{y + 12}" class="worker">{escape(w)}</text>')
        out.append(f'<line x1="{LEFT}" y1="{y + ROW - 1}" x2="{WIDTH - 10}" y2="{y + ROW - 1}" stroke="#eeeeee"/>')
    for b in bars:
        x = LEFT + (b.started - t0) * scale
        width = max((b.ended - b.started) * scale, 1.0)
        y = 10 + row_of[b.worker] * ROW + 2
        tip = f"task {b.task_id} ({b.app}) try {b.try_number}: {b.ended - b.started:.3f} s, {b.outcome}"
        out.append(
            f'<rect class="bar outcome-{b.outcome}" data-task="{b.task_id}" x="{x:.2f}" y="{y}" width="{width:.2f}" height="{ROW - 5}" '
            f'fill="{OUTCOME_COLOURS.get(b.outcome, "#9e9e9e")}"><title>{escape(tip)}</title></rect>'
        )
    axis_y = 10 + len(workers) * ROW + 14
    for k in range(6):
        x = LEFT + k * (WIDTH - LEFT - 10) / 5
        out.append(f'<text x="{x:.1f}" y="{axis_y}" text-anchor="middle" fill="#616161">{_seconds(k * span / 5)}</text>')
    out.append("</svg>")
    note = "" if total <= len(bars) else f'<p class="note">showing the first {len(bars):,} of {total:,} tries</p>'
    return "\n".join(out) + note
