export CORES=$(getconf _NPROCESSORS_ONLN)
TASKS_PER_NODE=$(( 2 ))
WORKERCOUNT=$(( 3 * TASKS_PER_NODE ))
jsrun -n $WORKERCOUNT -r $TASKS_PER_NODE -a 1 bash -c 'process_worker --url '"'"'tcp://127.0.0.1:5000'"'"' "$HOME"'
