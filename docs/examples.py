"""Run every code block of the docs, so that what the docs show is what works.

    python docs/examples.py                  # every page
    python docs/examples.py userguide/apps   # some pages

A fenced block's info string says what happens to it:

``python``            run; the python blocks of a page run in order in one fresh process, in
                      an empty temporary directory, sharing their names (like a notebook)
``python norun``      compiled only (it needs a cluster, a cloud account or a human)
``python config``     run, then the ``config`` it defines is validated (a 0.5.0 dict through
                      the dict-config validator, a ``parsl.Config`` by construction); nothing starts
``bash``              checked with ``bash -n``
``bash run``          run with bash in the page's directory, after the page's python blocks
anything else         not checked (console output, ini, json...)
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<lang>[\w-]*)(?P<rest>[^\n]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    page: str
    line: int
    lang: str
    mode: str  # run, norun, config
    body: str

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    out = []
    for m in FENCE.finditer(text):
        lang = m.group("lang").lower()
        words = m.group("rest").split()
        mode = words[0] if words and words[0] in ("norun", "config", "run") else ("run" if lang == "python" else "check")
        body = textwrap.dedent(m.group("body"))
        out.append(Block(str(page.relative_to(DOCS)), text.count("\n", 0, m.start()) + 1, lang, mode, body))
    return out


_RUNNER = '''
import json, sys, traceback
blocks = json.loads(sys.stdin.read())
ns = {"__name__": "__main__"}
for where, mode, body in blocks:
    try:
        exec(compile(body, where, "exec"), ns)
        if mode == "config":
            import parsl
            from parsl.config_dict import config_from_dict
            cfg = ns.get("config")
            if isinstance(cfg, dict):
                config_from_dict(cfg)
            elif not isinstance(cfg, parsl.Config):
                raise TypeError(f"a config block must define `config` (a dict or a parsl.Config), got {type(cfg).__name__}")
    except BaseException:
        print(f"FAILED at {where}:", file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
try:
    import parsl
    from parsl.dataflow import loader
    k = loader.current_or_none()
    if k is not None:
        k.cleanup()
except Exception:
    pass
'''


def check_page(page: Path, timeout: float = 600) -> list[str]:
    """Problems found on ``page`` (empty when every block did what its info string says)."""
    problems: list[str] = []
    bs = blocks(page)
    python = [b for b in bs if b.lang == "python" and b.mode in ("run", "config")]
    for b in bs:
        if b.lang == "python" and b.mode == "norun":
            try:
                compile(b.body, b.where, "exec")
            except SyntaxError as e:
                problems.append(f"{b.where}: does not compile: {e}")
        elif b.lang in ("bash", "sh", "shell") and b.mode != "run":
            proc = subprocess.run(["bash", "-n"], input=b.body, capture_output=True, text=True)
            if proc.returncode != 0:
                problems.append(f"{b.where}: bash -n: {proc.stderr.strip()}")
    with tempfile.TemporaryDirectory(prefix="parsl-docs-") as tmp:
        if python:
            payload = json.dumps([(b.where, b.mode, b.body) for b in python])
            proc = subprocess.run([sys.executable, "-c", _RUNNER], input=payload, cwd=tmp, capture_output=True, text=True, timeout=timeout)
            if proc.returncode != 0:
                problems.append(f"{page.relative_to(DOCS)}: python blocks failed:\n{proc.stderr[-3000:]}")
        for b in bs:
            if b.lang in ("bash", "sh", "shell") and b.mode == "run":
                env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")}
                proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", b.body], cwd=tmp, env=env, capture_output=True, text=True, timeout=timeout)
                if proc.returncode != 0:
                    problems.append(f"{b.where}: bash exited {proc.returncode}:\n{(proc.stdout + proc.stderr)[-2000:]}")
    return problems


def pages(selected: list[str] | None = None) -> list[Path]:
    found = sorted(p for p in DOCS.rglob("*.md") if "_build" not in p.parts)
    if selected:
        found = [p for p in found if any(str(p.relative_to(DOCS)).startswith(s) for s in selected)]
    return found


def main(argv: list[str]) -> int:
    failed = 0
    for page in pages(argv):
        problems = check_page(page)
        n = len(blocks(page))
        print(f"{page.relative_to(DOCS)}: {n} blocks, {'ok' if not problems else 'FAILED'}")
        for p in problems:
            print("  " + p.replace("\n", "\n  "))
        failed += bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
