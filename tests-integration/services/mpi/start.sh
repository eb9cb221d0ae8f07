#!/usr/bin/env bash
# Not a daemon: installs Debian's Open MPI so that libsubmit's mpiexec launcher test runs the
# shell it emits for real (it skips when mpiexec is missing). Root only; idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v mpiexec >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openmpi-bin >/dev/null
fi
mpiexec --version | head -n1
