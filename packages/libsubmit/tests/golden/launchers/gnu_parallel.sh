export CORES=$(getconf _NPROCESSORS_ONLN)
TASKS_PER_NODE=$(( 2 ))
WORKERCOUNT=$(( 3 * TASKS_PER_NODE ))
seq 1 $WORKERCOUNT | parallel --will-cite --halt now,fail=1 --jobs $TASKS_PER_NODE --sshloginfile "${PARSL_NODEFILE:-$PBS_NODEFILE}" -N0 bash -c 'process_worker --url '"'"'tcp://127.0.0.1:5000'"'"' "$HOME"'
