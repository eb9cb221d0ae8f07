#!/usr/bin/env bash
# Not a daemon: installs Debian's Chromium (driven headless by Playwright in the monitoring
# browser tests; Playwright's own browser download cannot work here) and Graphviz (`dot` draws
# the task graph of monitoring reports). Root only; idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v chromium >/dev/null || ! command -v dot >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium graphviz fonts-dejavu-core >/dev/null
fi
chromium --version
dot -V 2>&1
