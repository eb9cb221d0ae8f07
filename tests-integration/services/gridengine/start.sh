#!/usr/bin/env bash
# A one-host (Son of) Grid Engine from Debian's packages for libsubmit's tests: sge_qmaster and
# sge_execd on 127.0.0.1 (forced with an LD_PRELOAD shim, they have no listen-address option),
# queue all.q with one slot per CPU, root jobs allowed. State/config copies under
# /var/tmp/parsl-sge; `. /var/tmp/parsl-sge/env.sh` sets SGE_ROOT/SGE_CELL. Root only; idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
STATE=/var/tmp/parsl-sge
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)
# qmaster sees this machine's connections as coming from "localhost"
master=localhost
install -d -m 0755 "$STATE" "$STATE/conf"

missing=""
for p in gridengine-master gridengine-exec gridengine-client gcc libc6-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  # the packages' postinst creates the cell when told to through debconf
  for pkg in gridengine-common gridengine-master gridengine-client gridengine-exec; do
    printf '%s shared/gridengineconfig boolean true\n%s shared/gridenginecell string default\n%s shared/gridenginemaster string %s\n' \
      "$pkg" "$pkg" "$pkg" "$master"
  done | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -f "$SGE_ROOT/$SGE_CELL/common/bootstrap" ]; then
  echo "gridengine: the package did not create the cell $SGE_ROOT/$SGE_CELL" >&2
  exit 1
fi

# the client's own host name must resolve to the name qmaster uses for 127.0.0.1
others=$( { hostname; hostname -f 2>/dev/null || true; } | sort -u | grep -vx "$master" | tr '\n' ' ')
echo "$master $others" > "$SGE_ROOT/$SGE_CELL/common/host_aliases"

shim=$STATE/loopback_bind.so
[ -s "$shim" ] || gcc -shared -fPIC -O2 -o "$shim" "$here/lib/loopback_bind.c" -ldl

install -d -o sgeadmin -g sgeadmin /var/run/gridengine
qmaster_pid=/var/spool/gridengine/qmaster/qmaster.pid
if ! { [ -s "$qmaster_pid" ] && kill -0 "$(cat "$qmaster_pid")" 2>/dev/null; }; then
  LD_PRELOAD=$shim /usr/sbin/sge_qmaster
fi
for _ in $(seq 150); do qstat >/dev/null 2>&1 && break; sleep 0.2; done
qstat >/dev/null

# global configuration: allow root's jobs, report finished jobs quickly
qconf -sconf global | sed -e 's/^min_uid .*/min_uid 0/' -e 's/^min_gid .*/min_gid 0/' \
  -e 's/flush_time=[0-9:]*/flush_time=00:00:01/' > "$STATE/conf/global"
qconf -Mconf "$STATE/conf/global" >/dev/null
# scheduler: a pass every second
qconf -ssconf | sed -e 's/^schedule_interval .*/schedule_interval 0:0:1/' \
  -e 's/^flush_submit_sec .*/flush_submit_sec 1/' -e 's/^flush_finish_sec .*/flush_finish_sec 1/' > "$STATE/conf/sched"
qconf -Msconf "$STATE/conf/sched" >/dev/null
qconf -as "$master" >/dev/null 2>&1 || true
cat > "$STATE/conf/exechost" <<CONF
hostname              $master
load_scaling          NONE
complex_values        NONE
user_lists            NONE
xuser_lists           NONE
projects              NONE
xprojects             NONE
usage_scaling         NONE
report_variables      NONE
CONF
qconf -Ae "$STATE/conf/exechost" >/dev/null 2>&1 || qconf -Me "$STATE/conf/exechost" >/dev/null
printf 'group_name @allhosts\nhostlist %s\n' "$master" > "$STATE/conf/allhosts"
qconf -Ahgrp "$STATE/conf/allhosts" >/dev/null 2>&1 || qconf -Mhgrp "$STATE/conf/allhosts" >/dev/null
# parallel environments shipped with the package (smp for multi-slot blocks)
for pe in /usr/share/gridengine/util/resources/pe/*; do qconf -Ap "$pe" >/dev/null 2>&1 || true; done
qconf -sq | sed -e 's/^qname .*/qname all.q/' -e 's/^hostlist .*/hostlist @allhosts/' \
  -e "s/^slots .*/slots $(nproc)/" -e 's|^shell .*|shell /bin/bash|' \
  -e 's/^shell_start_mode .*/shell_start_mode unix_behavior/' -e 's/^pe_list .*/pe_list make smp mpi/' > "$STATE/conf/all.q"
qconf -Aq "$STATE/conf/all.q" >/dev/null 2>&1 || qconf -Mq "$STATE/conf/all.q" >/dev/null

execd_pid=/var/spool/gridengine/execd/$master/execd.pid
if ! { [ -s "$execd_pid" ] && kill -0 "$(cat "$execd_pid")" 2>/dev/null; }; then
  LD_PRELOAD=$shim /usr/sbin/sge_execd
fi
# ready when the queue instance has a load value and no alarm/unknown state
for _ in $(seq 200); do
  line=$(qstat -f -q all.q 2>/dev/null | grep 'all.q@' || true)
  load=$(echo "$line" | awk '{print $4}')
  flags=$(echo "$line" | awk '{print $6}')
  [ -n "$load" ] && [ "$load" != "-NA-" ] && [ -z "$flags" ] && break
  sleep 0.2
done
qmod -c all.q >/dev/null 2>&1 || true
printf 'export SGE_ROOT=%s SGE_CELL=%s\n' "$SGE_ROOT" "$SGE_CELL" > "$STATE/env.sh"
qstat -f -q all.q | grep 'all.q@'
echo "gridengine: ready after $(( $(date +%s) - began )) s"
