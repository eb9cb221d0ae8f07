#!/usr/bin/env bash
# moto's AWS API emulator for libsubmit's EC2 provider tests, on 127.0.0.1:${PARSL_MOTO_PORT:-5555}
# only. moto and its server live in their own venv under /var/tmp/parsl-moto (not the project's
# venv), so the project never imports moto. Idempotent; state is in memory (reset with
# POST /moto-api/reset). Tests read $STATE/env.sh for the endpoint. moto runs no VMs: an
# instance is "running" at once and its user data never runs.
set -euo pipefail
STATE=/var/tmp/parsl-moto
PORT=${PARSL_MOTO_PORT:-5555}
PY=${PYTHON:-python3}
mkdir -p "$STATE"
if [ ! -x "$STATE/venv/bin/moto_server" ]; then
  "$PY" -m venv "$STATE/venv"
  "$STATE/venv/bin/python" -m pip install --disable-pip-version-check -q 'moto[server]>=5,<6'
fi
if ! { [ -s "$STATE/moto.pid" ] && kill -0 "$(cat "$STATE/moto.pid")" 2>/dev/null; }; then
  nohup "$STATE/venv/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$STATE/moto.log" 2>&1 &
  echo $! > "$STATE/moto.pid"
fi
up=0
for _ in $(seq 150); do
  if "$STATE/venv/bin/python" -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PORT/moto-api/', timeout=1)" 2>/dev/null; then up=1; break; fi
  sleep 0.1
done
[ "$up" = 1 ] || { echo "moto did not answer on 127.0.0.1:$PORT; see $STATE/moto.log"; tail -n 20 "$STATE/moto.log"; exit 1; }
echo "export PARSL_MOTO_ENDPOINT=http://127.0.0.1:$PORT" > "$STATE/env.sh"
echo "moto ready on 127.0.0.1:$PORT"
