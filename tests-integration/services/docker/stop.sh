#!/usr/bin/env bash
# Stop the dockerd of start.sh (it stops its own containerd) and unmount what it left. Idempotent.
STATE=${PARSL_DOCKER_STATE:-/var/tmp/parsl-docker}
export DOCKER_HOST=unix://$STATE/docker.sock
ids=$(docker ps -aq 2>/dev/null || true); [ -n "$ids" ] && docker rm -f $ids >/dev/null 2>&1
if [ -s "$STATE/dockerd.pid" ]; then
  pid=$(cat "$STATE/dockerd.pid"); kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$STATE/dockerd.pid"
fi
awk -v s="$STATE/" 'index($2, s) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done
echo "docker: stopped"
