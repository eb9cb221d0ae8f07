#!/usr/bin/env bash
# A private OpenSSH server for libsubmit's channel tests, on 127.0.0.1:${PARSL_SSHD_PORT:-2222}
# only, with its own config, host keys and PAM service; the system sshd is not touched.
# State (keys, known_hosts, TOTP secret, env.sh) lives in /var/tmp/parsl-sshd. Root only;
# idempotent. Test users (test-only passwords):
#   parsl     publickey ($STATE/id_ed25519) or password
#   parsl2fa  keyboard-interactive only: PAM asks the password, then a TOTP verification code
set -euo pipefail
STATE=/var/tmp/parsl-sshd
PORT=${PARSL_SSHD_PORT:-2222}
export DEBIAN_FRONTEND=noninteractive
began=$(date +%s)

missing=""
for p in openssh-server openssh-client libpam-google-authenticator; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  [ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

install -d -m 0755 "$STATE" /run/sshd
# a directory both root (the tests) and the ssh users can write to
install -d -m 1777 "$STATE/share"

for key in ed25519 rsa; do
  [ -s "$STATE/host_$key" ] || ssh-keygen -q -t "$key" -N '' -f "$STATE/host_$key"
done
[ -s "$STATE/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C parsl-tests -f "$STATE/id_ed25519"

for u in parsl parsl2fa; do
  id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$u"
done
echo 'parsl:parsl-test-pw' | chpasswd
echo 'parsl2fa:parsl2fa-test-pw' | chpasswd
install -d -m 0700 -o parsl -g parsl /home/parsl/.ssh
install -m 0600 -o parsl -g parsl "$STATE/id_ed25519.pub" /home/parsl/.ssh/authorized_keys

# RFC 6238 secret for parsl2fa (base32, 30 s steps, 6 digits)
if [ ! -s "$STATE/totp_secret" ]; then
  python3 - > "$STATE/totp_secret" <<'PY'
import base64, secrets
print(base64.b32encode(secrets.token_bytes(10)).decode())
PY
fi
ga=/home/parsl2fa/.google_authenticator
printf '%s\n" TOTP_AUTH\n" WINDOW_SIZE 3\n' "$(cat "$STATE/totp_secret")" > "$ga"
chown parsl2fa:parsl2fa "$ga"; chmod 0400 "$ga"

# OpenSSH names its PAM service after argv[0]: run sshd through a link called parsl-sshd
cat > /etc/pam.d/parsl-sshd <<'PAM'
auth     required   pam_unix.so
auth     required   pam_google_authenticator.so nullok
account  required   pam_unix.so
session  required   pam_permit.so
PAM
ln -sf /usr/sbin/sshd /usr/local/sbin/parsl-sshd

cat > "$STATE/sshd_config" <<CONF
# written by tests-integration/services/sshd/start.sh
ListenAddress 127.0.0.1:$PORT
HostKey $STATE/host_ed25519
HostKey $STATE/host_rsa
PidFile $STATE/sshd.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PermitRootLogin no
AllowUsers parsl parsl2fa
Subsystem sftp internal-sftp
LogLevel VERBOSE
MaxStartups 50:30:100
Match User parsl2fa
    AuthenticationMethods keyboard-interactive
CONF
/usr/local/sbin/parsl-sshd -t -f "$STATE/sshd_config"
if ! { [ -s "$STATE/sshd.pid" ] && kill -0 "$(cat "$STATE/sshd.pid")" 2>/dev/null; }; then
  /usr/local/sbin/parsl-sshd -f "$STATE/sshd_config" -E "$STATE/sshd.log"
fi
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
ssh-keyscan -p "$PORT" 127.0.0.1 2>/dev/null > "$STATE/known_hosts"
[ -s "$STATE/known_hosts" ]
chmod 0644 "$STATE/known_hosts"; chmod 0600 "$STATE/id_ed25519"
cat > "$STATE/env.sh" <<ENV
export PARSL_SSH_HOST=127.0.0.1 PARSL_SSH_PORT=$PORT PARSL_SSH_USER=parsl PARSL_SSH_KEY=$STATE/id_ed25519
export PARSL_SSH_PASSWORD=parsl-test-pw PARSL_SSH_2FA_USER=parsl2fa PARSL_SSH_2FA_PASSWORD=parsl2fa-test-pw
export PARSL_SSH_TOTP_SECRET_FILE=$STATE/totp_secret PARSL_SSH_KNOWN_HOSTS=$STATE/known_hosts PARSL_SSH_SHARE=$STATE/share
ENV
ssh -o BatchMode=yes -o UserKnownHostsFile="$STATE/known_hosts" -i "$STATE/id_ed25519" -p "$PORT" parsl@127.0.0.1 true
echo "sshd: ready on 127.0.0.1:$PORT after $(( $(date +%s) - began )) s"
