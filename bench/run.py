"""Run the benchmark suite: every ``bench/scenarios/*.py`` module's ``run(quick)``, each in a
fresh process, and print our figure, the baseline's (measured in the same run) and the ratio.

    python bench/run.py              # all scenarios
    python bench/run.py --quick      # smaller sizes, for a smoke check
    python bench/run.py --only core  # one module
    python bench/run.py --check      # exit 1 when a figure misses its target
    python bench/run.py --table bench/RESULTS.md   # also write the table (markdown) there

A target is ``">= N"`` / ``"<= N"`` on our figure (in the row's unit), or ``">= Nx"`` /
``"<= Nx"`` on the ratio against the baseline measured in the same run.

Each row: {"scenario", "metric", "ours", "baseline", "unit", "higher_is_better", "target"?}.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "scenarios"


def _child(path: str, quick: bool) -> None:
    spec = importlib.util.spec_from_file_location(Path(path).stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rows = mod.run(quick)
    sys.stdout.write("\n@@ROWS@@" + json.dumps(rows) + "\n")


def _fmt(v: float | None) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 100:
        return f"{v:,.0f}"
    if abs(v) >= 1:
        return f"{v:,.2f}"
    return f"{v:.4f}"


_TARGET = re.compile(r"^\s*(>=|<=)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*(x?)")


def target_met(row: dict, ratio: float | None) -> bool | None:
    """Whether ``row`` meets its target: True, False, or None when it has no checkable target."""
    m = _TARGET.match(str(row.get("target") or ""))
    if not m:
        return None
    op, number, on_ratio = m.group(1), float(m.group(2).replace(",", "")), bool(m.group(3))
    value = ratio if on_ratio else row["ours"]
    if value is None:
        return False
    return value >= number if op == ">=" else value <= number


def ratio_of(row: dict) -> float | None:
    """How many times the baseline's figure ours is, in the direction where more is better."""
    ours, base = row["ours"], row.get("baseline")
    if not base or not ours:
        return None
    return ours / base if row.get("higher_is_better") else base / ours


def markdown_table(header: list[str], table: list[list[str]]) -> str:
    lines = [
        "# Benchmark figures",
        "",
        f"Written by `python bench/run.py --table` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Baselines are measured in the same run.",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in table]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--child")
    ap.add_argument("--json", help="also write the rows to this file")
    ap.add_argument("--table", help="also write the table, in markdown, to this file")
    ap.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = ap.parse_args()
    if args.child:
        _child(args.child, args.quick)
        return 0
    modules = sorted(p for p in SCENARIOS.glob("*.py") if not p.name.startswith("_"))
    if args.only:
        modules = [m for m in modules if m.stem in args.only]
    all_rows = []
    failed = []
    for m in modules:
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix=f"bench-{m.stem}-") as tmp:
            cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(m)] + (["--quick"] if args.quick else [])
            proc = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        marker = proc.stdout.rfind("@@ROWS@@")
        if proc.returncode != 0 or marker < 0:
            failed.append(m.stem)
            print(f"[{m.stem}] FAILED (exit {proc.returncode})\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
            continue
        rows = json.loads(proc.stdout[marker + len("@@ROWS@@"):].strip())
        print(f"[{m.stem}] {len(rows)} figures in {time.monotonic() - t0:.1f} s")
        all_rows.extend(rows)
    missed = []
    if all_rows:
        headers = ["scenario", "metric", "ours", "baseline", "ratio", "target", "met", "unit"]
        table = []
        for r in all_rows:
            ratio = ratio_of(r)
            met = target_met(r, ratio)
            if met is False:
                missed.append(f"{r['scenario']}: {r['metric']} = {_fmt(r['ours'])} {r.get('unit', '')} (target {r['target']})")
            table.append([r["scenario"], r["metric"], _fmt(r["ours"]), _fmt(r.get("baseline")), f"{ratio:.2f}x" if ratio else "-",
                          str(r.get("target", "")), {True: "yes", False: "NO", None: ""}[met], r.get("unit", "")])
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
        print()
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for row in table:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        print("\nratio: how many times the baseline's figure ours is, in the direction where more is better (1.00x = equal).")
        if args.table:
            Path(args.table).write_text(markdown_table(headers, table))
    for line in missed:
        print(f"target missed: {line}")
    if failed:
        print(f"scenarios that failed to run: {', '.join(failed)}")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1))
    return 1 if failed or (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())
