#!/usr/bin/env bash
# Stop the Grid Engine daemons start.sh started (by their PID files). Idempotent.
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
qdel -u root >/dev/null 2>&1 || true
for f in /var/spool/gridengine/execd/localhost/execd.pid /var/spool/gridengine/qmaster/qmaster.pid; do
  [ -s "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
done
echo "gridengine: stopped"
