#!/usr/bin/env bash
# Stop every integration service started by start-all.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
for s in "$here"/*/stop.sh; do
  [ -e "$s" ] || continue
  bash "$s" >/dev/null 2>&1 || echo "services: stopping $(basename "$(dirname "$s")") failed"
done
exit 0
