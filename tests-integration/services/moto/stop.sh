#!/usr/bin/env bash
# Stop the moto server started by start.sh (its venv stays, for a quick restart).
STATE=/var/tmp/parsl-moto
if [ -s "$STATE/moto.pid" ]; then
  kill "$(cat "$STATE/moto.pid")" 2>/dev/null || true
  rm -f "$STATE/moto.pid" "$STATE/env.sh"
fi
echo "moto stopped"
