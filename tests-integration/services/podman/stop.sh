#!/usr/bin/env bash
# Podman has no daemon: remove the containers left in the private storage. Idempotent.
STATE=${PARSL_PODMAN_STATE:-/var/tmp/parsl-podman}
[ -f "$STATE/env.sh" ] && . "$STATE/env.sh" && podman rm -af -t 0 >/dev/null 2>&1
echo "podman: stopped"
