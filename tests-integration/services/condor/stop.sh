#!/usr/bin/env bash
# Stop the HTCondor pool of start.sh (by its PID file) and unmount the chroot's mounts. Idempotent.
STATE=/var/tmp/parsl-condor
ROOT=$STATE/root
if [ -s "$STATE/master.pid" ]; then
  pid=$(cat "$STATE/master.pid")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"   # condor_master shuts its daemons down gracefully on SIGTERM
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$STATE/master.pid"
fi
awk -v root="$ROOT/" 'index($2, root) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
  umount "$m" 2>/dev/null || umount -l "$m"
done
echo "condor: stopped"
