export CORES=$(getconf _NPROCESSORS_ONLN)
TASKS_PER_NODE=$(( 2 ))
WORKERCOUNT=$(( TASKS_PER_NODE ))
NODES_PER_WORKER=$(( 3 / WORKERCOUNT ))
[ "$NODES_PER_WORKER" -ge 1 ] || NODES_PER_WORKER=1
export NODES_PER_WORKER
PIDS=
for COUNT in $(seq 1 $WORKERCOUNT); do
  srun --exclusive --nodes=$NODES_PER_WORKER --ntasks=1 bash -c 'process_worker --url '"'"'tcp://127.0.0.1:5000'"'"' "$HOME"' &
  PIDS="$PIDS $!"
done
rc=0
for pid in $PIDS; do wait "$pid" || { s=$?; [ "$rc" -eq 0 ] && rc=$s; }; done
exit $rc
