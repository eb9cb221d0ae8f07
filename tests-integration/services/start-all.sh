#!/usr/bin/env bash
# Start every integration service: each tests-integration/services/<name>/start.sh, in name
# order. A service that cannot start here is reported with its log tail; locally its tests then
# skip with a reason, but under CI=true the script exits 1 (a skipped test would fail CI anyway).
# Everything listens on 127.0.0.1 only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(id -u)" != 0 ]; then
  echo "services: not root, so no service is installed or started; integration tests will skip"
  exit 0
fi
failed=0
for s in "$here"/*/start.sh; do
  [ -e "$s" ] || continue
  name=$(basename "$(dirname "$s")")
  t0=$(date +%s)
  if bash "$s" > "/tmp/parsl-service-$name.log" 2>&1; then
    echo "services: $name started in $(( $(date +%s) - t0 )) s"
  else
    failed=$((failed + 1))
    echo "services: $name FAILED to start (its tests will skip); last lines of /tmp/parsl-service-$name.log:"
    tail -n 25 "/tmp/parsl-service-$name.log" | sed 's/^/    /'
  fi
done
case "${CI:-}" in
  1|true|TRUE|yes)
    if [ "$failed" -gt 0 ]; then
      echo "services: $failed service(s) failed to start under CI=true"
      exit 1
    fi ;;
esac
exit 0
