"""Run the benchmark suite: every ``bench/scenarios/*.py`` module's ``run(quick)``, each in a
fresh process, and print our figure, the baseline's (measured in the same run) and the ratio.

    python bench/run.py              # all scenarios
    python bench/run.py --quick      # smaller sizes, for a smoke check
    python bench/run.py --only core  # one module

Each row: {"scenario", "metric", "ours", "baseline", "unit", "higher_is_better", "target"?}.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--child")
    ap.add_argument("--json", help="also write the rows to this file")
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
    if all_rows:
        headers = ["scenario", "metric", "ours", "baseline", "ratio", "target", "unit"]
        table = []
        for r in all_rows:
            ours, base = r["ours"], r.get("baseline")
            ratio = None
            if base:
                ratio = ours / base if r.get("higher_is_better") else base / ours if ours else None
            table.append([r["scenario"], r["metric"], _fmt(ours), _fmt(base), f"{ratio:.2f}x" if ratio else "-", str(r.get("target", "")), r.get("unit", "")])
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
        print()
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        print("  ".join("-" * w for w in widths))
        for row in table:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        print("\nratio: how many times the baseline's figure ours is, in the direction where more is better (1.00x = equal).")
    if args.json:
        Path(args.json).write_text(json.dumps(all_rows, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
