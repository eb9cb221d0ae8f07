"""Built wheels carry version ranges (no file:/URL requirements) and their entry points."""
from __future__ import annotations

import sys
import zipfile
from pathlib import Path

EXPECTED_GROUPS = {
    "parsl_core": {"parsl.executors", "parsl.staging", "console_scripts"},
    "parsl_monitoring": {"parsl.monitoring", "parsl.commands"},
}


def main(dist_dir: str) -> int:
    wheels = sorted(Path(dist_dir).glob("*.whl"))
    problems = []
    for whl in wheels:
        with zipfile.ZipFile(whl) as z:
            meta = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
            for line in z.read(meta).decode().splitlines():
                if line.startswith("Requires-Dist:") and ("file:" in line or " @ " in line):
                    problems.append(f"{whl.name}: {line}")
            eps = [n for n in z.namelist() if n.endswith(".dist-info/entry_points.txt")]
            groups = set()
            if eps:
                groups = {ln.strip("[]") for ln in z.read(eps[0]).decode().splitlines() if ln.startswith("[")}
            key = whl.name.split("-")[0]
            missing = EXPECTED_GROUPS.get(key, set()) - groups
            if missing:
                problems.append(f"{whl.name}: entry-point groups missing: {sorted(missing)}")
    for p in problems:
        print(p)
    print(f"check_wheels: {len(wheels)} wheels, {len(problems)} problems")
    return 1 if problems or not wheels else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dist"))
