#!/usr/bin/env bash
# A one-node Slurm cluster for libsubmit's integration tests: munge + slurmctld + slurmd, all
# bound to 127.0.0.1, state under /var/tmp/parsl-slurm. Idempotent: daemons already running
# (by their PID files) are left alone. Root only.
#   SLURM_TORQUE=0  skip unpacking Slurm's Torque wrappers (qsub/qstat/qdel) into
#                   /opt/parsl-slurm-torque (the deb conflicts with gridengine-client, so it is
#                   unpacked, not installed)
set -euo pipefail
STATE=/var/tmp/parsl-slurm
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)

apt_updated=0
apt_update_once() { [ "$apt_updated" = 1 ] || { apt-get update -qq; apt_updated=1; }; }

need_pkgs=""
want="slurmctld slurmd slurm-client munge"
# the Torque wrappers are Perl scripts that need Slurm's Perl modules
[ "${SLURM_TORQUE:-1}" = 1 ] && want="$want libslurm-perl libslurmdb-perl libswitch-perl"
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need_pkgs="$need_pkgs $p"
done
if [ -n "$need_pkgs" ]; then
  # keep apt from starting the packaged daemons: we start our own
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt_update_once
  apt-get install -y -qq --no-install-recommends $need_pkgs >/dev/null
fi

if [ "${SLURM_TORQUE:-1}" = 1 ] && [ ! -x /opt/parsl-slurm-torque/usr/bin/qsub ]; then
  apt_update_once
  dl=$(mktemp -d); chmod 0777 "$dl"
  (cd "$dl" && apt-get download -qq slurm-wlm-torque >/dev/null)
  dpkg-deb -x "$dl"/slurm-wlm-torque_*.deb /opt/parsl-slurm-torque
  rm -rf "$dl"
  # the wrappers look for the Slurm commands next to themselves
  for c in sbatch squeue scancel scontrol sacct srun sinfo salloc; do
    ln -sf "/usr/bin/$c" "/opt/parsl-slurm-torque/usr/bin/$c"
  done
fi

install -d -m 0755 "$STATE" "$STATE/pids" "$STATE/spool-d"
install -d -m 0755 -o slurm -g slurm "$STATE/spool-ctld" "$STATE/log"

# munge: the authentication daemon Slurm needs
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
if [ ! -s /etc/munge/munge.key ]; then
  head -c 1024 /dev/urandom > /etc/munge/munge.key
fi
chown munge:munge /etc/munge/munge.key; chmod 0400 /etc/munge/munge.key
if ! munge -n >/dev/null 2>&1; then
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  for _ in $(seq 100); do munge -n >/dev/null 2>&1 && break; sleep 0.1; done
  cp /run/munge/munged.pid "$STATE/pids/munged.pid"
fi
munge -n | unmunge >/dev/null

cpus=$(nproc)
mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
# written by tests-integration/services/slurm/start.sh
ClusterName=parslci
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=6817
SlurmdPort=6818
# listen on the address localhost resolves to, never on 0.0.0.0
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
AuthType=auth/munge
CredType=cred/munge
SlurmUser=slurm
SlurmdUser=root
StateSaveLocation=$STATE/spool-ctld
SlurmdSpoolDir=$STATE/spool-d
SlurmctldPidFile=$STATE/pids/slurmctld.pid
SlurmdPidFile=$STATE/pids/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# no cgroups on these machines
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
# without it the first job takes all the memory and the next ones pend
DefMemPerCPU=256
ReturnToService=2
InactiveLimit=0
# keep finished jobs visible to squeue for 5 minutes
MinJobAge=300
KillWait=2
Waittime=0
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
NodeName=localhost NodeAddr=127.0.0.1 NodeHostname=localhost CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
chmod 0644 /etc/slurm/slurm.conf

running() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
running "$STATE/pids/slurmctld.pid" || /usr/sbin/slurmctld -i
running "$STATE/pids/slurmd.pid" || /usr/sbin/slurmd -N localhost

state=unknown
for _ in $(seq 150); do
  state=$(sinfo --noheader --Node --format=%t 2>/dev/null | head -n1 || true)
  case "$state" in idle|mix|alloc) break ;; esac
  sleep 0.2
done
case "$state" in
  idle|mix|alloc) ;;
  *) scontrol update NodeName=localhost State=RESUME >/dev/null 2>&1 || true
     sleep 1
     state=$(sinfo --noheader --Node --format=%t | head -n1) ;;
esac
echo "slurm: node localhost is $state after $(( $(date +%s) - began )) s"
case "$state" in idle|mix|alloc) exit 0 ;; *) exit 1 ;; esac
