#!/bin/bash
module load python/3.5.2
export CORES=$(getconf _NPROCESSORS_ONLN)
TASKS_PER_NODE=$(( 2 ))
WORKERCOUNT=$(( TASKS_PER_NODE ))
PIDS=
for COUNT in $(seq 1 $WORKERCOUNT); do
  bash -c worker &
  PIDS="$PIDS $!"
done
rc=0
for pid in $PIDS; do wait "$pid" || { s=$?; [ "$rc" -eq 0 ] && rc=$s; }; done
exit $rc
