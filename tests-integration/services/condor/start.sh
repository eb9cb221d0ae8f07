#!/usr/bin/env bash
# A personal HTCondor pool for libsubmit's tests. Debian bookworm has no htcondor package and
# trixie's needs trixie's libc, so this builds a Debian trixie chroot under
# /var/tmp/parsl-condor/root, installs htcondor there and runs condor_master inside it
# (same network namespace; configured for 127.0.0.1 only, IPv6 off).
# HTCondor refuses jobs owned by root, so the host commands in /var/tmp/parsl-condor/bin
# (condor_submit, condor_q, condor_rm, ...) run the chroot's tools as the user parslcondor.
# /var/tmp/parsl-condor/share is bind-mounted at the same path inside the chroot (mode 1777):
# submit files, job scripts and their outputs must live below it.
# Root only; idempotent. ~50 s the first time (debootstrap + apt), ~5 s after.
set -euo pipefail
STATE=/var/tmp/parsl-condor
ROOT=$STATE/root
SHARE=$STATE/share
RUNAS=parslcondor
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)
install -d -m 0755 "$STATE" "$STATE/bin"
install -d -m 1777 "$SHARE"

# the Debian mirror the host already uses
mirror=$(awk '/^URIs:/ && /debian\/?$/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
if [ -z "$mirror" ]; then
  echo "condor: no Debian mirror found in the host's apt sources (needed to debootstrap the trixie chroot)" >&2
  exit 1
fi

if ! command -v debootstrap >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

is_mounted() { awk -v want="$1" '$2 == want {found = 1} END {exit !found}' /proc/mounts; }
mount_chroot() {
  is_mounted "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  if ! is_mounted "$ROOT/dev"; then mount --rbind /dev "$ROOT/dev"; mount --make-rslave "$ROOT/dev"; fi
  mkdir -p "$ROOT$SHARE"
  is_mounted "$ROOT$SHARE" || mount --bind "$SHARE" "$ROOT$SHARE"
}

if [ ! -x "$ROOT/usr/sbin/condor_master" ]; then
  rm -rf "$ROOT"
  debootstrap --variant=minbase trixie "$ROOT" "$mirror" > "$STATE/debootstrap.log" 2>&1
  printf '#!/bin/sh\nexit 101\n' > "$ROOT/usr/sbin/policy-rc.d"; chmod 755 "$ROOT/usr/sbin/policy-rc.d"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  mount_chroot
  chroot "$ROOT" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends htcondor && apt-get clean' > "$STATE/apt.log" 2>&1
fi
cp /etc/hosts "$ROOT/etc/hosts"
mount_chroot

# one user, same uid/gid on the host and in the chroot, so shared files agree
id "$RUNAS" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$RUNAS"
uid=$(id -u "$RUNAS"); gid=$(id -g "$RUNAS")
chroot "$ROOT" getent group "$RUNAS" >/dev/null || chroot "$ROOT" groupadd -g "$gid" "$RUNAS"
chroot "$ROOT" id "$RUNAS" >/dev/null 2>&1 || chroot "$ROOT" useradd --create-home -u "$uid" -g "$gid" -s /bin/bash "$RUNAS"

cat > "$ROOT/etc/condor/config.d/90-parsl-tests.config" <<'CONF'
# written by tests-integration/services/condor/start.sh: one machine, loopback IPv4 only
use ROLE : Personal
CONDOR_HOST = 127.0.0.1
NETWORK_INTERFACE = 127.0.0.1
BIND_ALL_INTERFACES = False
ENABLE_IPV6 = False
use SECURITY : HOST_BASED
ALLOW_READ = 127.0.0.1, localhost, $(FULL_HOSTNAME), $(IP_ADDRESS)
ALLOW_WRITE = $(ALLOW_READ)
ALLOW_DAEMON = $(ALLOW_READ)
ALLOW_NEGOTIATOR = $(ALLOW_READ)
ALLOW_ADMINISTRATOR = $(ALLOW_READ)
SEC_DEFAULT_AUTHENTICATION = OPTIONAL
SEC_DEFAULT_ENCRYPTION = OPTIONAL
SEC_DEFAULT_INTEGRITY = OPTIONAL
UID_DOMAIN = parsl.tests
TRUST_UID_DOMAIN = True
SOFT_UID_DOMAIN = True
# a chroot has no cgroups and cannot make per-job mount or pid namespaces
BASE_CGROUP =
CGROUP_MEMORY_LIMIT_POLICY = none
MOUNT_UNDER_SCRATCH =
USE_PID_NAMESPACES = False
RUNBENCHMARKS = False
# quick turnaround
NEGOTIATOR_INTERVAL = 2
NEGOTIATOR_CYCLE_DELAY = 1
SCHEDD_INTERVAL = 2
STARTER_UPDATE_INTERVAL = 2
UPDATE_INTERVAL = 5
PERIODIC_EXPR_INTERVAL = 5
START = TRUE
SUSPEND = FALSE
PREEMPT = FALSE
KILL = FALSE
CONF

running() { [ -s "$STATE/master.pid" ] && kill -0 "$(cat "$STATE/master.pid")" 2>/dev/null; }
if ! running; then
  chroot "$ROOT" install -d -o condor -g condor /run/condor
  rm -f "$ROOT/run/condor/condor_master.pid"
  chroot "$ROOT" /usr/sbin/condor_master -pidfile /run/condor/condor_master.pid
  for _ in $(seq 100); do [ -s "$ROOT/run/condor/condor_master.pid" ] && break; sleep 0.1; done
  cp "$ROOT/run/condor/condor_master.pid" "$STATE/master.pid"
fi

for tool in condor_submit condor_q condor_rm condor_status condor_history condor_hold condor_release; do
  # condor_submit hands the submit directory to $RUNAS first: block scripts are private to the
  # driver's user (0700, they carry keys), and in this pool the jobs run as $RUNAS, which stands
  # for the driver's user (a real pool runs jobs as their submitter)
  handover=""
  [ "$tool" = condor_submit ] && handover="case \"\$PWD\" in $SHARE/*) chown -R $RUNAS:$RUNAS \"\$PWD\" ;; esac"
  cat > "$STATE/bin/$tool" <<WRAP
#!/bin/sh
# $tool from the HTCondor chroot, run as $RUNAS in the caller's directory (it must be under $SHARE)
$handover
exec chroot --userspec=$RUNAS:$RUNAS "$ROOT" /bin/sh -c 'cd "\$1" 2>/dev/null || cd /; shift; exec "\$@"' sh "\$PWD" $tool "\$@"
WRAP
  chmod 0755 "$STATE/bin/$tool"
done
echo "export PATH=$STATE/bin:\$PATH PARSL_CONDOR_SHARE=$SHARE" > "$STATE/env.sh"

for _ in $(seq 300); do
  [ -n "$(chroot "$ROOT" condor_status -af Name 2>/dev/null)" ] && break
  sleep 0.2
done
chroot "$ROOT" condor_status -af Name State
echo "condor: ready after $(( $(date +%s) - began )) s"
