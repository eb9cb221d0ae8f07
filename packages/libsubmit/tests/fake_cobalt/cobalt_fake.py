#!/usr/bin/env python3
"""A small FAKE of Cobalt's qsub / qstat / qdel for libsubmit's tests (no Cobalt server exists
in Debian). Invoked through the links qsub, qstat and qdel; state lives in $FAKE_COBALT_DIR.

It behaves like Cobalt where the provider can see it: ``qsub -n N -t MIN [-A acct] [-q queue]
[-O prefix] --mode script script`` prints the numeric job id; the job is ``queued`` for about a
second, then ``running`` (the script really runs, as a process group, with COBALT_JOBID and
COBALT_PARTSIZE set, output in <prefix>.output / <prefix>.error); a finished or deleted job
disappears from ``qstat``; an unknown queue is refused with a message on stderr.
"""
from __future__ import annotations

import fcntl
import getpass
import os
import signal
import subprocess
import sys

QUEUES = {"default", "debug-cache-quad"}
STATE = os.environ.get("FAKE_COBALT_DIR", f"/tmp/fake-cobalt-{os.getuid()}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _next_id() -> int:
    os.makedirs(STATE, exist_ok=True)
    with open(os.path.join(STATE, "counter"), "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        n = int(f.read().strip() or "1000") + 1
        f.seek(0)
        f.truncate()
        f.write(str(n))
    return n


def qsub(argv: list[str]) -> int:
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv) - 1:
        if argv[i] in ("-n", "-t", "-A", "-q", "-O", "--mode"):
            opts[argv[i]] = argv[i + 1]
            i += 2
        else:
            print(f"qsub: error: unknown option {argv[i]}", file=sys.stderr)
            return 1
    if i != len(argv) - 1 or "-n" not in opts or "-t" not in opts:
        print("qsub: error: usage: qsub -n NODES -t MINUTES [-A ACCOUNT] [-q QUEUE] [-O PREFIX] --mode script SCRIPT", file=sys.stderr)
        return 1
    queue = opts.get("-q", "default")
    if queue not in QUEUES:
        print(f"qsub: error: queue '{queue}' does not exist (queues: {', '.join(sorted(QUEUES))})", file=sys.stderr)
        return 1
    script = argv[-1]
    if not os.access(script, os.R_OK):
        print(f"qsub: error: cannot read {script}", file=sys.stderr)
        return 1
    job = _next_id()
    d = os.path.join(STATE, "jobs", str(job))
    os.makedirs(d)
    prefix = opts.get("-O", os.path.join(os.getcwd(), str(job)))
    env = {**os.environ, "COBALT_JOBID": str(job), "COBALT_PARTSIZE": opts["-n"]}
    runner = f'sleep 1; touch {d}/started; bash "$0" > "$1.output" 2> "$1.error"; echo $? > {d}/exit'
    proc = subprocess.Popen(
        ["bash", "-c", runner, script, prefix], env=env, start_new_session=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    with open(os.path.join(d, "info"), "w") as f:
        f.write(f"{proc.pid} {getpass.getuser()} {opts['-t']} {opts['-n']} {queue}\n")
    print(job)
    return 0


def _jobs() -> list[tuple[str, str]]:
    rows = []
    root = os.path.join(STATE, "jobs")
    for job in sorted(os.listdir(root), key=int) if os.path.isdir(root) else []:
        d = os.path.join(root, job)
        try:
            pid, user, minutes, nodes, queue = open(os.path.join(d, "info")).read().split()
        except (OSError, ValueError):
            continue
        if os.path.exists(os.path.join(d, "exit")) or not _alive(int(pid)):
            continue  # Cobalt forgets finished jobs
        state = "running" if os.path.exists(os.path.join(d, "started")) else "queued"
        if os.path.exists(os.path.join(d, "deleted")):
            state = "killing"
        rows.append((job, f"{job:<8}{user:<12}{int(minutes) // 60:02d}:{int(minutes) % 60:02d}:00  {nodes:<7}{state:<10}{queue}"))
    return rows


def qstat(argv: list[str]) -> int:
    print("JobID   User        WallTime  Nodes  State     Location")
    print("=" * 62)
    for _job, row in _jobs():
        print(row)
    return 0


def qdel(argv: list[str]) -> int:
    live = dict(_jobs())
    print("      Deleted Jobs")
    for job in argv:
        if job not in live:
            continue
        d = os.path.join(STATE, "jobs", job)
        pid = int(open(os.path.join(d, "info")).read().split()[0])
        open(os.path.join(d, "deleted"), "w").close()
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        print(f"{job:<8}{getpass.getuser()}")
    return 0


if __name__ == "__main__":
    command = os.path.basename(sys.argv[0])
    sys.exit({"qsub": qsub, "qstat": qstat, "qdel": qdel}[command](sys.argv[1:]))
