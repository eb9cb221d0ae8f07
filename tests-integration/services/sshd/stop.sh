#!/usr/bin/env bash
# Stop the sshd that start.sh started (by its PID file). Idempotent.
STATE=/var/tmp/parsl-sshd
if [ -s "$STATE/sshd.pid" ]; then
  pid=$(cat "$STATE/sshd.pid")
  kill "$pid" 2>/dev/null && for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$STATE/sshd.pid"
fi
echo "sshd: stopped"
