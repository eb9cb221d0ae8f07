#!/usr/bin/env bash
# A private Docker engine for the container tests: Debian's docker.io dockerd on its own unix
# socket (no TCP), overlay2 storage under /var/tmp/parsl-docker, --iptables=false --bridge=none
# (so containers use --network host or none), default ulimits capped at the hard limits this
# sandbox allows (CAP_SYS_RESOURCE is missing). The base image parsl-ci/worker-base is imported
# from the cached root file system of ../container-rootfs/build.sh: no registry pull.
# Root only; idempotent. Clients: . /var/tmp/parsl-docker/env.sh (sets DOCKER_HOST).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
STATE=${PARSL_DOCKER_STATE:-/var/tmp/parsl-docker}
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)
if [ ! -x /usr/sbin/dockerd ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq --no-install-recommends docker.io >/dev/null; }
fi
mkdir -p "$STATE"
export DOCKER_HOST=unix://$STATE/docker.sock
# the Debian client matches this daemon; a newer docker CLI on PATH works too
docker=$(command -v docker || echo /usr/bin/docker)
if ! { [ -s "$STATE/dockerd.pid" ] && kill -0 "$(cat "$STATE/dockerd.pid")" 2>/dev/null; }; then
  nohup /usr/sbin/dockerd --host "$DOCKER_HOST" --data-root "$STATE/data" --exec-root "$STATE/exec" \
    --pidfile "$STATE/dockerd.pid" --iptables=false --ip6tables=false --bridge=none \
    --storage-driver=overlay2 --default-ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" \
    --default-ulimit nproc=32768:32768 --log-level=warn >"$STATE/dockerd.log" 2>&1 &
fi
for _ in $(seq 150); do "$docker" version >/dev/null 2>&1 && break; sleep 0.2; done
"$docker" version --format 'dockerd {{.Server.Version}} (API {{.Server.APIVersion}})' || { tail -n 20 "$STATE/dockerd.log" >&2; exit 1; }
tar=$(bash "$here/../container-rootfs/build.sh")
key=$(basename "$tar" .tar)
if [ "$("$docker" image inspect --format '{{index .Config.Labels "org.parsl.rootfs"}}' parsl-ci/worker-base:latest 2>/dev/null)" != "$key" ]; then
  "$docker" import -c 'CMD ["/bin/bash"]' -c 'WORKDIR /root' -c "LABEL org.parsl.rootfs=$key" "$tar" parsl-ci/worker-base:latest >/dev/null
fi
"$docker" run --rm --network none parsl-ci/worker-base:latest python3 -c 'import ipyparallel'
echo "export DOCKER_HOST=$DOCKER_HOST" > "$STATE/env.sh"
echo "docker: ready in $(( $(date +%s) - began )) s"
