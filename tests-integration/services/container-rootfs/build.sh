#!/usr/bin/env bash
# The root file system of the container tests' base image, built once per machine and cached:
# debootstrap bookworm (minbase) + python3, plus the third-party dependencies of a worker
# (parsl-core and parsl-executors[ipp]: cloudpickle, ipyparallel, ...) installed with pip from
# the package index. The project's own code is NOT baked in: the tests build its wheels in the
# run and layer them on top (tests-integration/container_images.py), so the image never runs
# stale code. No container registry is contacted.
# Usage: build.sh  -> prints the path of the cached tarball (its name holds the cache key)
#   PARSL_ROOTFS_CACHE   cache directory (default /var/tmp/parsl-ci-rootfs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
CACHE=${PARSL_ROOTFS_CACHE:-/var/tmp/parsl-ci-rootfs}
# the cache key: the worker's declared dependencies (a change rebuilds the root file system)
key=$(grep -h -E '^(dependencies|ipp) *=' "$repo/packages/parsl-core/pyproject.toml" "$repo/packages/parsl-executors/pyproject.toml" | sha256sum | cut -c1-12)
TAR=$CACHE/bookworm-python3-ipp-$key.tar
mkdir -p "$CACHE"
# one builder at a time (docker and podman share the cache)
exec 9>"$CACHE/.lock"
flock 9
if [ -s "$TAR" ]; then echo "$TAR"; exit 0; fi
export DEBIAN_FRONTEND=noninteractive
need=""
command -v debootstrap >/dev/null || need="$need debootstrap"
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || need="$need python3-venv"
if [ -n "$need" ]; then
  apt-get install -y -qq --no-install-recommends $need >/dev/null 2>&1 || { apt-get update -qq; apt-get install -y -qq --no-install-recommends $need >/dev/null; }
fi
mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || { echo "container-rootfs: no Debian mirror in the host's apt sources" >&2; exit 1; }
work=$(mktemp -d "$CACHE/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=python3 bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; exit 1; }
rm -rf "$work"/rootfs/var/cache/apt/archives/*.deb "$work"/rootfs/var/lib/apt/lists/*
pyver=$(chroot "$work/rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
hostver=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = "$hostver" ] || { echo "container-rootfs: image python $pyver differs from host python $hostver (wheels would not match)" >&2; exit 1; }
# a throw-away pip on the host installs the worker's dependencies into the image's dist-packages
/usr/bin/python3 -m venv "$work/pip"
site=$work/rootfs/usr/local/lib/python$pyver/dist-packages
"$work/pip/bin/pip" install -q --target "$site" "$repo/packages/parsl-core" "$repo/packages/parsl-executors[ipp]"
# the project's own packages come from the wheels each test run builds
rm -rf "$site"/parsl "$site"/parsl_executors "$site"/parsl_core-*.dist-info "$site"/parsl_executors-*.dist-info "$site"/bin
chroot "$work/rootfs" python3 -c 'import ipyparallel, cloudpickle' 
tar -C "$work/rootfs" -cf "$TAR.tmp" . && mv "$TAR.tmp" "$TAR"
echo "$TAR"
