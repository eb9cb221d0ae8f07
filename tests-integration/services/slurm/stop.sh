#!/usr/bin/env bash
# Stop what start.sh started, by PID file only. Idempotent.
STATE=/var/tmp/parsl-slurm
scancel --user=root >/dev/null 2>&1 || true
for d in slurmd slurmctld munged; do
  f="$STATE/pids/$d.pid"
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$f"
done
echo "slurm: stopped"
