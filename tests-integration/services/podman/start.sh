#!/usr/bin/env bash
# A private rootful Podman for the container tests: runc (crun refuses this kernel's hybrid
# cgroups), overlay storage and run state under /var/tmp/parsl-podman, cgroupfs, file events, no
# network by default, default ulimits capped at the hard limits this sandbox allows. Nothing
# listens: podman is daemonless. The base image localhost/parsl-ci/worker-base is imported from
# the cached root file system of ../container-rootfs/build.sh: no registry pull.
# Root only; idempotent. Clients: . /var/tmp/parsl-podman/env.sh (CONTAINERS_CONF, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
STATE=${PARSL_PODMAN_STATE:-/var/tmp/parsl-podman}
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)
pk="podman runc conmon catatonit"
missing=""
for p in $pk; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"; done
if [ -n "$missing" ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi
mkdir -p "$STATE"/{storage-overlay,run,tmp}
cat > "$STATE/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$STATE/storage-overlay"
runroot = "$STATE/run"
CONF
cat > "$STATE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
cgroups = "enabled"
log_driver = "k8s-file"
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$STATE/events.log"
runtime = "runc"
tmp_dir = "$STATE/tmp"
image_default_transport = "containers-storage:"
CONF
echo "export CONTAINERS_CONF=$STATE/containers.conf CONTAINERS_STORAGE_CONF=$STATE/storage.conf" > "$STATE/env.sh.tmp"
mv "$STATE/env.sh.tmp" "$STATE/env.sh"
. "$STATE/env.sh"
tar=$(bash "$here/../container-rootfs/build.sh")
key=$(basename "$tar" .tar)
if [ "$(podman image inspect --format '{{index .Config.Labels "org.parsl.rootfs"}}' localhost/parsl-ci/worker-base:latest 2>/dev/null)" != "$key" ]; then
  podman import -q --change 'CMD ["/bin/bash"]' --change 'WORKDIR /root' --change "LABEL org.parsl.rootfs=$key" "$tar" localhost/parsl-ci/worker-base:latest >/dev/null
fi
podman run --rm --network none localhost/parsl-ci/worker-base:latest python3 -c 'import ipyparallel'
echo "podman: ready in $(( $(date +%s) - began )) s"
