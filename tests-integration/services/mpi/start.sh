#!/usr/bin/env bash
# Not a daemon: installs Debian's Open MPI (runtime, mpiexec, and the development files that
# mpi4py builds against when no wheel fits; they bring PMIx, which Slurm's srun --mpi=pmix
# loads). libsubmit's mpiexec launcher test and parsl-executors' Turbine (swift_t) executor
# tests use it. Root only; idempotent.
# Runs before slurm/start.sh in start-all.sh, so a fresh slurmd finds PMIx; a slurmd already
# running when PMIx arrives is told to reconfigure so that it loads it.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
installed=0
if ! command -v mpiexec >/dev/null || ! dpkg-query -W -f='${Status}' libopenmpi-dev 2>/dev/null | grep -q "ok installed"; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends openmpi-bin libopenmpi-dev >/dev/null
  installed=1
fi
if [ "$installed" = 1 ] && command -v scontrol >/dev/null && scontrol ping 2>/dev/null | grep -q UP; then
  scontrol reconfigure || true
fi
mpiexec --version | head -n1
